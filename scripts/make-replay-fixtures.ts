// Writes the pcap replay fixtures: for each case a config, an input capture
// and the output the director must produce, all under fixtures/pcap/.
//
//   npx tsx scripts/make-replay-fixtures.ts
//
// Both captures are built here with the packet builder from what each mode
// must do to a packet (NAT rewrites, DR MACs, TUN IPIP). The director is
// never run to make them, so test/cli/replay.test.ts can catch it going wrong.
// The first three configs have no static neighbours: the director ARPs for
// each next hop, the input holds the neighbour's answer, and the expected
// output holds the request and then the frame released by the answer. The
// other cases give their neighbours with `neigh` lines, so that what each is
// about stands out. Cases with control events also get a `<case>.events`
// (control/rule-log.ts), written here as a user would write one. The IPv6
// cases (nat6-*, dr6-*, tun6-*) are built the same way in
// scripts/replay-fixtures6.ts, neighbour discovery standing in for ARP; the
// SCTP cases (nat-sctp, dr-sctp, tun-sctp) in scripts/replay-fixtures-sctp.ts.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapngWriter, PcapWriter } from '../src/io/pcap-file.js';
import { eth } from '../src/wire/builder.js';
import { put16 } from '../src/wire/bytes.js';
import { checksum } from '../src/wire/checksum.js';
import { ipv6Cases } from './replay-fixtures6.js';
import { sctpCases } from './replay-fixtures-sctp.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pcap');
const BCAST = 'ff:ff:ff:ff:ff:ff';
const CLIENT = '203.0.113.7';

interface Seg { flags: string; seq: number; ack: number; payload?: string }
interface Ends { smac: string; dmac: string; src: string; dst: string; sport: number; dport: number; ttl: number; id: number }

function tcp(e: Ends, s: Seg): Uint8Array {
  return eth({ src: e.smac, dst: e.dmac })
    .ipv4({ src: e.src, dst: e.dst, ttl: e.ttl, id: e.id, flags: 'DF' })
    .tcp({ sport: e.sport, dport: e.dport, flags: s.flags, seq: s.seq, ack: s.ack, ...(s.payload ? { payload: s.payload } : {}) })
    .build();
}
/** As received from a NIC: padded to the 60-byte minimum. */
function padded(f: Uint8Array): Uint8Array {
  if (f.length >= 60) return f;
  const p = new Uint8Array(60);
  p.set(f);
  return p;
}
/** The director's own ARP frames: 42 bytes, unpadded. */
function arpOut(mac: string, sip: string, tip: string): Uint8Array {
  return eth({ src: mac, dst: BCAST }).arp({ op: 'request', sha: mac, spa: sip, tha: '00:00:00:00:00:00', tpa: tip }).build();
}
function arpReplyIn(mac: string, ip: string, toMac: string, toIp: string): Uint8Array {
  return padded(eth({ src: mac, dst: toMac }).arp({ op: 'reply', sha: mac, spa: ip, tha: toMac, tpa: toIp }).build());
}

interface Case {
  name: string;
  /** One line for fixtures/pcap/README.md. */
  mode?: string;
  about?: string;
  conf: string;
  /** The case's .events file, one JSON object per line. */
  events?: object[];
  ports: string[];
  /** classic pcap holds one interface; pcapng names each port */
  format: 'pcap' | 'pcapng';
  input: { t: number; port: number; frame: Uint8Array }[];
  expected: { t: number; port: number; frame: Uint8Array }[];
}

const ms = (n: number) => BigInt(1_700_000_000_000 + n) * 1_000_000n;

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

function natCase(): Case {
  const M = { out: '02:00:00:00:00:01', in: '02:00:00:00:00:02', router: '02:00:00:00:00:fe', rs1: '02:00:00:00:10:11' };
  const conf = `# replay fixture: LVS-NAT, one HTTP connection, next hops resolved by ARP
port outside kind=memory mac=${M.out} addr=10.0.0.1/24
port inside  kind=memory mac=${M.in} addr=192.168.10.1/24
vip 10.0.0.100 on outside
route default via 10.0.0.254

-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 1
`;
  const cIn: Ends = { smac: M.router, dmac: M.out, src: CLIENT, dst: '10.0.0.100', sport: 45000, dport: 80, ttl: 58, id: 0x100 };
  // toward the real server: destination rewritten, one TTL less (the kernel's decrement_ttl, Linux 5.2+)
  const cOut: Ends = { ...cIn, smac: M.in, dmac: M.rs1, dst: '192.168.10.11', dport: 8080, ttl: 57 };
  const sIn: Ends = { smac: M.rs1, dmac: M.in, src: '192.168.10.11', dst: CLIENT, sport: 8080, dport: 45000, ttl: 64, id: 0x200 };
  const sOut: Ends = { ...sIn, smac: M.out, dmac: M.router, src: '10.0.0.100', sport: 80, ttl: 63 };
  const input: Case['input'] = [];
  const expected: Case['expected'] = [];
  let t = 0;
  const garp = [
    { port: 0, frame: arpOut(M.out, '10.0.0.1', '10.0.0.1') },
    { port: 0, frame: arpOut(M.out, '10.0.0.100', '10.0.0.100') },
    { port: 1, frame: arpOut(M.in, '192.168.10.1', '192.168.10.1') },
  ];
  handshake.forEach(([seg, who], i) => {
    t += 10;
    if (who === 'c') {
      input.push({ t, port: 0, frame: padded(tcp(cIn, seg)) });
      if (i === 0) {
        // the first frame starts the director (gratuitous ARP), then it asks for the real server
        for (const g of garp) expected.push({ t, ...g });
        expected.push({ t, port: 1, frame: arpOut(M.in, '192.168.10.1', '192.168.10.11') });
        t += 1;
        input.push({ t, port: 1, frame: arpReplyIn(M.rs1, '192.168.10.11', M.in, '192.168.10.1') });
      }
      expected.push({ t, port: 1, frame: tcp(cOut, seg) });
    } else {
      input.push({ t, port: 1, frame: padded(tcp(sIn, seg)) });
      if (i === 1) {
        expected.push({ t, port: 0, frame: arpOut(M.out, '10.0.0.1', '10.0.0.254') });
        t += 1;
        input.push({ t, port: 0, frame: arpReplyIn(M.router, '10.0.0.254', M.out, '10.0.0.1') });
      }
      expected.push({ t, port: 0, frame: tcp(sOut, seg) });
    }
  });
  return { name: 'nat-http', conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected };
}

