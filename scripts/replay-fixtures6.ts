// The IPv6 replay fixtures, one or more per mode, called by
// scripts/make-replay-fixtures.ts (which writes them with the others):
//
//   npx tsx scripts/make-replay-fixtures.ts nat6-http dr6-http ...
//
// As for IPv4, both captures are built with the packet builder from what each
// mode must do (NAT6 rewrites of address, port and transport checksum; DR6 a
// new destination MAC; TUN6 an outer IPv6 header, ip6ip6), never by running
// the director. Every frame toward a real server has one hop less (the
// kernel's decrement_ttl). The configs are IPv6 only: the director starts
// with unsolicited neighbour advertisements (link-local, addresses, VIPs of
// each port) and resolves next hops with neighbour solicitations.
import { eth } from '../src/wire/builder.js';

export interface Frame6 { t: number; port: number; frame: Uint8Array }
export interface Case6 {
  name: string;
  mode: string;
  about: string;
  conf: string;
  ports: string[];
  format: 'pcap' | 'pcapng';
  input: Frame6[];
  expected: Frame6[];
}

const CLIENT6 = '2001:db8:ff::7';
const ALL_NODES = 'ff02::1';
const ALL_NODES_MAC = '33:33:00:00:00:01';

interface Seg { flags: string; seq: number; ack: number; payload?: string }
interface Ends6 { smac: string; dmac: string; src: string; dst: string; sport: number; dport: number; hop: number }

function tcp6(e: Ends6, s: Seg): Uint8Array {
  return eth({ src: e.smac, dst: e.dmac })
    .ipv6({ src: e.src, dst: e.dst, hopLimit: e.hop })
    .tcp({ sport: e.sport, dport: e.dport, flags: s.flags, seq: s.seq, ack: s.ack, ...(s.payload ? { payload: s.payload } : {}) })
    .build();
}

/** The solicited-node multicast group of an address (ff02::1:ffXX:XXXX) and its MAC (33:33:ff:XX:XX:XX). */
function solicitedNode(addr: string): { ip: string; mac: string } {
  const g = addr.split(':');
  const last = g[g.length - 1]!.padStart(4, '0');
  const prev = (g[g.length - 2] || '0').padStart(4, '0');
  const lo24 = `${prev.slice(2)}${last}`;
  const hex = (s: string) => parseInt(s, 16).toString(16);
  return { ip: `ff02::1:ff${lo24.slice(0, 2)}:${hex(lo24.slice(2))}`, mac: `33:33:ff:${lo24.slice(0, 2)}:${lo24.slice(2, 4)}:${lo24.slice(4, 6)}` };
}

/** The director's neighbour solicitation for `target`: to its solicited-node group, hop limit 255, our MAC as the source link-layer option. */
function nsOut(mac: string, src: string, target: string): Uint8Array {
  const g = solicitedNode(target);
  return eth({ src: mac, dst: g.mac }).ipv6({ src, dst: g.ip, hopLimit: 255 })
    .icmpv6({ type: 135, target, options: [{ sll: mac }] }).build();
}
/** A neighbour's answer to it: solicited (and router for routers), override, its MAC as the target link-layer option. */
function naIn(mac: string, addr: string, toMac: string, to: string, router: boolean): Uint8Array {
  return eth({ src: mac, dst: toMac }).ipv6({ src: addr, dst: to, hopLimit: 255 })
    .icmpv6({ type: 136, target: addr, flags: router ? 'RSO' : 'SO', options: [{ tll: mac }] }).build();
}
/** What the director announces at start, for each address: to all-nodes, router and override set, not solicited. */
function naAnnounce(mac: string, addr: string): Uint8Array {
  return eth({ src: mac, dst: ALL_NODES_MAC }).ipv6({ src: addr, dst: ALL_NODES, hopLimit: 255 })
    .icmpv6({ type: 136, target: addr, flags: 'RO', options: [{ tll: mac }] }).build();
}

