// Writes the pcap replay fixtures: for each case a config, an input capture
// and the output the director must produce, all under fixtures/pcap/.
//
//   npx tsx scripts/make-replay-fixtures.ts
//
// Both captures are built here with the packet builder from what each mode
// must do to a packet (NAT rewrites, DR MACs, TUN IPIP). The director is
// never run to make them, so test/cli/replay.test.ts can catch it going wrong.
// The configs have no static neighbours: the director ARPs for each next hop,
// the input holds the neighbour's answer, and the expected output holds the
// request and then the frame released by the answer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapngWriter, PcapWriter } from '../src/io/pcap-file.js';
import { eth } from '../src/wire/builder.js';

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
  conf: string;
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
  const cOut: Ends = { ...cIn, smac: M.in, dmac: M.rs1, dst: '192.168.10.11', dport: 8080 };
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
    // DR: the same packet, to the real server's MAC
    expected.push({ t, port: 0, frame: tcp({ ...cIn, smac: M.lan, dmac: M.rs1 }, seg) });
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
    // outer header: director -> real server, TOS/DF/TTL of the inner packet, ids 1, 2, ... in order
    const outer = eth({ src: M.up, dst: M.gw })
      .ipip({ src: '172.16.0.2', dst: '10.20.1.5', ttl: 58, id: i + 1, flags: 'DF' })
      .payload(f.subarray(14))
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
  console.log(`${c.name}: ${c.input.length} frames in, ${c.expected.length} expected out`);
}

mkdirSync(OUT, { recursive: true });
for (const c of [natCase(), drCase(), tunCase()]) write(c);
