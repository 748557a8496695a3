// A SYN flood at the full input rate, in process, through a NAT director
// with the default table (max_conns 1048576): SYNs from random sources and
// ports, as `hping3 -S --flood --rand-source` sends them, and among them a
// legitimate client opening connections the way TCP does — its SYN, the real
// server's SYN-ACK 0.2 ms later, its ACK one round trip after the SYN. A
// connection succeeds when that ACK goes on to the real server.
//
// "The full input rate" is measured first: how many flood SYNs a second the
// director takes in once the table is full (the slowest case: every SYN
// evicts a half-open connection). The flood then runs on a simulated clock
// at that rate, so each variant sees the same flood whatever the machine
// does meanwhile. The clock ticks the director every 10 ms (as `tapvs run`),
// which runs the IPVS defences' once-a-second work.
//
// Variants: no defence at all; each IPVS defence in its automatic mode
// (drop_entry 1, drop_packet 1, secure_tcp 1, all three); evict_embryonic
// (tapvs's default), alone and with secure_tcp 1; and evict_embryonic with
// 64 k and 16 k tables, where a half-open connection lives only max_conns /
// rate seconds: a client whose handshake takes longer is not served.
import { pathToFileURL } from 'node:url';
import { Director } from '../src/director/director.js';
import { FWD_MASQ } from '../src/model/dest.js';
import type { DirectorOptions } from '../src/model/config.js';
import { parseIp as ip } from '../src/wire/addr.js';
import { eth } from '../src/wire/builder.js';
import { config } from './director.js';
import type { BenchResult } from './types.js';

const HEADROOM = 64;
/** Legitimate round-trip times, ms: a LAN, a continent, the other side of the world. */
const RTTS = [1, 20, 200];
/** The real server answers a SYN after this long, ms. */
const SERVER_MS = 0.2;
/** One legitimate connection per this many flood SYNs. */
const LEGIT_EVERY = 250;
/** Simulated seconds measured once the table is full. */
const WINDOW_S = 1;
const TICK_MS = 10;
const LEGIT = ip('172.16.255.1');
const VIP = ip('10.0.0.100');
const RS_PORT = 80;

