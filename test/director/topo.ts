// Addresses, MACs and director configs shared by the golden tests. The
// three topologies follow DESIGN.md's lab: NAT with an outside and an inside
// port, DR and TUN on one LAN behind a router.
import { DEFAULT_OPTIONS, type DirectorConfig, type ServiceConfig } from '../../src/model/config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, type Fwd } from '../../src/model/dest.js';
import { parseIp as ip, parseMac as mac } from '../../src/wire/addr.js';

export { ip, mac };

/** A remote client, reached through the router on the director's client side. */
export const CLIENT = '203.0.113.7';
export const CLIENT2 = '198.51.100.9';

export const NAT = {
  outMac: '02:00:00:00:00:01',
  inMac: '02:00:00:00:00:02',
  outAddr: '10.0.0.1',
  inAddr: '192.168.10.1',
  vip: '10.0.0.100',
  router: '10.0.0.254',
  routerMac: '02:00:00:00:00:fe',
  rs1: '192.168.10.11',
  rs1Mac: '02:00:00:00:10:11',
  rs2: '192.168.10.12',
  rs2Mac: '02:00:00:00:10:12',
  /** an inside host that is no real server */
  other: '192.168.10.50',
  otherMac: '02:00:00:00:10:50',
} as const;

export const DR = {
  mac: '02:00:00:00:01:01',
  addr: '10.1.0.2',
  vip: '10.1.0.100',
  router: '10.1.0.1',
  routerMac: '02:00:00:00:01:fe',
  rs1: '10.1.0.11',
  rs1Mac: '02:00:00:00:01:11',
  rs2: '10.1.0.12',
  rs2Mac: '02:00:00:00:01:12',
} as const;

export const TUN = {
  mac: '02:00:00:00:02:01',
  addr: '172.16.0.2',
  vip: '172.16.0.100',
  gw: '172.16.0.1', // towards the real servers' networks
  gwMac: '02:00:00:00:02:f1',
  router: '172.16.0.254', // default route, towards clients
  routerMac: '02:00:00:00:02:fe',
  rs1: '10.20.1.5',
  rs2: '10.20.2.5',
} as const;

export interface SvcOpts {
  proto?: 'tcp' | 'udp';
  port?: number;
  scheduler?: string;
  persistent?: number;
  dests: { addr: string; port: number; weight?: number }[];
}

function svc(vip: string, fwd: Fwd, o: SvcOpts): ServiceConfig {
  return {
    proto: o.proto === 'udp' ? 17 : 6,
    addr: ip(vip),
    port: o.port ?? 80,
    scheduler: o.scheduler ?? 'rr',
    persistent: o.persistent ?? 0,
    dests: o.dests.map((d) => ({ addr: ip(d.addr), port: d.port, weight: d.weight ?? 1, fwd })),
  };
}

function base(): Omit<DirectorConfig, 'ports' | 'vips' | 'routes' | 'services'> {
  return {
    marks: [],
    timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
    // a small table: the default preallocates a million slots per director, and tests make hundreds
    options: { ...DEFAULT_OPTIONS, maxConns: 4096 },
    healthChecks: [],
  };
}

export interface TopoOpts {
  services: SvcOpts[];
  /** Static neighbours; default: every router and real server is known. */
  staticNeighbours?: boolean;
  mtu?: number;
}

export function natConfig(o: TopoOpts): DirectorConfig {
  return {
    ...base(),
    ports: [
      { name: 'outside', kind: 'memory', mac: mac(NAT.outMac), addrs: [{ addr: ip(NAT.outAddr), prefix: 24 }], mtu: o.mtu ?? 1500 },
      { name: 'inside', kind: 'memory', mac: mac(NAT.inMac), addrs: [{ addr: ip(NAT.inAddr), prefix: 24 }], mtu: o.mtu ?? 1500 },
    ],
    vips: [{ addr: ip(NAT.vip), port: 'outside' }],
    routes: [{ dst: 0, prefix: 0, via: ip(NAT.router) }],
    services: o.services.map((s) => svc(NAT.vip, FWD_MASQ, s)),
    neighbours: o.staticNeighbours === false ? [] : [
      { addr: ip(NAT.router), mac: mac(NAT.routerMac) },
      { addr: ip(NAT.rs1), mac: mac(NAT.rs1Mac) },
      { addr: ip(NAT.rs2), mac: mac(NAT.rs2Mac) },
      { addr: ip(NAT.other), mac: mac(NAT.otherMac) },
    ],
  };
}

export function drConfig(o: TopoOpts): DirectorConfig {
  return {
    ...base(),
    ports: [{ name: 'lan', kind: 'memory', mac: mac(DR.mac), addrs: [{ addr: ip(DR.addr), prefix: 24 }], mtu: o.mtu ?? 1500 }],
    vips: [{ addr: ip(DR.vip), port: 'lan' }],
    routes: [{ dst: 0, prefix: 0, via: ip(DR.router) }],
    services: o.services.map((s) => svc(DR.vip, FWD_DR, s)),
    neighbours: o.staticNeighbours === false ? [] : [
      { addr: ip(DR.router), mac: mac(DR.routerMac) },
      { addr: ip(DR.rs1), mac: mac(DR.rs1Mac) },
      { addr: ip(DR.rs2), mac: mac(DR.rs2Mac) },
    ],
  };
}

export function tunConfig(o: TopoOpts): DirectorConfig {
  return {
    ...base(),
    ports: [{ name: 'uplink', kind: 'memory', mac: mac(TUN.mac), addrs: [{ addr: ip(TUN.addr), prefix: 24 }], mtu: o.mtu ?? 1500 }],
    vips: [{ addr: ip(TUN.vip), port: 'uplink' }],
    routes: [
      { dst: ip('10.20.0.0'), prefix: 16, via: ip(TUN.gw) },
      { dst: 0, prefix: 0, via: ip(TUN.router) },
    ],
    services: o.services.map((s) => svc(TUN.vip, FWD_TUN, s)),
    neighbours: o.staticNeighbours === false ? [] : [
      { addr: ip(TUN.gw), mac: mac(TUN.gwMac) },
      { addr: ip(TUN.router), mac: mac(TUN.routerMac) },
    ],
  };
}

export { FWD_DR, FWD_MASQ, FWD_TUN };
