// Wire decode speed: Ethernet + IPv4 + TCP views over pre-built frames, with
// and without checksum verification, and the in-place NAT rewrite.
// Runs alone with `node --import tsx bench/wire.ts`. Short runs: 2 shared cores.

import { pathToFileURL } from 'node:url';
import { eth } from '../src/wire/builder.js';
import { WIRE_OK } from '../src/wire/errors.js';
import { EthernetView } from '../src/wire/ethernet.js';
import { Ipv4View } from '../src/wire/ipv4.js';
import { TcpView } from '../src/wire/tcp.js';
import type { BenchResult } from './types.js';

const MS = 300;

function frames(count: number, payloadLen: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const payload = new Uint8Array(payloadLen).map((_, i) => (i * 7) & 0xff);
  for (let i = 0; i < count; i++) {
    const b = eth({ src: 0x020000000001 + i, dst: 0x02000000aa01 })
      .ipv4({ src: (0xac100000 + i * 13) >>> 0, dst: 0x0a000064, id: i, flags: 'DF' });
    // a mix: SYNs with options, pure ACKs, data segments
    const f = i % 3 === 0
      ? b.tcp({ sport: 1024 + i, dport: 80, flags: 'S', seq: i, options: [2, 4, 5, 0xb4, 1, 3, 3, 7] })
      : b.tcp({ sport: 1024 + i, dport: 80, flags: i % 3 === 1 ? 'A' : 'PA', seq: i, ack: i * 3, payload: i % 3 === 1 ? [] : payload });
    out.push(f.build());
  }
  return out;
}

/** Runs `body` over the frames for about `ms`; returns ns per packet. */
function time(fs: Uint8Array[], ms: number, body: (f: Uint8Array) => number): { ns: number; sink: number } {
  let sink = 0;
  for (let r = 0; r < 2000; r++) for (let i = 0; i < fs.length; i++) sink += body(fs[i]!); // warm up
  let n = 0;
  const limit = BigInt(ms) * 1_000_000n;
  const t0 = process.hrtime.bigint();
  let el = 0n;
  do {
    for (let r = 0; r < 1000; r++) for (let i = 0; i < fs.length; i++) sink += body(fs[i]!);
    n += 1000 * fs.length;
    el = process.hrtime.bigint() - t0;
  } while (el < limit);
  return { ns: Number(el) / n, sink };
}

const ethV = new EthernetView();
const ipV = new Ipv4View();
const tcpV = new TcpView();

/** The data path's decode: wrap each layer, check both checksums, read the 5-tuple. */
function decodeVerify(f: Uint8Array): number {
  if (ethV.wrap(f, 0, f.length) !== WIRE_OK) return 0;
  if (ipV.wrap(f, ethV.payloadOffset, ethV.payloadLength) !== WIRE_OK || !ipV.checksumOk()) return 0;
  if (tcpV.wrap(f, ipV.payloadOffset, ipV.payloadLength) !== WIRE_OK) return 0;
  if (!tcpV.checksumOk(ipV.src, ipV.dst)) return 0;
  return (ipV.src ^ ipV.dst ^ tcpV.sport ^ tcpV.dport ^ ipV.protocol) & 1 | 2;
}

function decodeOnly(f: Uint8Array): number {
  if (ethV.wrap(f, 0, f.length) !== WIRE_OK) return 0;
  if (ipV.wrap(f, ethV.payloadOffset, ethV.payloadLength) !== WIRE_OK) return 0;
  if (tcpV.wrap(f, ipV.payloadOffset, ipV.payloadLength) !== WIRE_OK) return 0;
  return (ipV.src ^ ipV.dst ^ tcpV.sport ^ tcpV.dport ^ ipV.protocol) & 1 | 2;
}

let natFlip = 0;
/** NAT in place: destination address and port, with RFC 1624 checksum patches (alternating so it stays valid). */
function natRewrite(f: Uint8Array): number {
  if (ethV.wrap(f, 0, f.length) !== WIRE_OK) return 0;
  if (ipV.wrap(f, ethV.payloadOffset, ethV.payloadLength) !== WIRE_OK) return 0;
  if (tcpV.wrap(f, ipV.payloadOffset, ipV.payloadLength) !== WIRE_OK) return 0;
  const old = ipV.dst;
  const nu = (old ^ 0x00010001) >>> 0;
  ipV.rewriteDst(nu);
  tcpV.pseudoAddrChanged(old, nu);
  tcpV.rewriteDport(tcpV.dport ^ 0x1f);
  natFlip++;
  return 2;
}

export async function benchWire(): Promise<BenchResult[]> {
  const small = frames(64, 40);
  const large = frames(64, 1400);
  const results: BenchResult[] = [];
  const avgLen = (fs: Uint8Array[]) => Math.round(fs.reduce((s, f) => s + f.length, 0) / fs.length);

  const check = (fs: Uint8Array[], body: (f: Uint8Array) => number): void => {
    for (const f of fs) if (body(f) === 0) throw new Error('bench frame failed to decode: the bench is wrong');
  };
  check(small, decodeVerify);
  check(large, decodeVerify);

  const a = time(small, MS, decodeVerify);
  results.push({ name: 'wire: eth+ipv4+tcp decode + both checksums', value: Math.round(1e9 / a.ns), unit: 'pkt/s',
    note: `${a.ns.toFixed(1)} ns/pkt, frames ${avgLen(small)} B avg` });
  const b = time(large, MS, decodeVerify);
  results.push({ name: 'wire: same, 1/3 of frames with 1400 B data', value: Math.round(1e9 / b.ns), unit: 'pkt/s',
    note: `${b.ns.toFixed(1)} ns/pkt, frames ${avgLen(large)} B avg, ${((avgLen(large) * 8) / b.ns).toFixed(2)} Gb/s` });
  const c = time(small, MS, decodeOnly);
  results.push({ name: 'wire: eth+ipv4+tcp header decode only', value: Math.round(1e9 / c.ns), unit: 'pkt/s',
    note: `${c.ns.toFixed(1)} ns/pkt, no checksum` });
  const d = time(small, MS, natRewrite);
  results.push({ name: 'wire: NAT rewrite (daddr+dport, RFC 1624)', value: Math.round(1e9 / d.ns), unit: 'pkt/s',
    note: `${d.ns.toFixed(1)} ns/pkt` });
  // millions of incremental patches later, every checksum must still verify
  check(small, decodeVerify);
  if (a.sink + b.sink + c.sink + d.sink === 0 || natFlip === 0) throw new Error('bench did no work');
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchWire()) {
    console.log(`${r.name.padEnd(46)} ${Math.round(r.value).toLocaleString('en-US').padStart(14)} ${r.unit.padEnd(6)} ${r.note ?? ''}`);
  }
}