const handshake: [Seg, 'c' | 's'][] = [
  [{ flags: 'S', seq: 100, ack: 0 }, 'c'],
  [{ flags: 'SA', seq: 900, ack: 101 }, 's'],
  [{ flags: 'A', seq: 101, ack: 901 }, 'c'],
  [{ flags: 'PA', seq: 101, ack: 901, payload: 'GET / HTTP/1.0\r\n\r\n' }, 'c'],
  [{ flags: 'PA', seq: 901, ack: 119, payload: 'HTTP/1.0 200 OK\r\n\r\nrs1\n' }, 's'],
  [{ flags: 'FA', seq: 119, ack: 924 }, 'c'],
  [{ flags: 'FA', seq: 924, ack: 120 }, 's'],
  [{ flags: 'A', seq: 120, ack: 925 }, 'c'],
];

// ---------------------------------------------------------------- NAT6

const N = {
  out: '02:00:00:00:00:01', in: '02:00:00:00:00:02', router: '02:00:00:00:00:fe', rs1: '02:00:00:00:10:11',
  // fe80:: + the EUI-64 of each port's MAC
  outLl: 'fe80::ff:fe00:1', inLl: 'fe80::ff:fe00:2',
  outAddr: '2001:db8:0:1::1', inAddr: '2001:db8:0:10::1', vip: '2001:db8:0:1::100', routerIp: '2001:db8:0:1::fe', rs1Ip: '2001:db8:0:10::11',
};

function nat6Conf(title: string, body: string, neigh: boolean): string {
  return `# replay fixture: ${title}
port outside kind=memory mac=${N.out} addr=${N.outAddr}/64
port inside  kind=memory mac=${N.in} addr=${N.inAddr}/64
vip ${N.vip} on outside
route default via ${N.routerIp}
${neigh ? `neigh ${N.routerIp} ${N.router}\nneigh ${N.rs1Ip} ${N.rs1}\n` : ''}
${body}`;
}

function nat6Announce(t: number): Frame6[] {
  return [
    { t, port: 0, frame: naAnnounce(N.out, N.outLl) },
    { t, port: 0, frame: naAnnounce(N.out, N.outAddr) },
    { t, port: 0, frame: naAnnounce(N.out, N.vip) },
    { t, port: 1, frame: naAnnounce(N.in, N.inLl) },
    { t, port: 1, frame: naAnnounce(N.in, N.inAddr) },
  ];
}

function nat6Http(): Case6 {
  const conf = nat6Conf('LVS-NAT for IPv6, one HTTP connection, next hops resolved by neighbour discovery', `-A -t [${N.vip}]:80 -s rr
-a -t [${N.vip}]:80 -r [${N.rs1Ip}]:8080 -m -w 1
`, false);
  const cIn: Ends6 = { smac: N.router, dmac: N.out, src: CLIENT6, dst: N.vip, sport: 45000, dport: 80, hop: 58 };
  // toward the real server: destination address and port rewritten (the TCP checksum with them), one hop less
  const cOut: Ends6 = { ...cIn, smac: N.in, dmac: N.rs1, dst: N.rs1Ip, dport: 8080, hop: 57 };
  const sIn: Ends6 = { smac: N.rs1, dmac: N.in, src: N.rs1Ip, dst: CLIENT6, sport: 8080, dport: 45000, hop: 64 };
  const sOut: Ends6 = { ...sIn, smac: N.out, dmac: N.router, src: N.vip, sport: 80, hop: 63 };
  const input: Frame6[] = [];
  const expected: Frame6[] = [];
  let t = 0;
  handshake.forEach(([seg, who], i) => {
    t += 10;
    if (who === 'c') {
      input.push({ t, port: 0, frame: tcp6(cIn, seg) });
      if (i === 0) {
        // the first frame starts the director (its advertisements), then it solicits the real server: the held
        // SYN's source (the client) is not one of its addresses, so from the inside port's link-local address
        expected.push(...nat6Announce(t), { t, port: 1, frame: nsOut(N.in, N.inLl, N.rs1Ip) });
        t += 1;
        input.push({ t, port: 1, frame: naIn(N.rs1, N.rs1Ip, N.in, N.inLl, false) });
      }
      expected.push({ t, port: 1, frame: tcp6(cOut, seg) });
    } else {
      input.push({ t, port: 1, frame: tcp6(sIn, seg) });
      if (i === 1) {
        // the rewritten SYN-ACK waits for the router: its source is now the VIP, an address of the outside
        // port, so the solicitation comes from the VIP (as Linux's ndisc_solicit takes the packet's source)
        expected.push({ t, port: 0, frame: nsOut(N.out, N.vip, N.routerIp) });
        t += 1;
        input.push({ t, port: 0, frame: naIn(N.router, N.routerIp, N.out, N.vip, true) });
      }
      expected.push({ t, port: 0, frame: tcp6(sOut, seg) });
    }
  });
  return {
    name: 'nat6-http', mode: 'NAT',
    about: 'IPv6: advertisements at start; SYN held while the real server is solicited (from the inside link-local) and advertises; SYN-ACK held while the router is solicited (from the VIP); one HTTP exchange and close, address, port and TCP checksum rewritten both ways, hop limit − 1',
    conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected,
  };
}

