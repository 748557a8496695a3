import { ConnTable } from '../src/conn/table.js';
import { schedule } from '../src/conn/schedule.js';
import { DIR_INPUT, TH_ACK } from '../src/conn/tcp-states.js';
import { IPPROTO_TCP } from '../src/model/proto.js';
import { Service } from '../src/model/service.js';
import { getScheduler } from '../src/sched/index.js';
import { schedPacket, type SchedPacket } from '../src/model/scheduler.js';
import type { BenchResult } from './types.js';

// Connection table figures: new conns/s (schedule + insert) with wlc and mh,
// established lookups/s at 1 M live conns, bytes per conn at 1 M. Kept short
// (the machine's 2 cores are shared): about 10 s in all.

const VIP = 0x0a000001;
const MILLION = 1_000_000;

function service(scheduler: string): Service {
  const svc = new Service({ proto: IPPROTO_TCP, addr: VIP, port: 80, scheduler });
  for (let i = 0; i < 10; i++) svc.addDest({ addr: (0xc0a80a00 | (11 + i)) >>> 0, port: 8080, weight: 1 + (i % 4) });
  return svc;
}

// Distinct client keys: 1024 ports on each of ~1000 client addresses.
function caddrOf(k: number): number {
  return (0xac100000 + (k >>> 10)) >>> 0;
}
function cportOf(k: number): number {
  return 1024 + (k & 1023);
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Schedules `n` new conns into a fresh table; returns conns/s. */
function newConns(scheduler: string, n: number): number {
  const table = new ConnTable({ max: n, seed: 0x5eed });
  const svc = service(scheduler);
  const pkt: SchedPacket = schedPacket(IPPROTO_TCP, 0, 0, VIP, 80);
  const t0 = process.hrtime.bigint();
  let bad = 0;
  for (let k = 0; k < n; k++) {
    pkt.caddr = caddrOf(k);
    pkt.cport = cportOf(k);
    if (schedule(table, svc, pkt, 0) < 0) bad++;
  }
  const s = seconds(t0);
  if (bad > 0) throw new Error(`${bad} conns not scheduled`);
  return n / s;
}

function memNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function benchConn(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const N = 500_000;
  const note = `${N / 1000}k conns into an empty table`;

  newConns('wlc', 50_000); // warm-up
  out.push({ name: 'conn new (schedule + insert), wlc, 10 dests', value: Math.round(newConns('wlc', N)), unit: 'conns/s', note });
  if (getScheduler('mh')) {
    newConns('mh', 50_000);
    out.push({ name: 'conn new (schedule + insert), mh, 10 dests', value: Math.round(newConns('mh', N)), unit: 'conns/s', note });
  } else {
    out.push({ name: 'conn new (schedule + insert), mh, 10 dests', value: 0, unit: 'conns/s', note: 'skipped: mh not registered' });
  }

  // 1 M live, established conns: memory, then lookups of random live keys
  gc();
  const before = memNow();
  const table = new ConnTable({ max: MILLION, seed: 0x5eed });
  const svc = service('wlc');
  const pkt: SchedPacket = schedPacket(IPPROTO_TCP, 0, 0, VIP, 80);
  for (let k = 0; k < MILLION; k++) {
    pkt.caddr = caddrOf(k);
    pkt.cport = cportOf(k);
    const s = schedule(table, svc, pkt, 0);
    table.update(s, DIR_INPUT, TH_ACK, 0); // NONE + ACK -> ESTABLISHED
  }
  gc();
  const bytes = (memNow() - before) / MILLION;
  const exact = (globalThis as { gc?: unknown }).gc !== undefined;
  out.push({
    name: 'conn memory per conn at 1 M', value: Math.round(bytes * 10) / 10, unit: 'B/conn',
    note: `heapUsed + arrayBuffers delta, table built and filled${exact ? '' : ' (no --expose-gc: rough)'}`,
  });
  out.push({
    name: 'conn typed arrays per slot', value: Math.round((table.bytesAllocated() / MILLION) * 10) / 10, unit: 'B/conn',
    note: 'sum of the preallocated arrays for max = 1 M',
  });

  const M = 1 << 21;
  const keys = new Uint32Array(M);
  let x = 0x2545f491;
  for (let i = 0; i < M; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    keys[i] = x % MILLION;
  }
  const lookupPass = (): number => {
    let hits = 0;
    for (let i = 0; i < M; i++) {
      const k = keys[i]!;
      if (table.lookupIn(IPPROTO_TCP, caddrOf(k), cportOf(k), VIP, 80, 1) >= 0) hits++;
    }
    return hits;
  };
  let hits = lookupPass(); // warm-up, not timed
  const rounds = 3;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) hits += lookupPass();
  const s = seconds(t0);
  if (hits !== (rounds + 1) * M) throw new Error('lookups missed live conns');
  out.push({ name: 'conn lookupIn, 1 M established conns', value: Math.round((rounds * M) / s), unit: 'lookups/s', note: 'random live keys' });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchConn()) console.log(`${r.name}: ${r.value.toLocaleString('en')} ${r.unit}${r.note ? ` (${r.note})` : ''}`);
}