function drCase(): Case {
  const M = { lan: '02:00:00:00:01:01', router: '02:00:00:00:01:fe', rs1: '02:00:00:00:01:11' };
  const conf = `# replay fixture: LVS-DR, the client's half of one HTTP connection
port lan kind=memory mac=${M.lan} addr=10.1.0.2/24
vip 10.1.0.100 on lan
route default via 10.1.0.1

-A -t 10.1.0.100:80 -s rr
-a -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w 1
`;
  const cIn: Ends = { smac: M.router, dmac: M.lan, src: CLIENT, dst: '10.1.0.100', sport: 46000, dport: 80, ttl: 58, id: 0x300 };
  const input: Case['input'] = [];
  const expected: Case['expected'] = [];
  let t = 0;
  handshake.filter(([, who]) => who === 'c').forEach(([seg], i) => {
    t += 10;
    input.push({ t, port: 0, frame: padded(tcp(cIn, seg)) });
    if (i === 0) {
      expected.push({ t, port: 0, frame: arpOut(M.lan, '10.1.0.2', '10.1.0.2') });
      expected.push({ t, port: 0, frame: arpOut(M.lan, '10.1.0.100', '10.1.0.100') });
      expected.push({ t, port: 0, frame: arpOut(M.lan, '10.1.0.2', '10.1.0.11') });
      t += 1;
      input.push({ t, port: 0, frame: arpReplyIn(M.rs1, '10.1.0.11', M.lan, '10.1.0.2') });
    }
    // DR: the same packet, to the real server's MAC, one TTL less
    expected.push({ t, port: 0, frame: tcp({ ...cIn, smac: M.lan, dmac: M.rs1, ttl: 57 }, seg) });
  });
  return { name: 'dr-http', conf, ports: ['lan'], format: 'pcap', input, expected };
}

function tunCase(): Case {
  const M = { up: '02:00:00:00:02:01', gw: '02:00:00:00:02:f1', router: '02:00:00:00:02:fe' };
  const conf = `# replay fixture: LVS-TUN, the client's half of one HTTP connection, IPIP through a gateway
port uplink kind=memory mac=${M.up} addr=172.16.0.2/24 mtu=1500
vip 172.16.0.100 on uplink
route 10.20.0.0/16 via 172.16.0.1 dev uplink
route default via 172.16.0.254

-A -t 172.16.0.100:80 -s rr
-a -t 172.16.0.100:80 -r 10.20.1.5:80 -i -w 1
`;
  const cIn: Ends = { smac: M.router, dmac: M.up, src: CLIENT, dst: '172.16.0.100', sport: 47000, dport: 80, ttl: 58, id: 0x400 };
  const input: Case['input'] = [];
  const expected: Case['expected'] = [];
  let t = 0;
  handshake.filter(([, who]) => who === 'c').forEach(([seg], i) => {
    t += 10;
    const f = tcp(cIn, seg);
    input.push({ t, port: 0, frame: padded(f) });
    if (i === 0) {
      expected.push({ t, port: 0, frame: arpOut(M.up, '172.16.0.2', '172.16.0.2') });
      expected.push({ t, port: 0, frame: arpOut(M.up, '172.16.0.100', '172.16.0.100') });
      expected.push({ t, port: 0, frame: arpOut(M.up, '172.16.0.2', '172.16.0.1') });
      t += 1;
      input.push({ t, port: 0, frame: arpReplyIn(M.gw, '172.16.0.1', M.up, '172.16.0.2') });
    }
    // outer header: director -> real server, TOS/DF/TTL of the inner packet (one TTL less), ids 1, 2, ... in order
    const outer = eth({ src: M.up, dst: M.gw })
      .ipip({ src: '172.16.0.2', dst: '10.20.1.5', ttl: 57, id: i + 1, flags: 'DF' })
      .payload(tcp({ ...cIn, ttl: 57 }, seg).subarray(14))
      .build();
    expected.push({ t, port: 0, frame: outer });
  });
  return { name: 'tun-http', conf, ports: ['uplink'], format: 'pcap', input, expected };
}

function write(c: Case): void {
  writeFileSync(join(OUT, `${c.name}.conf`), c.conf);
  if (c.format === 'pcap') {
    const w = new PcapWriter();
    for (const f of c.input) w.add(ms(f.t), f.frame);
    writeFileSync(join(OUT, `${c.name}.in.pcap`), w.toBytes());
  } else {
    const w = new PcapngWriter(c.ports);
    for (const f of c.input) w.add(f.port, ms(f.t), f.frame);
    w.writeFile(join(OUT, `${c.name}.in.pcapng`));
  }
  const e = new PcapngWriter(c.ports);
  for (const f of c.expected) e.add(f.port, ms(f.t), f.frame);
  e.writeFile(join(OUT, `${c.name}.expected.pcapng`));
  const ev = join(OUT, `${c.name}.events`);
  if (c.events) writeFileSync(ev, c.events.map((x) => JSON.stringify(x) + '\n').join(''));
  else rmSync(ev, { force: true });
  console.log(`${c.name}: ${c.input.length} frames in, ${c.expected.length} expected out${c.events ? `, ${c.events.length} control events` : ''}`);
}


