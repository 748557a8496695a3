// Frames through a director, as its ports would hand them over: valid,
// mutated and random ones (frames.ts), on a clock that moves on (timers,
// expiry, ARP retries run), for NAT, DR and TUN. What is watched: an
// exception (the per-frame path must never throw), each frame sent (a
// well-formed Ethernet frame from the port's own MAC; an IPv4 header that
// parses with a right checksum), the slowest frame, the memory before and
// after, and the drops by reason.
import { performance } from 'node:perf_hooks';
import { Director } from '../director/director.js';
import { HEADROOM, MAX_FRAME, RX_BUFFER_SIZE } from '../io/port.js';
import { macToString, readMac } from '../wire/addr.js';
import { EthernetView } from '../wire/ethernet.js';
import { Ipv4View } from '../wire/ipv4.js';
import { WIRE_OK } from '../wire/errors.js';
import { FramePool } from './frames.js';
import { Rng } from './rng.js';
import { target, type Mode } from './topologies.js';

export interface Finding {
  /** Which frame of the run (with the seed, enough to reproduce it). */
  index: number;
  port: number;
  what: string;
  /** The frame received, hex. */
  hex: string;
}

export interface FrameFuzzReport {
  mode: Mode;
  seed: number;
  frames: number;
  ms: number;
  exceptions: number;
  /** Sent frames that broke a rule above, by rule. */
  badOutput: Record<string, number>;
  /** The first few exceptions and bad outputs. */
  findings: Finding[];
  slowest: { us: number; index: number; hex: string };
  /** MB; heap after the run, the director's tables included. */
  memory: { heapBefore: number; heapAfter: number; rssBefore: number; rssAfter: number };
  drops: Record<string, number>;
  sent: number;
  /** Frames longer than a port takes (MAX_FRAME): a port drops them before the director. */
  tooBigForPort: number;
}

const MAX_FINDINGS = 8;
const TICK_MS = 100;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const mb = (n: number): number => Math.round((n / (1 << 20)) * 10) / 10;

export function fuzzDirector(mode: Mode, seed: number, frames: number): FrameFuzzReport {
  const t = target(mode);
  const rng = new Rng(seed);
  const portMacs = t.cfg.ports.map((p) => p.mac);
  const badOutput: Record<string, number> = {};
  const findings: Finding[] = [];
  let current: { index: number; port: number; frame: Uint8Array } = { index: -1, port: 0, frame: new Uint8Array(0) };
  const ethv = new EthernetView();
  const ipv = new Ipv4View();
  let sent = 0;
  const bad = (what: string) => {
    badOutput[what] = (badOutput[what] ?? 0) + 1;
    if (findings.length < MAX_FINDINGS) findings.push({ index: current.index, port: current.port, what, hex: hex(current.frame) });
  };
  const d = new Director(t.cfg, {
    send(port, buf, off, len) {
      sent++;
      if (ethv.wrap(buf, off, len) !== WIRE_OK) return bad('sent frame shorter than an Ethernet header');
      const src = readMac(buf, off + 6);
      if (src !== portMacs[port]) return bad(`sent from ${macToString(src)}, not the port's MAC`);
      if (ethv.etherType === 0x0800 && !ethv.hasVlan) {
        const ipOff = ethv.payloadOffset;
        if (ipv.wrap(buf, ipOff, off + len - ipOff) !== WIRE_OK) return bad('sent IPv4 header does not parse');
        if (!ipv.checksumOk()) bad('sent IPv4 header checksum wrong');
      }
    },
  });
  const buf = new Uint8Array(RX_BUFFER_SIZE);
  let now = 1_000;
  let nextTick = now + TICK_MS;
  d.start(now);
  let exceptions = 0;
  let tooBig = 0;
  let slowest = { us: 0, index: -1, hex: '' };
  const pool = new FramePool(rng, t);
  const mem0 = process.memoryUsage();
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) {
    const f = pool.next();
    current = { index: i, port: f.port, frame: f.frame };
    // the clock: mostly small steps, now and then a long silence (timeouts fire)
    const r = rng.int(1000);
    now += r < 990 ? rng.int(3) : r < 999 ? rng.range(1000, 5000) : rng.range(30_000, 1_000_000);
    if (now >= nextTick) {
      try {
        d.tick(now);
      } catch (e) {
        exceptions++;
        if (findings.length < MAX_FINDINGS) findings.push({ index: i, port: -1, what: `tick threw: ${(e as Error).stack ?? e}`, hex: '' });
      }
      nextTick = now + TICK_MS;
    }
    if (f.frame.length > MAX_FRAME) {
      tooBig++;
      continue;
    }
    buf.set(f.frame, HEADROOM);
    buf.fill(0, HEADROOM + f.frame.length, HEADROOM + f.frame.length + 64);
    const s = performance.now();
    try {
      d.process(f.port, buf, HEADROOM, f.frame.length, now);
    } catch (e) {
      exceptions++;
      if (findings.length < MAX_FINDINGS) findings.push({ index: i, port: f.port, what: `threw: ${(e as Error).stack ?? e}`, hex: hex(f.frame) });
    }
    const us = (performance.now() - s) * 1000;
    if (us > slowest.us) slowest = { us: Math.round(us), index: i, hex: hex(f.frame) };
  }
  const ms = performance.now() - t0;
  const mem1 = process.memoryUsage();
  return {
    mode, seed, frames, ms: Math.round(ms), exceptions, badOutput, findings, slowest,
    memory: { heapBefore: mb(mem0.heapUsed), heapAfter: mb(mem1.heapUsed), rssBefore: mb(mem0.rss), rssAfter: mb(mem1.rss) },
    drops: d.drops.toObject(), sent, tooBigForPort: tooBig,
  };
}