function nat6IcmpFromRs(): Case6 {
  const conf = nat6Conf('LVS-NAT for IPv6, a real server\'s ICMPv6 error about a UDP datagram', `-A -u [${N.vip}]:9000 -s rr
-a -u [${N.vip}]:9000 -r [${N.rs1Ip}]:9001 -m -w 1
`, true);
  const q = { sport: 40000, payload: 'query?' };
  const asSent = eth({ src: N.router, dst: N.out }).ipv6({ src: CLIENT6, dst: N.vip, hopLimit: 58 })
    .udp({ sport: q.sport, dport: 9000, payload: q.payload }).build();
  const atRs = eth({ src: N.in, dst: N.rs1 }).ipv6({ src: CLIENT6, dst: N.rs1Ip, hopLimit: 57 })
    .udp({ sport: q.sport, dport: 9001, payload: q.payload }).build();
  // the real server has nothing on 9001: port unreachable to the client, quoting the datagram as it got it
  const err = eth({ src: N.rs1, dst: N.in }).ipv6({ src: N.rs1Ip, dst: CLIENT6, hopLimit: 64 })
    .icmpv6({ type: 1, code: 4 }).payload(atRs.subarray(14)).build();
  // to the client from the VIP, one hop less; the quote as the client sent it but for the hop it took:
  // destination VIP, port 9000, the UDP checksum with them; the ICMPv6 checksum over the new addresses
  const quoted = eth({ src: N.router, dst: N.out }).ipv6({ src: CLIENT6, dst: N.vip, hopLimit: 57 })
    .udp({ sport: q.sport, dport: 9000, payload: q.payload }).build();
  const out = eth({ src: N.out, dst: N.router }).ipv6({ src: N.vip, dst: CLIENT6, hopLimit: 63 })
    .icmpv6({ type: 1, code: 4 }).payload(quoted.subarray(14)).build();
  const input: Frame6[] = [{ t: 10, port: 0, frame: asSent }, { t: 11, port: 1, frame: err }];
  const expected: Frame6[] = [...nat6Announce(10), { t: 10, port: 1, frame: atRs }, { t: 11, port: 0, frame: out }];
  return {
    name: 'nat6-icmp-from-rs', mode: 'NAT',
    about: 'IPv6: a real server\'s ICMPv6 port unreachable about a UDP datagram goes to the client from the VIP: quoted destination and port, quoted UDP checksum and ICMPv6 checksum rewritten, hop limit − 1',
    conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected,
  };
}

// ---------------------------------------------------------------- DR6