// ---------------------------------------------------------------- more cases
//
// Shared topologies, with static neighbours. What the director must send is
// written from what each mode does to a packet, as above.

const NAT_M = {
  out: '02:00:00:00:00:01', in: '02:00:00:00:00:02', router: '02:00:00:00:00:fe',
  rs1: '02:00:00:00:10:11', rs2: '02:00:00:00:10:12', sorry: '02:00:00:00:10:99',
};
const VIP = '10.0.0.100';
const RS1 = '192.168.10.11';
const RS2 = '192.168.10.12';
const SORRY = '192.168.10.99';

function natConf(title: string, body: string, extra = ''): string {
  return `# replay fixture: ${title}
port outside kind=memory mac=${NAT_M.out} addr=10.0.0.1/24
port inside  kind=memory mac=${NAT_M.in} addr=192.168.10.1/24
vip ${VIP} on outside
route default via 10.0.0.254
neigh 10.0.0.254 ${NAT_M.router}
neigh ${RS1} ${NAT_M.rs1}
neigh ${RS2} ${NAT_M.rs2}
neigh ${SORRY} ${NAT_M.sorry}
${extra}
${body}`;
}

/** The gratuitous ARP a NAT director sends when it starts: its addresses and the VIP, port by port. */
function natGarp(t: number): Case['expected'] {
  return [
    { t, port: 0, frame: arpOut(NAT_M.out, '10.0.0.1', '10.0.0.1') },
    { t, port: 0, frame: arpOut(NAT_M.out, VIP, VIP) },
    { t, port: 1, frame: arpOut(NAT_M.in, '192.168.10.1', '192.168.10.1') },
  ];
}

const RS_MAC: Record<string, string> = { [RS1]: NAT_M.rs1, [RS2]: NAT_M.rs2, [SORRY]: NAT_M.sorry };

/**
 * One TCP connection through a NAT director: `c(seg)` is the client's
 * segment as it arrives and as it leaves toward real server `rs`; `s(seg)`
 * the server's reply as it arrives and as it leaves toward the client.
 */
function natConn(client: string, cport: number, rs: string, idBase: number) {
  const cIn: Ends = { smac: NAT_M.router, dmac: NAT_M.out, src: client, dst: VIP, sport: cport, dport: 80, ttl: 58, id: idBase };
  const sIn: Ends = { smac: RS_MAC[rs]!, dmac: NAT_M.in, src: rs, dst: client, sport: 8080, dport: cport, ttl: 64, id: idBase + 0x1000 };
  return {
    cIn: (g: Seg) => padded(tcp(cIn, g)),
    // toward the real server one TTL less (decrement_ttl)
    cOut: (g: Seg) => tcp({ ...cIn, smac: NAT_M.in, dmac: RS_MAC[rs]!, dst: rs, dport: 8080, ttl: 57 }, g),
    sIn: (g: Seg) => padded(tcp(sIn, g)),
    sOut: (g: Seg) => tcp({ ...sIn, smac: NAT_M.out, dmac: NAT_M.router, src: VIP, sport: 80, ttl: 63 }, g),
  };
}

const SYN: Seg = { flags: 'S', seq: 100, ack: 0 };
const SYNACK: Seg = { flags: 'SA', seq: 900, ack: 101 };
const ACK: Seg = { flags: 'A', seq: 101, ack: 901 };
const GET: Seg = { flags: 'PA', seq: 101, ack: 901, payload: 'GET /bytes/2000 HTTP/1.0\r\n\r\n' };
const body = (n: number, from: number): Seg => ({ flags: 'PA', seq: from, ack: 129, payload: 'x'.repeat(n) });

/** Splits the IPv4 packet of an Ethernet frame into fragments of `chunk` payload bytes (a multiple of 8). */
function fragments(frame: Uint8Array, chunk: number): Uint8Array[] {
  const ihl = (frame[14]! & 0x0f) * 4;
  const payload = frame.subarray(14 + ihl);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, Math.min(off + chunk, payload.length));
    const f = new Uint8Array(14 + ihl + part.length);
    f.set(frame.subarray(0, 14 + ihl));
    f.set(part, 14 + ihl);
    put16(f, 14 + 2, ihl + part.length);
    const more = off + chunk < payload.length;
    put16(f, 14 + 6, (more ? 0x2000 : 0) | (off / 8));
    put16(f, 14 + 10, 0);
    put16(f, 14 + 10, checksum(f, 14, ihl));
    out.push(f);
  }
  return out;
}

function moreCases(): Case[] {
  return [
    natIcmpFromClient(), natIcmpFromRs(), natFragments(false), natFragments(true), drPersistence(), natQuiescent(),
    natTableFull(), natSynEvict(), drSynFlood(), tunFragNeeded(), natGarbage(), natDrain(), natRemove(0), natRemove(1), natHealth(),
  ];
}