function synFrame(): Uint8Array {
  return eth({ src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' })
    .ipv4({ src: '172.16.0.1', dst: '10.0.0.100' })
    .tcp({ sport: 1, dport: 80, flags: 'S', seq: 1 })
    .build();
}

function clientFrame(sport: number, flags: string): Uint8Array {
  return eth({ src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' })
    .ipv4({ src: LEGIT, dst: VIP })
    .tcp({ sport, dport: 80, flags, seq: 1, ack: flags.includes('A') ? 1 : 0 })
    .build();
}

function serverFrame(rs: number, dport: number): Uint8Array {
  return eth({ src: '02:00:00:00:02:11', dst: '02:00:00:00:01:01' })
    .ipv4({ src: rs, dst: LEGIT })
    .tcp({ sport: RS_PORT, dport, flags: 'SA', seq: 1, ack: 2 })
    .build();
}

/** The IPv4 header checksum of the frame in buf at HEADROOM, redone. */
function ipChecksum(buf: Uint8Array): void {
  const o = HEADROOM + 14;
  buf[o + 10] = 0;
  buf[o + 11] = 0;
  let s = 0;
  for (let k = 0; k < 20; k += 2) s += (buf[o + k]! << 8) | buf[o + k + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  buf[o + 10] = s >>> 8;
  buf[o + 11] = s & 0xff;
}

interface Run {
  /** flood SYNs per second the director took in (wall clock) */
  rate: number;
  /** per RTT: legitimate connections tried and served once the table was full */
  tried: number[];
  served: number[];
  drops: Record<string, number>;
  evicted: number;
  dropEntry: number;
}

/**
 * Runs the flood until the table is full plus `WINDOW_S` simulated seconds
 * at `rate` SYNs/s (or, with rate 0, `calibrate` SYNs as fast as possible,
 * timing those after the table is full).
 */
function flood(options: Partial<DirectorOptions>, rate: number, calibrate = 0): Run {
  const cfg = config(FWD_MASQ);
  cfg.options = { ...cfg.options, ...options };
  const max = cfg.options.maxConns;
  // what the inside port sent: the real server the legitimate client's SYN went to, and its ACKs
  let lastRs = 0;
  let legitOut = 0;
  const d = new Director(cfg, {
    send: (port, b, off) => {
      if (port !== 0 && ((b[off + 26]! << 24) | (b[off + 27]! << 16) | (b[off + 28]! << 8) | b[off + 29]!) >>> 0 === LEGIT) {
        lastRs = ((b[off + 30]! << 24) | (b[off + 31]! << 16) | (b[off + 32]! << 8) | b[off + 33]!) >>> 0;
        legitOut++;
      }
    },
  });
  const syn = synFrame();
  const buf = new Uint8Array(HEADROOM + 128);
  const ipo = HEADROOM + 14;
  const step = rate > 0 ? 1000 / rate : 0.001;
  // measured: the legitimate connections opened in WINDOW_S after the table is full; the flood
  // goes on past the window until the last of their ACKs is in
  const windowN = Math.round(rate * WINDOW_S);
  const tailN = Math.ceil(Math.max(...RTTS) / step) + 1;
  let total = rate > 0 ? Number.MAX_SAFE_INTEGER : calibrate;
  // pending legitimate events, one FIFO per RTT (each in time order): [flood index due, client port, rtt class]
  const acks: number[][] = RTTS.map(() => []);
  const synAcks: number[] = []; // [due, port, rs] triples
  const tried = RTTS.map(() => 0);
  const served = RTTS.map(() => 0);
  let legitPort = 1024;
  let full = -1;
  let seed = 0x9e3779b9;
  let now = 1000;
  let nextTick = now;
  let t0 = 0n;
  const legit = (f: Uint8Array, port: number) => {
    buf.set(f, HEADROOM);
    d.process(port, buf, HEADROOM, f.length, now);
  };
  for (let i = 0; i < total; i++) {
    now += step;
    if (now >= nextTick) {
      d.tick(now);
      nextTick += TICK_MS;
    }
    if (calibrate > 0 && i === max) t0 = process.hrtime.bigint();
    // the flood: a random source in 172.16.0.0/16 (not the legitimate client's /24) and port
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    buf.set(syn, HEADROOM);
    buf[ipo + 14] = (seed >>> 24) % 255;
    buf[ipo + 15] = (seed >>> 16) & 0xff;
    buf[ipo + 20] = (seed >>> 8) & 0xff;
    buf[ipo + 21] = seed & 0xff;
    ipChecksum(buf);
    d.process(0, buf, HEADROOM, syn.length, now);
    if (full < 0 && d.conns.available === 0) {
      full = i;
      if (rate > 0) total = full + windowN + tailN;
    }
    if (rate === 0) continue;
    const measuring = full >= 0 && i < full + windowN;
    // the legitimate client
    if (i % LEGIT_EVERY === 0 && i < total - tailN) {
      const k = (i / LEGIT_EVERY) % RTTS.length;
      legitPort = legitPort === 65535 ? 1024 : legitPort + 1;
      const before = legitOut;
      legit(clientFrame(legitPort, 'S'), 0);
      if (measuring) tried[k]!++;
      if (legitOut > before) synAcks.push(i + Math.ceil(SERVER_MS / step), legitPort, lastRs);
      acks[k]!.push(i + Math.ceil(RTTS[k]! / step), legitPort, measuring ? 1 : 0);
    }
    while (synAcks.length > 0 && synAcks[0]! <= i) {
      legit(serverFrame(synAcks[2]!, synAcks[1]!), 1);
      synAcks.splice(0, 3);
    }
    for (let k = 0; k < RTTS.length; k++) {
      const q = acks[k]!;
      while (q.length > 0 && q[0]! <= i) {
        const before = legitOut;
        legit(clientFrame(q[1]!, 'A'), 0);
        if (q[2] === 1 && legitOut > before) served[k]!++;
        q.splice(0, 3);
      }
    }
  }
  const wallNs = calibrate > 0 ? Number(process.hrtime.bigint() - t0) : 0;
  return {
    rate: calibrate > 0 ? (calibrate - max) / (wallNs / 1e9) : rate,
    tried, served,
    drops: d.drops.toObject(),
    evicted: d.conns.counters.evicted,
    dropEntry: d.conns.counters.dropEntry,
  };
}

const pct = (served: number, tried: number) => (tried === 0 ? 0 : (100 * served) / tried);

export async function benchSynFlood(): Promise<BenchResult[]> {
  // the full input rate: flood SYNs a second into a full table, each evicting the oldest half-open connection
  const cal = flood({}, 0, (1 << 20) + 600_000);
  const rate = Math.round(cal.rate);
  const out: BenchResult[] = [{
    name: 'SYN flood: full input rate', value: rate, unit: 'SYN/s',
    note: `new connections into a full 1 M table, each evicting one (wall clock); the flood below runs at this rate`,
  }];
  const variants: [string, Partial<DirectorOptions>][] = [
    ['no defence', { evictEmbryonic: false }],
    ['IPVS drop_entry 1', { evictEmbryonic: false, dropEntry: 1 }],
    ['IPVS drop_packet 1', { evictEmbryonic: false, dropPacket: 1 }],
    ['IPVS secure_tcp 1', { evictEmbryonic: false, secureTcp: 1 }],
    ['IPVS all three 1', { evictEmbryonic: false, dropEntry: 1, dropPacket: 1, secureTcp: 1 }],
    ['evict_embryonic (default)', {}],
    ['evict_embryonic + secure_tcp 1', { secureTcp: 1 }],
    ['evict_embryonic, max_conns 65536', { maxConns: 65536 }],
    // a half-open connection now lives 16384 / rate seconds, less than the longest RTT: where it stops working
    ['evict_embryonic, max_conns 16384', { maxConns: 16384 }],
  ];
  for (const [label, opts] of variants) {
    const r = flood(opts, rate);
    const all = pct(r.served.reduce((a, b) => a + b, 0), r.tried.reduce((a, b) => a + b, 0));
    const byRtt = RTTS.map((t, k) => `RTT ${t} ms ${pct(r.served[k]!, r.tried[k]!).toFixed(1)}%`).join(', ');
    const extra = [
      r.evicted > 0 ? `${r.evicted} evicted` : '',
      r.dropEntry > 0 ? `${r.dropEntry} dropped by drop_entry` : '',
      Object.entries(r.drops).map(([k, v]) => `${k} ${v}`).join(' '),
    ].filter(Boolean).join('; ');
    out.push({
      name: `SYN flood: ${label}`, value: Number(all.toFixed(2)), unit: '% served',
      note: `${byRtt} (${r.tried.reduce((a, b) => a + b, 0)} legitimate conns in ${WINDOW_S} s of flood into a full table)${extra ? `; ${extra}` : ''}`,
    });
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchSynFlood()) console.log(`${r.name.padEnd(44)} ${String(r.value).padStart(10)} ${r.unit}  (${r.note ?? ''})`);
}