const D = {
  lan: '02:00:00:00:01:01', router: '02:00:00:00:01:fe', rs1: '02:00:00:00:01:11',
  ll: 'fe80::ff:fe00:101', addr: '2001:db8:1::2', vip: '2001:db8:1::100', routerIp: '2001:db8:1::1', rs1Ip: '2001:db8:1::11',
};

function dr6Http(): Case6 {
  const conf = `# replay fixture: LVS-DR for IPv6, the client's half of one HTTP connection
port lan kind=memory mac=${D.lan} addr=${D.addr}/64
vip ${D.vip} on lan
route default via ${D.routerIp}

-A -t [${D.vip}]:80 -s rr
-a -t [${D.vip}]:80 -r [${D.rs1Ip}]:80 -g -w 1
`;
  const cIn: Ends6 = { smac: D.router, dmac: D.lan, src: CLIENT6, dst: D.vip, sport: 46000, dport: 80, hop: 58 };
  const input: Frame6[] = [];
  const expected: Frame6[] = [];
  let t = 0;
  handshake.filter(([, who]) => who === 'c').forEach(([seg], i) => {
    t += 10;
    input.push({ t, port: 0, frame: tcp6(cIn, seg) });
    if (i === 0) {
      expected.push(
        { t, port: 0, frame: naAnnounce(D.lan, D.ll) },
        { t, port: 0, frame: naAnnounce(D.lan, D.addr) },
        { t, port: 0, frame: naAnnounce(D.lan, D.vip) },
        { t, port: 0, frame: nsOut(D.lan, D.ll, D.rs1Ip) },
      );
      t += 1;
      input.push({ t, port: 0, frame: naIn(D.rs1, D.rs1Ip, D.lan, D.ll, false) });
    }
    // DR: the same packet to the real server's MAC, one hop less (no checksum in the IPv6 header to patch)
    expected.push({ t, port: 0, frame: tcp6({ ...cIn, smac: D.lan, dmac: D.rs1, hop: 57 }, seg) });
  });
  return {
    name: 'dr6-http', mode: 'DR',
    about: 'IPv6: advertisements at start; SYN held while the real server is solicited; the client\'s segments sent on to its MAC, hop limit − 1, nothing else changed',
    conf, ports: ['lan'], format: 'pcap', input, expected,
  };
}

// ---------------------------------------------------------------- TUN6

const T = {
  up: '02:00:00:00:02:01', gw: '02:00:00:00:02:f1', router: '02:00:00:00:02:fe',
  ll: 'fe80::ff:fe00:201', addr: '2001:db8:2::2', vip: '2001:db8:2::100', gwIp: '2001:db8:2::1', routerIp: '2001:db8:2::fe', rs1Ip: '2001:db8:20:1::5',
};

function tun6Conf(title: string, neigh: boolean): string {
  return `# replay fixture: ${title}
port uplink kind=memory mac=${T.up} addr=${T.addr}/64 mtu=1500
vip ${T.vip} on uplink
route 2001:db8:20::/48 via ${T.gwIp}
route default via ${T.routerIp}
${neigh ? `neigh ${T.gwIp} ${T.gw}\nneigh ${T.routerIp} ${T.router}\n` : ''}
-A -t [${T.vip}]:80 -s rr
-a -t [${T.vip}]:80 -r [${T.rs1Ip}]:80 -i -w 1
`;
}

const tunAnnounce = (t: number): Frame6[] => [
  { t, port: 0, frame: naAnnounce(T.up, T.ll) },
  { t, port: 0, frame: naAnnounce(T.up, T.addr) },
  { t, port: 0, frame: naAnnounce(T.up, T.vip) },
];

/** ip6ip6 as IPVS sends it: an outer header from the director's address to the real server, traffic class and hop limit of the inner packet, flow label 0. */
function encap6(inner: Uint8Array, hop: number): Uint8Array {
  return eth({ src: T.up, dst: T.gw }).ip6ip6({ src: T.addr, dst: T.rs1Ip, hopLimit: hop }).payload(inner.subarray(14)).build();
}