function natIcmpFromClient(): Case {
  const conf = natConf('LVS-NAT, an ICMP error from the client side about a reply', `-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
`);
  const a = natConn(CLIENT, 45000, RS1, 0x100);
  const input: Case['input'] = [];
  const expected: Case['expected'] = [];
  input.push({ t: 10, port: 0, frame: a.cIn(SYN) });
  expected.push(...natGarp(10), { t: 10, port: 1, frame: a.cOut(SYN) });
  input.push({ t: 11, port: 1, frame: a.sIn(SYNACK) });
  expected.push({ t: 11, port: 0, frame: a.sOut(SYNACK) });
  // a router on the client's path cannot forward the SYN-ACK as sent (VIP:80 -> client): it says so to the VIP
  const asSent = a.sOut(SYNACK).subarray(14);
  const mk = (dmac: string, smac: string, dst: string, quoted: Uint8Array, ttl = 60) =>
    eth({ src: smac, dst: dmac }).ipv4({ src: '198.51.100.1', dst, ttl, id: 0x777 }).icmp({ type: 3, code: 4, mtu: 1400, payload: quoted.subarray(0, 28) }).build();
  input.push({ t: 12, port: 0, frame: padded(mk(NAT_M.out, NAT_M.router, VIP, asSent)) });
  // on to the real server: outer destination and the quoted source become the real server's, the error's TTL one less
  const asRsSent = tcp({ smac: NAT_M.rs1, dmac: NAT_M.in, src: RS1, dst: CLIENT, sport: 8080, dport: 45000, ttl: 63, id: 0x1100 }, SYNACK).subarray(14);
  expected.push({ t: 12, port: 1, frame: mk(NAT_M.rs1, NAT_M.in, RS1, asRsSent, 59) });
  return { name: 'nat-icmp-from-client', mode: 'NAT', about: 'an ICMP fragmentation-needed from a router on the client side, about a SYN-ACK from the VIP, goes on to the real server with the outer destination, quoted source address and port, quoted IP checksum and ICMP checksum rewritten', conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected };
}

function udp(e: Ends, payload: string): Uint8Array {
  return eth({ src: e.smac, dst: e.dmac }).ipv4({ src: e.src, dst: e.dst, ttl: e.ttl, id: e.id }).udp({ sport: e.sport, dport: e.dport, payload }).build();
}

function natIcmpFromRs(): Case {
  const conf = natConf('LVS-NAT, an ICMP error from a real server about a datagram', `-A -u ${VIP}:53 -s rr
-a -u ${VIP}:53 -r ${RS1}:53 -m -w 1
`);
  const q: Ends = { smac: NAT_M.router, dmac: NAT_M.out, src: CLIENT, dst: VIP, sport: 40000, dport: 53, ttl: 58, id: 0x300 };
  const input: Case['input'] = [{ t: 10, port: 0, frame: padded(udp(q, 'query')) }];
  const toRs = udp({ ...q, smac: NAT_M.in, dmac: NAT_M.rs1, dst: RS1, ttl: 57 }, 'query');
  const expected: Case['expected'] = [...natGarp(10), { t: 10, port: 1, frame: toRs }];
  // the real server has nothing on port 53: port unreachable, quoting the whole datagram as it got it
  const unreach = (e: { smac: string; dmac: string; src: string; ttl: number }, quoted: Uint8Array) =>
    eth({ src: e.smac, dst: e.dmac }).ipv4({ src: e.src, dst: CLIENT, ttl: e.ttl, id: 0x901 }).icmp({ type: 3, code: 3, payload: quoted }).build();
  input.push({ t: 11, port: 1, frame: padded(unreach({ smac: NAT_M.rs1, dmac: NAT_M.in, src: RS1, ttl: 64 }, toRs.subarray(14))) });
  // to the client from the VIP (TTL - 1: routed), quoting the datagram as the real server got it but for the
  // destination (the VIP again): TTL one less than the client sent, quoted IP and UDP checksums to match
  expected.push({ t: 11, port: 0, frame: unreach({ smac: NAT_M.out, dmac: NAT_M.router, src: VIP, ttl: 63 }, udp({ ...q, ttl: 57 }, 'query').subarray(14)) });
  return { name: 'nat-icmp-from-rs', mode: 'NAT', about: 'a real server\'s ICMP port unreachable about a UDP datagram goes to the client from the VIP, the quoted destination, quoted UDP checksum and both IP checksums rewritten', conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected };
}

