// IPv6 addresses, MACs and director configs for the IPv6 golden tests: the
// three topologies of topo.ts (NAT with an outside and an inside port, DR
// and TUN on one LAN behind a router), on documentation prefixes
// (2001:db8::/32). The frame helpers build every expected frame from scratch.
import { DEFAULT_OPTIONS, type DirectorConfig, type ServiceConfig } from '../../src/model/config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, type Fwd } from '../../src/model/dest.js';
import { parseMac as mac } from '../../src/wire/addr.js';
import { parseIp6 } from '../../src/wire/addr6.js';
import { eth, type PacketBuilder } from '../../src/wire/builder.js';

export { mac };
export const ip6 = (s: string): Uint32Array => parseIp6(s);

/** Remote clients, reached through the router on the director's client side. */
export const CLIENT6 = '2001:db8:ff::7';
export const CLIENT6B = '2001:db8:fe::9';

export const NAT6 = {
  outMac: '02:00:00:00:00:01',
  inMac: '02:00:00:00:00:02',
  /** fe80:: + EUI-64 of the port MACs (universal/local bit flipped, ff:fe in the middle). */
  outLl: 'fe80::ff:fe00:1',
  inLl: 'fe80::ff:fe00:2',
  outAddr: '2001:db8:0:1::1',
  inAddr: '2001:db8:0:10::1',
  vip: '2001:db8:0:1::100',
  router: '2001:db8:0:1::fe',
  routerMac: '02:00:00:00:00:fe',
  rs1: '2001:db8:0:10::11',
  rs1Mac: '02:00:00:00:10:11',
  rs2: '2001:db8:0:10::12',
  rs2Mac: '02:00:00:00:10:12',
  other: '2001:db8:0:10::50',
  otherMac: '02:00:00:00:10:50',
} as const;

export const DR6 = {
  mac: '02:00:00:00:01:01',
  ll: 'fe80::ff:fe00:101',
  addr: '2001:db8:1::2',
  vip: '2001:db8:1::100',
  router: '2001:db8:1::1',
  routerMac: '02:00:00:00:01:fe',
  rs1: '2001:db8:1::11',
  rs1Mac: '02:00:00:00:01:11',
  rs2: '2001:db8:1::12',
  rs2Mac: '02:00:00:00:01:12',
} as const;

export const TUN6 = {
  mac: '02:00:00:00:02:01',
  ll: 'fe80::ff:fe00:201',
  addr: '2001:db8:2::2',
  vip: '2001:db8:2::100',
  gw: '2001:db8:2::1', // towards the real servers' networks
  gwMac: '02:00:00:00:02:f1',
  router: '2001:db8:2::fe', // default route, towards clients
  routerMac: '02:00:00:00:02:fe',
  rs1: '2001:db8:20:1::5',
  rs2: '2001:db8:20:2::5',
} as const;

export interface Svc6Opts {
  proto?: 'tcp' | 'udp';
  port?: number;
  scheduler?: string;
  persistent?: number;
  prefix6?: number;
  dests: { addr: string; port: number; weight?: number }[];
}

function svc(vip: string, fwd: Fwd, o: Svc6Opts): ServiceConfig {
  return {
    proto: o.proto === 'udp' ? 17 : 6,
    addr: 0,
    addr6: ip6(vip),
    port: o.port ?? 80,
    scheduler: o.scheduler ?? 'rr',
    persistent: o.persistent ?? 0,
    ...(o.prefix6 !== undefined ? { prefix6: o.prefix6 } : {}),
    dests: o.dests.map((d) => ({ addr: 0, addr6: ip6(d.addr), port: d.port, weight: d.weight ?? 1, fwd })),
  };
}

function base(): Omit<DirectorConfig, 'ports' | 'vips' | 'routes' | 'services'> {
  return {
    marks: [],
    timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
    options: { ...DEFAULT_OPTIONS, maxConns: 4096 },
    healthChecks: [],
  };
}

export interface Topo6Opts {
  services: Svc6Opts[];
  /** Static neighbours; default: every router and real server is known. */
  staticNeighbours?: boolean;
  mtu?: number;
  /** NAT: the inside port's MTU (default: mtu). */
  insideMtu?: number;
}

const neigh = (a: string, m: string) => ({ addr: 0, addr6: ip6(a), mac: mac(m) });