function tun6Http(): Case6 {
  const conf = tun6Conf('LVS-TUN for IPv6 (ip6ip6), the client\'s half of one HTTP connection, through a gateway', false);
  const cIn: Ends6 = { smac: T.router, dmac: T.up, src: CLIENT6, dst: T.vip, sport: 47000, dport: 80, hop: 58 };
  const input: Frame6[] = [];
  const expected: Frame6[] = [];
  let t = 0;
  handshake.filter(([, who]) => who === 'c').forEach(([seg], i) => {
    t += 10;
    input.push({ t, port: 0, frame: tcp6(cIn, seg) });
    if (i === 0) {
      // the gateway is solicited from the director's address: the held packet's outer source, ours on this port
      expected.push(...tunAnnounce(t), { t, port: 0, frame: nsOut(T.up, T.addr, T.gwIp) });
      t += 1;
      input.push({ t, port: 0, frame: naIn(T.gw, T.gwIp, T.up, T.addr, true) });
    }
    expected.push({ t, port: 0, frame: encap6(tcp6({ ...cIn, hop: 57 }, seg), 57) });
  });
  return {
    name: 'tun6-http', mode: 'TUN',
    about: 'IPv6: advertisements at start; the gateway to the real servers\' network solicited (from the director\'s address); the client\'s segments in ip6ip6 (outer hop limit and traffic class copied, flow label 0), inner hop limit − 1',
    conf, ports: ['uplink'], format: 'pcap', input, expected,
  };
}

function tun6TooBig(): Case6 {
  const conf = tun6Conf('LVS-TUN for IPv6, a packet too big for the tunnel', true);
  const cIn: Ends6 = { smac: T.router, dmac: T.up, src: CLIENT6, dst: T.vip, sport: 47001, dport: 80, hop: 58 };
  const syn = { flags: 'S', seq: 100, ack: 0 };
  // 1460 bytes of IPv6 fit a 1500-byte link with the 40-byte outer header; 1461 do not
  const fits: Seg = { flags: 'PA', seq: 101, ack: 901, payload: 'y'.repeat(1460 - 40 - 20) };
  const big: Seg = { flags: 'PA', seq: 101, ack: 901, payload: 'z'.repeat(1460 - 40 - 20 + 1) };
  // packet too big (MTU 1460) from the VIP to the client through the default router, hop limit 64, quoting as
  // much of the packet as an ICMPv6 error of 1280 bytes holds (1232), as it stood at the check: one hop less
  const ptb = eth({ src: T.up, dst: T.router }).ipv6({ src: T.vip, dst: CLIENT6, hopLimit: 64 })
    .icmpv6({ type: 2, mtu: 1460 }).payload(tcp6({ ...cIn, hop: 57 }, big).subarray(14, 14 + 1232)).build();
  const input: Frame6[] = [
    { t: 10, port: 0, frame: tcp6(cIn, syn) },
    { t: 11, port: 0, frame: tcp6(cIn, fits) },
    { t: 12, port: 0, frame: tcp6(cIn, big) },
  ];
  const expected: Frame6[] = [
    ...tunAnnounce(10),
    { t: 10, port: 0, frame: encap6(tcp6({ ...cIn, hop: 57 }, syn), 57) },
    { t: 11, port: 0, frame: encap6(tcp6({ ...cIn, hop: 57 }, fits), 57) },
    { t: 12, port: 0, frame: ptb },
  ];
  return {
    name: 'tun6-too-big', mode: 'TUN',
    about: 'IPv6: a 1461-byte packet does not fit the tunnel (1500 − 40): ICMPv6 packet too big (MTU 1460) to the client from the VIP, quoting 1232 bytes; a 1460-byte one is encapsulated',
    conf, ports: ['uplink'], format: 'pcap', input, expected,
  };
}

export function ipv6Cases(): Case6[] {
  return [nat6Http(), nat6IcmpFromRs(), dr6Http(), tun6Http(), tun6TooBig()];
}
