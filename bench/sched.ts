import { IPPROTO_TCP } from '../src/model/proto.js';
import { Service } from '../src/model/service.js';
import '../src/sched/index.js';
import { schedPacket, type SchedPacket } from '../src/model/scheduler.js';
import type { BenchResult } from './types.js';

// Picks per second of wlc (a list walk) and mh (a keyed hash + table lookup)
// over 10 dests. Short runs: the machine's 2 cores are shared.

function build(scheduler: string): Service {
  const svc = new Service({ proto: IPPROTO_TCP, addr: 0x0a000001, port: 80, scheduler });
  for (let i = 0; i < 10; i++) {
    const d = svc.addDest({ addr: (0xc0a80a00 | (11 + i)) >>> 0, port: 80, weight: 1 + (i % 4) });
    d.activeConns = (i * 37) % 11;
    d.inactConns = (i * 53) % 17;
  }
  return svc;
}

function measure(scheduler: string, ms: number): number {
  const svc = build(scheduler);
  const pkt: SchedPacket = schedPacket(IPPROTO_TCP, 0xac100001, 1024, 0x0a000001, 80);
  const st = svc.schedState;
  const pick = svc.sched.pick;
  let x = 0x12345678;
  let sink = 0;
  // warm up, then time batches until `ms` elapse
  for (let i = 0; i < 200_000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    pkt.caddr = x;
    if (pick(svc, st, pkt, 0) !== null) sink++;
  }
  let n = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let el = 0n;
  do {
    for (let i = 0; i < 100_000; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      pkt.caddr = x;
      if (pick(svc, st, pkt, 0) !== null) sink++;
    }
    n += 100_000;
    el = process.hrtime.bigint() - t0;
  } while (el < limit);
  if (sink === -1) console.log(sink); // keep the loop observable
  return n / (Number(el) / 1e9);
}

export async function benchSched(): Promise<BenchResult[]> {
  return [
    { name: 'sched wlc pick, 10 dests', value: Math.round(measure('wlc', 500)), unit: 'picks/s' },
    { name: 'sched mh pick, 10 dests', value: Math.round(measure('mh', 500)), unit: 'picks/s', note: 'table 4093 slots, random clients' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchSched()) console.log(`${r.name}: ${r.value.toLocaleString('en')} ${r.unit}${r.note ? ` (${r.note})` : ''}`);
}