export function nat6Config(o: Topo6Opts): DirectorConfig {
  return {
    ...base(),
    ports: [
      { name: 'outside', kind: 'memory', mac: mac(NAT6.outMac), addrs: [], addrs6: [{ addr: ip6(NAT6.outAddr), prefix: 64 }], mtu: o.mtu ?? 1500 },
      { name: 'inside', kind: 'memory', mac: mac(NAT6.inMac), addrs: [], addrs6: [{ addr: ip6(NAT6.inAddr), prefix: 64 }], mtu: o.insideMtu ?? o.mtu ?? 1500 },
    ],
    vips: [{ addr: 0, addr6: ip6(NAT6.vip), port: 'outside' }],
    routes: [{ dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6(NAT6.router) }],
    services: o.services.map((s) => svc(NAT6.vip, FWD_MASQ, s)),
    neighbours: o.staticNeighbours === false ? [] : [
      neigh(NAT6.router, NAT6.routerMac), neigh(NAT6.rs1, NAT6.rs1Mac), neigh(NAT6.rs2, NAT6.rs2Mac), neigh(NAT6.other, NAT6.otherMac),
    ],
  };
}

export function dr6Config(o: Topo6Opts): DirectorConfig {
  return {
    ...base(),
    ports: [{ name: 'lan', kind: 'memory', mac: mac(DR6.mac), addrs: [], addrs6: [{ addr: ip6(DR6.addr), prefix: 64 }], mtu: o.mtu ?? 1500 }],
    vips: [{ addr: 0, addr6: ip6(DR6.vip), port: 'lan' }],
    routes: [{ dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6(DR6.router) }],
    services: o.services.map((s) => svc(DR6.vip, FWD_DR, s)),
    neighbours: o.staticNeighbours === false ? [] : [
      neigh(DR6.router, DR6.routerMac), neigh(DR6.rs1, DR6.rs1Mac), neigh(DR6.rs2, DR6.rs2Mac),
    ],
  };
}

export function tun6Config(o: Topo6Opts): DirectorConfig {
  return {
    ...base(),
    ports: [{ name: 'uplink', kind: 'memory', mac: mac(TUN6.mac), addrs: [], addrs6: [{ addr: ip6(TUN6.addr), prefix: 64 }], mtu: o.mtu ?? 1500 }],
    vips: [{ addr: 0, addr6: ip6(TUN6.vip), port: 'uplink' }],
    routes: [
      { dst: 0, prefix: 48, via: 0, dst6: ip6('2001:db8:20::'), via6: ip6(TUN6.gw) },
      { dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6(TUN6.router) },
    ],
    services: o.services.map((s) => svc(TUN6.vip, FWD_TUN, s)),
    neighbours: o.staticNeighbours === false ? [] : [neigh(TUN6.gw, TUN6.gwMac), neigh(TUN6.router, TUN6.routerMac)],
  };
}

export { FWD_DR, FWD_MASQ, FWD_TUN };

// ---------------------------------------------------------------- frames

export interface Ip6Spec {
  smac: string;
  dmac: string;
  src: string;
  dst: string;
  hopLimit?: number;
  tc?: number;
  flowLabel?: number;
}

export interface Tcp6Spec extends Ip6Spec {
  sport: number;
  dport: number;
  flags: string;
  seq?: number;
  ack?: number;
  payload?: string | Uint8Array;
  options?: number[];
}

export interface Udp6Spec extends Ip6Spec {
  sport: number;
  dport: number;
  payload?: string | Uint8Array;
  /** A UDP checksum field to write instead of the computed one (0: "none", invalid over IPv6). */
  checksum?: number;
}

/** The Ethernet and IPv6 layers of a spec; `ext` adds extension headers between IPv6 and the upper layer. */
export function ip6Layers(s: Ip6Spec, ext?: (b: PacketBuilder) => PacketBuilder): PacketBuilder {
  const b = eth({ src: s.smac, dst: s.dmac }).ipv6({ src: s.src, dst: s.dst, hopLimit: s.hopLimit ?? 64, tc: s.tc ?? 0, flowLabel: s.flowLabel ?? 0 });
  return ext ? ext(b) : b;
}

export function tcp6Frame(s: Tcp6Spec, ext?: (b: PacketBuilder) => PacketBuilder): Uint8Array {
  return ip6Layers(s, ext).tcp({
    sport: s.sport, dport: s.dport, flags: s.flags, seq: s.seq ?? 0, ack: s.ack ?? 0,
    ...(s.options ? { options: s.options } : {}),
    ...(s.payload !== undefined ? { payload: s.payload } : {}),
  }).build();
}

export function udp6Frame(s: Udp6Spec, ext?: (b: PacketBuilder) => PacketBuilder): Uint8Array {
  return ip6Layers(s, ext).udp({
    sport: s.sport, dport: s.dport, payload: s.payload ?? '', ...(s.checksum !== undefined ? { checksum: s.checksum } : {}),
  }).build();
}

/** The IPv6 packet of a frame (what a tunnel carries, what an ICMPv6 error quotes). */
export const ipPart = (frame: Uint8Array): Uint8Array => frame.subarray(14);
