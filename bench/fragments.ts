// A flood of first fragments from random sources (what `hping3 --udp -x
// --flood --rand-source` sends) through a NAT director, in process: the
// fragment table must stay within its fixed size, per-frame cost flat as the
// flood grows, and timer ticks short.
import { pathToFileURL } from 'node:url';
import { Director } from '../src/director/director.js';
import { FWD_MASQ } from '../src/model/dest.js';
import { eth } from '../src/wire/builder.js';
import { config } from './director.js';
import type { BenchResult } from './types.js';

const HEADROOM = 64;

function flood(n: number): { nsPerFrame: number; heapMb: number; maxTickMs: number; table: number } {
  const d = new Director(config(FWD_MASQ), { send: () => {} });
  // a first fragment to a port with no service: routed, and its decision kept
  const f = eth({ src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' })
    .ipv4({ src: '172.16.0.1', dst: '172.16.9.9', id: 1, flags: 'MF' })
    .udp({ sport: 1000, dport: 9, payload: new Uint8Array(64) })
    .build();
  const buf = new Uint8Array(HEADROOM + f.length + HEADROOM);
  buf.set(f, HEADROOM);
  const ip = HEADROOM + 14;
  let seed = 12345;
  let maxTick = 0;
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    // the director rewrote the last one in place: a fresh copy, a random source and id, the header checksum redone
    buf.set(f, HEADROOM);
    buf[ip + 12] = 172;
    buf[ip + 13] = 16 + ((seed >>> 24) & 15);
    buf[ip + 14] = (seed >>> 16) & 0xff;
    buf[ip + 15] = (seed >>> 8) & 0xff;
    buf[ip + 4] = i >>> 8;
    buf[ip + 5] = i;
    buf[ip + 10] = 0;
    buf[ip + 11] = 0;
    let s = 0;
    for (let k = 0; k < 20; k += 2) s += (buf[ip + k]! << 8) | buf[ip + k + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    s = ~s & 0xffff;
    buf[ip + 10] = s >>> 8;
    buf[ip + 11] = s;
    // 10 s of flood at the rate of the loop, on a clock of 100 ms ticks
    const now = 1_000 + Math.floor((i / n) * 10_000);
    d.process(0, buf, HEADROOM, f.length, now);
    if (i % 1000 === 0) {
      const a = process.hrtime.bigint();
      d.tick(now);
      const ms = Number(process.hrtime.bigint() - a) / 1e6;
      if (ms > maxTick) maxTick = ms;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  global.gc?.();
  return { nsPerFrame: ns, heapMb: (process.memoryUsage().heapUsed - heap0) / 1e6, maxTickMs: maxTick, table: d.frags.size };
}

export async function benchFragments(): Promise<BenchResult[]> {
  const small = flood(100_000);
  const big = flood(1_000_000);
  return [
    { name: 'fragment flood, 100 k first fragments', value: Math.round(small.nsPerFrame), unit: 'ns/frame', note: `table ${small.table} entries, heap +${small.heapMb.toFixed(1)} MB, longest tick ${small.maxTickMs.toFixed(2)} ms` },
    { name: 'fragment flood, 1 M first fragments', value: Math.round(big.nsPerFrame), unit: 'ns/frame', note: `table ${big.table} entries (fixed size), heap +${big.heapMb.toFixed(1)} MB, longest tick ${big.maxTickMs.toFixed(2)} ms` },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchFragments()) console.log(`${r.name.padEnd(40)} ${String(r.value).padStart(8)} ${r.unit}  (${r.note})`);
}