function natFragments(reversed: boolean): Case {
  const conf = natConf(`LVS-NAT, a fragmented UDP datagram${reversed ? ', last fragment first' : ''}`, `-A -u ${VIP}:53 -s rr
-a -u ${VIP}:53 -r ${RS1}:5353 -m -w 1
`);
  const q: Ends = { smac: NAT_M.router, dmac: NAT_M.out, src: CLIENT, dst: VIP, sport: 40001, dport: 53, ttl: 58, id: 0x4242 };
  const data = Array.from({ length: 2500 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
  const inFr = fragments(udp(q, data), 1480);
  // the first fragment is rewritten as the whole datagram would be (the UDP checksum covers all of it), later ones at the IP layer
  const outFr = fragments(udp({ ...q, smac: NAT_M.in, dmac: NAT_M.rs1, dst: RS1, dport: 5353, ttl: 57 }, data), 1480);
  const order = reversed ? [1, 0] : [0, 1];
  const input: Case['input'] = order.map((i, k) => ({ t: 10 + k, port: 0, frame: inFr[i]! }));
  const tFirst = reversed ? 11 : 10;
  const expected: Case['expected'] = [
    ...natGarp(10),
    { t: tFirst, port: 1, frame: outFr[0]! },
    // in order the second follows when it comes; out of order it was held and goes right after the first
    { t: 11, port: 1, frame: outFr[1]! },
  ];
  return {
    name: reversed ? 'nat-frag-reversed' : 'nat-frag-in-order', mode: 'NAT',
    about: reversed
      ? 'the last fragment of a UDP datagram arrives first: it is held, and released (rewritten at the IP layer) right after the first fragment is scheduled and rewritten'
      : 'a UDP datagram in two fragments: the first is scheduled and rewritten (address, port, UDP checksum), the second follows it rewritten at the IP layer',
    conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected,
  };
}

const DR_M = { lan: '02:00:00:00:01:01', router: '02:00:00:00:01:fe', rs1: '02:00:00:00:01:11', rs2: '02:00:00:00:01:12' };

function drConf(title: string, svc: string): string {
  return `# replay fixture: ${title}
port lan kind=memory mac=${DR_M.lan} addr=10.1.0.2/24
vip 10.1.0.100 on lan
route default via 10.1.0.1
neigh 10.1.0.11 ${DR_M.rs1}
neigh 10.1.0.12 ${DR_M.rs2}

${svc}`;
}

function drGarp(t: number): Case['expected'] {
  return [
    { t, port: 0, frame: arpOut(DR_M.lan, '10.1.0.2', '10.1.0.2') },
    { t, port: 0, frame: arpOut(DR_M.lan, '10.1.0.100', '10.1.0.100') },
  ];
}

function drSyn(src: string, sport: number, id: number, toMac?: string): Uint8Array {
  // out to the real server one TTL less
  const e: Ends = { smac: toMac ? DR_M.lan : DR_M.router, dmac: toMac ?? DR_M.lan, src, dst: '10.1.0.100', sport, dport: 80, ttl: toMac ? 56 : 57, id };
  const f = tcp(e, SYN);
  return toMac ? f : padded(f);
}

function drPersistence(): Case {
  // rs2 is added last, so it heads the list and rr picks it first
  const conf = drConf('LVS-DR, a persistent service', `-A -t 10.1.0.100:80 -s rr -p 300
-a -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w 1
-a -t 10.1.0.100:80 -r 10.1.0.12:80 -g -w 1
`);
  const syns: [string, number, string][] = [
    [CLIENT, 1000, DR_M.rs2], // scheduled: rs2, the client is bound to it for 300 s
    [CLIENT, 1001, DR_M.rs2], // another connection of the same client: the template, not rr
    ['203.0.113.8', 2000, DR_M.rs1], // another client: rr's next
    [CLIENT, 1002, DR_M.rs2], // the first client again
    ['203.0.113.8', 2001, DR_M.rs1],
  ];
  const input: Case['input'] = [];
  const expected: Case['expected'] = [...drGarp(10)];
  syns.forEach(([src, sport, mac], i) => {
    input.push({ t: 10 + i, port: 0, frame: drSyn(src, sport, 0x500 + i) });
    expected.push({ t: 10 + i, port: 0, frame: drSyn(src, sport, 0x500 + i, mac) });
  });
  return { name: 'dr-persistence', mode: 'DR', about: 'persistence (-p 300): every connection of a client goes to the real server its first one was scheduled to; a second client is scheduled by rr', conf, ports: ['lan'], format: 'pcap', input, expected };
}

function natQuiescent(): Case {
  const conf = natConf('LVS-NAT, a quiescent real server (weight 0)', `-A -t ${VIP}:80 -s wrr
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
-a -t ${VIP}:80 -r ${RS2}:8080 -m -w 0
`);
  const input: Case['input'] = [];
  const expected: Case['expected'] = [...natGarp(10)];
  for (let i = 0; i < 3; i++) {
    const a = natConn(`203.0.113.${10 + i}`, 41000 + i, RS1, 0x600 + i);
    input.push({ t: 10 + i, port: 0, frame: a.cIn(SYN) });
    expected.push({ t: 10 + i, port: 1, frame: a.cOut(SYN) });
  }
  return { name: 'nat-weight0', mode: 'NAT', about: 'a real server of weight 0 (quiescent, as drained) gets no new connection: three clients all go to the other', conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected };
}

function natTableFull(): Case {
  const conf = natConf('LVS-NAT, a connection table of two', `-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
`, 'option max_conns 2\noption evict_embryonic 0');
  const input: Case['input'] = [];
  const expected: Case['expected'] = [...natGarp(10)];
  for (let i = 0; i < 3; i++) {
    const a = natConn(`203.0.113.${20 + i}`, 42000 + i, RS1, 0x700 + i);
    input.push({ t: 10 + i, port: 0, frame: a.cIn(SYN) });
    // the third finds the table full: dropped, counted as table-full
    if (i < 2) expected.push({ t: 10 + i, port: 1, frame: a.cOut(SYN) });
  }
  return { name: 'nat-table-full', mode: 'NAT', about: 'option max_conns 2, evict_embryonic 0 (as IPVS): the third client\'s SYN is dropped as table-full (its decision log is expected too)', conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected };
}

function natSynEvict(): Case {
  const conf = natConf('LVS-NAT, a full table giving half-open connections\' slots to new clients (evict_embryonic, on by default)', `-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
`, 'option max_conns 2');
  const input: Case['input'] = [];
  const expected: Case['expected'] = [...natGarp(10)];
  const c = [0, 1, 2, 3].map((i) => natConn(`203.0.113.${30 + i}`, 43000 + i, RS1, 0x780 + i));
  const on = (t: number, k: number, g: Seg, sent: boolean) => {
    input.push({ t, port: 0, frame: c[k]!.cIn(g) });
    if (sent) expected.push({ t, port: 1, frame: c[k]!.cOut(g) });
  };
  on(10, 0, SYN, true);
  on(11, 1, SYN, true);
  on(12, 2, SYN, true); // the table is full: client 0's half-open connection gives up its slot
  on(13, 1, ACK, true); // client 1 completes its handshake: established, never evicted
  on(14, 0, ACK, false); // client 0's connection is gone: no-conn-not-syn
  on(15, 3, SYN, true); // full again: client 2's slot (the oldest half-open one)
  on(16, 2, ACK, false);
  on(17, 1, GET, true);
  return { name: 'nat-syn-evict', mode: 'NAT', about: 'option max_conns 2 with evict_embryonic on (the default): a new client takes the slot of the oldest half-open connection, an established one keeps its own; the evicted clients\' ACKs find nothing', conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected };
}

function drSynFlood(): Case {
  const conf = drConf('LVS-DR, a slice of a SYN flood from spoofed sources', `-A -t 10.1.0.100:80 -s rr
-a -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w 1
-a -t 10.1.0.100:80 -r 10.1.0.12:80 -g -w 1
`);
  const input: Case['input'] = [];
  const expected: Case['expected'] = [...drGarp(10)];
  let x = 12345;
  for (let i = 0; i < 32; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const src = `198.18.${(x >>> 8) & 0xff}.${1 + (x & 0xfd)}`;
    const sport = 1024 + ((x >>> 16) % 60000);
    const t = 10 + Math.floor(i / 4); // four SYNs per millisecond
    input.push({ t, port: 0, frame: drSyn(src, sport, i) });
    // each a new connection, rr alternating from rs2 (the list's head)
    expected.push({ t, port: 0, frame: drSyn(src, sport, i, i % 2 === 0 ? DR_M.rs2 : DR_M.rs1) });
  }
  return { name: 'dr-syn-flood', mode: 'DR', about: '32 SYNs from spoofed sources in 8 ms: each a new connection, rr alternating between the two real servers', conf, ports: ['lan'], format: 'pcap', input, expected };
}

function tunFragNeeded(): Case {
  const M = { up: '02:00:00:00:02:01', gw: '02:00:00:00:02:f1', router: '02:00:00:00:02:fe' };
  const conf = `# replay fixture: LVS-TUN, a packet too big for the tunnel with DF set
port uplink kind=memory mac=${M.up} addr=172.16.0.2/24 mtu=1500
vip 172.16.0.100 on uplink
route 10.20.0.0/16 via 172.16.0.1 dev uplink
route default via 172.16.0.254
neigh 172.16.0.1 ${M.gw}
neigh 172.16.0.254 ${M.router}

-A -t 172.16.0.100:80 -s rr
-a -t 172.16.0.100:80 -r 10.20.1.5:80 -i -w 1
`;
  const cIn: Ends = { smac: M.router, dmac: M.up, src: CLIENT, dst: '172.16.0.100', sport: 47001, dport: 80, ttl: 58, id: 0x800 };
  const encap = (f: Uint8Array, id: number) =>
    eth({ src: M.up, dst: M.gw }).ipip({ src: '172.16.0.2', dst: '10.20.1.5', ttl: 57, id, flags: 'DF' }).payload(f.subarray(14)).build();
  const syn = tcp(cIn, SYN);
  const big = tcp({ ...cIn, id: 0x801 }, { flags: 'PA', seq: 101, ack: 901, payload: 'y'.repeat(1460) });
  const fits = tcp({ ...cIn, id: 0x802 }, { flags: 'PA', seq: 101, ack: 901, payload: 'y'.repeat(1440) });
  // encapsulated one TTL less, outer and inner
  const hop = (f: Uint8Array): Uint8Array => {
    const g = f.slice();
    g[14 + 8]! -= 1;
    put16(g, 14 + 10, 0);
    put16(g, 14 + 10, checksum(g, 14, 20));
    return g;
  };
  const input: Case['input'] = [
    { t: 10, port: 0, frame: padded(syn) },
    { t: 11, port: 0, frame: fits },
    { t: 12, port: 0, frame: big },
  ];
  // 1500 bytes of IP + 20 of IPIP do not fit a 1500 MTU: fragmentation needed, next-hop MTU 1480, from the VIP
  // the client talked to, routed back to it, quoting as much of it as fits 576 bytes, as icmp_send (TOS 0xc0, TTL 64, no DF).
  // The quoted header is the packet as it stood at the check: one TTL less already (decrement_ttl comes
  // first in __ip_vs_get_out_rt). Its IP id is the director's own counter (the kernel's ICMP ids come
  // from another generator); the tunnel takes an outer id only for a packet that fits, so this is 3.
  const icmp = eth({ src: M.up, dst: M.router }).ipv4({ src: '172.16.0.100', dst: CLIENT, ttl: 64, id: 3, tos: 0xc0 })
    .icmp({ type: 3, code: 4, mtu: 1480, payload: hop(big).subarray(14, 14 + 548) }).build();
  const expected: Case['expected'] = [
    { t: 10, port: 0, frame: arpOut(M.up, '172.16.0.2', '172.16.0.2') },
    { t: 10, port: 0, frame: arpOut(M.up, '172.16.0.100', '172.16.0.100') },
    { t: 10, port: 0, frame: encap(hop(syn), 1) },
    { t: 11, port: 0, frame: encap(hop(fits), 2) },
    { t: 12, port: 0, frame: icmp },
  ];
  return { name: 'tun-frag-needed', mode: 'TUN', about: 'a 1500-byte packet with DF does not fit the tunnel: ICMP fragmentation needed (MTU 1480) to the client from the VIP; a smaller one is encapsulated', conf, ports: ['uplink'], format: 'pcap', input, expected };
}

function natGarbage(): Case {
  const conf = natConf('LVS-NAT, garbage frames among good ones', `-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
`);
  const base = { src: NAT_M.router, dst: NAT_M.out };
  const ip = (o: Partial<Parameters<ReturnType<typeof eth>['ipv4']>[0]> = {}) =>
    eth(base).ipv4({ src: CLIENT, dst: VIP, ttl: 58, id: 0x900, ...o });
  const badCsum = ip().tcp({ sport: 43000, dport: 80, flags: 'S', seq: 1 }).build();
  badCsum[14 + 10] ^= 0xff;
  const shortTcp = ip().payload(new Uint8Array([0xa8, 0x18, 0x00, 0x50])).build();
  shortTcp[14 + 9] = 6;
  put16(shortTcp, 14 + 10, 0);
  put16(shortTcp, 14 + 10, checksum(shortTcp, 14, 20));
  const frames: [Uint8Array, string][] = [
    [new Uint8Array(10).fill(0xee), 'malformed-ethernet: 10 bytes'],
    [padded(eth({ src: NAT_M.router, dst: '02:00:00:00:00:99' }).ipv4({ src: CLIENT, dst: VIP }).tcp({ sport: 43000, dport: 80, flags: 'S' }).build()), 'not-for-us'],
    [padded(eth(base).vlan(7).ipv4({ src: CLIENT, dst: VIP }).tcp({ sport: 43000, dport: 80, flags: 'S' }).build()), 'vlan-tagged'],
    [padded(eth({ ...base, type: 0x9000 }).payload(new Uint8Array(46)).build()), 'not-ip (loopback test frame)'],
    [padded(badCsum), 'bad-ip-checksum'],
    [padded(ip({ ihl: 4 }).tcp({ sport: 43000, dport: 80, flags: 'S' }).build()), 'malformed-ip: IHL 4'],
    [padded(ip({ totalLength: 400 }).tcp({ sport: 43000, dport: 80, flags: 'S' }).build()), 'malformed-ip: longer than the frame'],
    [padded(shortTcp), 'malformed-l4: 4 bytes of TCP'],
    [padded(ip({ src: '10.0.0.1' }).tcp({ sport: 43000, dport: 80, flags: 'S' }).build()), 'martian-source: the director\'s own address as source'],
    [padded(ip().tcp({ sport: 43001, dport: 80, flags: 'A', seq: 5, ack: 6 }).build()), 'no-conn-not-syn'],
  ];
  const input: Case['input'] = frames.map(([f], i) => ({ t: 10 + i, port: 0, frame: f }));
  const expected: Case['expected'] = [...natGarp(10)];
  // UDP to the VIP on a port with no service: dropped, and port unreachable from the VIP to the sender's MAC
  const t = 10 + frames.length;
  const stray = ip({ id: 0x901 }).udp({ sport: 43002, dport: 9999, payload: 'hello' }).build();
  input.push({ t, port: 0, frame: padded(stray) });
  expected.push({
    t, port: 0,
    frame: eth({ src: NAT_M.out, dst: NAT_M.router }).ipv4({ src: VIP, dst: CLIENT, ttl: 64, id: 1, tos: 0xc0 })
      .icmp({ type: 3, code: 3, payload: stray.subarray(14, 14 + 548) }).build(),
  });
  // and a good SYN after all that is forwarded as usual
  const a = natConn(CLIENT, 43003, RS1, 0x902);
  input.push({ t: t + 1, port: 0, frame: a.cIn(SYN) });
  expected.push({ t: t + 1, port: 1, frame: a.cOut(SYN) });
  return { name: 'nat-garbage', mode: 'NAT', about: 'runt, not-for-us, VLAN-tagged, non-IP, bad checksum, bad IHL, overlong, truncated TCP, martian and stray-ACK frames each dropped with its reason; UDP to a port of no service answered with port unreachable; then a SYN forwarded as usual', conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected };
}

/** A NAT connection A to rs1 through the handshake, the request and a first block of the reply. */
function openTransfer(input: Case['input'], expected: Case['expected'], a: ReturnType<typeof natConn>): void {
  input.push({ t: 10, port: 0, frame: a.cIn(SYN) });
  expected.push(...natGarp(10), { t: 10, port: 1, frame: a.cOut(SYN) });
  input.push({ t: 11, port: 1, frame: a.sIn(SYNACK) });
  expected.push({ t: 11, port: 0, frame: a.sOut(SYNACK) });
  input.push({ t: 12, port: 0, frame: a.cIn(ACK) });
  expected.push({ t: 12, port: 1, frame: a.cOut(ACK) });
  input.push({ t: 13, port: 0, frame: a.cIn(GET) });
  expected.push({ t: 13, port: 1, frame: a.cOut(GET) });
  input.push({ t: 14, port: 1, frame: a.sIn(body(1000, 901)) });
  expected.push({ t: 14, port: 0, frame: a.sOut(body(1000, 901)) });
}

const twoServers = `-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS2}:8080 -m -w 1
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
`;
const ev = (ms: number, source: string, summary: string, ipvsadm: string[]): object =>
  ({ time: `1700000000.${String(ms).padStart(3, '0')}000`, source, summary, ipvsadm });

function natDrain(): Case {
  // rs1 added last heads the list: rr gives it the first connection
  const conf = natConf('LVS-NAT, rs1 drained (weight 0) during a transfer', twoServers);
  const input: Case['input'] = [];
  const expected: Case['expected'] = [];
  const a = natConn(CLIENT, 45000, RS1, 0x100);
  openTransfer(input, expected, a);
  // 15 ms: the operator drains rs1; the transfer goes on, new clients go to rs2
  input.push({ t: 16, port: 1, frame: a.sIn(body(1000, 1901)) });
  expected.push({ t: 16, port: 0, frame: a.sOut(body(1000, 1901)) });
  input.push({ t: 17, port: 0, frame: a.cIn({ flags: 'A', seq: 129, ack: 2901 }) });
  expected.push({ t: 17, port: 1, frame: a.cOut({ flags: 'A', seq: 129, ack: 2901 }) });
  for (const [i, c] of ['203.0.113.8', '203.0.113.9'].entries()) {
    const b = natConn(c, 46000 + i, RS2, 0x200 + i);
    input.push({ t: 20 + i, port: 0, frame: b.cIn(SYN) });
    expected.push({ t: 20 + i, port: 1, frame: b.cOut(SYN) });
  }
  input.push({ t: 22, port: 1, frame: a.sIn({ flags: 'FA', seq: 2901, ack: 129 }) });
  expected.push({ t: 22, port: 0, frame: a.sOut({ flags: 'FA', seq: 2901, ack: 129 }) });
  return {
    name: 'nat-drain-transfer', mode: 'NAT', about: 'control event: rs1 drained (ipvsadm -e ... -w 0) in the middle of a transfer: the transfer goes on to its end, two new clients go to rs2',
    conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected,
    events: [ev(15, 'ipvsadm', 'drain rs1', [`-e -t ${VIP}:80 -r ${RS1}:8080 -m -w 0`])],
  };
}

function natRemove(expireNodest: 0 | 1): Case {
  const conf = natConf(`LVS-NAT, rs1 removed during a transfer, expire_nodest_conn ${expireNodest}`, twoServers, `option expire_nodest_conn ${expireNodest}`);
  const input: Case['input'] = [];
  const expected: Case['expected'] = [];
  const a = natConn(CLIENT, 45000, RS1, 0x100);
  openTransfer(input, expected, a);
  // 15 ms: rs1 is removed from the service
  input.push({ t: 16, port: 0, frame: a.cIn({ flags: 'A', seq: 129, ack: 1901 }) });
  // the client's next segment: with 0 the connection stays, its packets dropped (dest-removed); with 1 it was
  // expired at once, and a segment that is not a SYN opens nothing (no-conn-not-syn). Either way nothing goes out.
  input.push({ t: 17, port: 1, frame: a.sIn(body(1000, 1901)) });
  if (expireNodest === 0) {
    // the kernel checks the real server only on the way in: rs1's reply of the remaining connection still goes out as NAT
    expected.push({ t: 17, port: 0, frame: a.sOut(body(1000, 1901)) });
  } else {
    // no connection and rs1 no longer a real server: routed as any traffic, not rewritten (TTL - 1)
    expected.push({ t: 17, port: 0, frame: tcp({ smac: NAT_M.out, dmac: NAT_M.router, src: RS1, dst: CLIENT, sport: 8080, dport: 45000, ttl: 63, id: 0x1100 }, body(1000, 1901)) });
  }
  // the client reconnects: rs2
  const b = natConn(CLIENT, 45001, RS2, 0x300);
  input.push({ t: 18, port: 0, frame: b.cIn(SYN) });
  expected.push({ t: 18, port: 1, frame: b.cOut(SYN) });
  return {
    name: `nat-remove-rs-nodest${expireNodest}`, mode: 'NAT',
    about: expireNodest === 0
      ? 'control event: rs1 removed (ipvsadm -d) during a transfer with expire_nodest_conn 0: the client\'s packets of the old connection are dropped as dest-removed, rs1\'s still go out; a reconnection goes to rs2 (decision log expected too)'
      : 'control event: rs1 removed during a transfer with expire_nodest_conn 1: the connection ends at once, the client\'s next segment opens nothing, rs1\'s is routed unrewritten; a reconnection goes to rs2',
    conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected,
    events: [ev(15, 'ipvsadm', 'remove rs1', [`-d -t ${VIP}:80 -r ${RS1}:8080`])],
  };
}

function natHealth(): Case {
  const conf = natConf('LVS-NAT, the health check of the only real server fails mid-stream, a sorry server stands in', `-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
check tcp -t ${VIP}:80 -r ${RS1}:8080 interval=1s timeout=1s
sorry -t ${VIP}:80 -r ${SORRY}:8080 -m
`);
  const input: Case['input'] = [];
  const expected: Case['expected'] = [];
  const a = natConn(CLIENT, 45000, RS1, 0x100);
  openTransfer(input, expected, a);
  // 15 ms: rs1's check fails: removed, the sorry server put in. The client's segment of the old connection is dropped
  input.push({ t: 16, port: 0, frame: a.cIn({ flags: 'A', seq: 129, ack: 1901 }) });
  const b = natConn('203.0.113.8', 46000, SORRY, 0x200);
  input.push({ t: 17, port: 0, frame: b.cIn(SYN) });
  expected.push({ t: 17, port: 1, frame: b.cOut(SYN) });
  // 18 ms: the check succeeds again: rs1 back, the sorry server out
  const c = natConn('203.0.113.9', 47000, RS1, 0x300);
  input.push({ t: 19, port: 0, frame: c.cIn(SYN) });
  expected.push({ t: 19, port: 1, frame: c.cOut(SYN) });
  input.push({ t: 20, port: 0, frame: b.cIn(ACK) }); // the sorry server's connection: its server is gone, dropped
  return {
    name: 'nat-health-fail', mode: 'NAT',
    about: 'control events from health checks: the only real server\'s check fails mid-stream (removed, sorry server in: the old connection\'s packets dropped, a new client to the sorry server), then passes again (rs1 back, sorry server out)',
    conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected,
    events: [
      ev(15, 'health', `tcp check of ${RS1}:8080 (-t ${VIP}:80) down: connection refused`, [`-d -t ${VIP}:80 -r ${RS1}:8080`, `-a -t ${VIP}:80 -r ${SORRY}:8080 -m -w 1 -x 0 -y 0`]),
      ev(18, 'health', `tcp check of ${RS1}:8080 (-t ${VIP}:80) up`, [`-d -t ${VIP}:80 -r ${SORRY}:8080`, `-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1 -x 0 -y 0`]),
    ],
  };
}

// last: the cases above use constants defined along the file
mkdirSync(OUT, { recursive: true });
const only = process.argv.slice(2);
for (const c of [natCase(), drCase(), tunCase(), ...moreCases(), ...ipv6Cases(), ...sctpCases()]) if (only.length === 0 || only.includes(c.name)) write(c);
