// What `--ui` costs the forwarding path: established NAT forwarded in process
// (as bench/director.ts does) with no tracer (--ui off: the director holds
// none), with a tracer whose sink does nothing (the cost of building the
// trace events: a copy of each frame in and out), and with the browser
// view's trace consumer attached (src/ui/hub.ts: each frame filed as a pass
// of its connection). Runs are interleaved so that drift on a shared
// machine falls on all three alike.
import { pathToFileURL } from 'node:url';
import { Director } from '../src/director/director.js';
import { FWD_MASQ } from '../src/model/dest.js';
import type { TraceSink } from '../src/trace/events.js';
import { UiHub } from '../src/ui/hub.js';
import { clientAddr, clientFrame, config } from './director.js';
import type { BenchResult } from './types.js';

const FLOWS = 4096;
const HEADROOM = 64;
const N = 400_000;

function setup(trace: TraceSink | undefined): (n: number) => void {
  const d = new Director(config(FWD_MASQ), { send: () => {} }, { trace });
  const buf = new Uint8Array(HEADROOM + 2048);
  const acks: Uint8Array[] = [];
  for (let i = 0; i < FLOWS; i++) {
    const syn = clientFrame(clientAddr(i), 10_000 + i, 'S');
    buf.set(syn, HEADROOM);
    d.process(0, buf, HEADROOM, syn.length, 1_000);
    acks.push(clientFrame(clientAddr(i), 10_000 + i, 'A', 64));
  }
  let now = 1_000;
  return (n) => {
    for (let i = 0; i < n; i++) {
      const f = acks[i & (FLOWS - 1)]!;
      buf.set(f, HEADROOM);
      d.process(0, buf, HEADROOM, f.length, now);
    }
    now += 1;
  };
}

export async function benchUi(): Promise<BenchResult[]> {
  const hub = new UiHub();
  const runs = {
    off: setup(undefined),
    tracer: setup(() => {}),
    ui: setup(hub.sink),
  };
  const times: Record<keyof typeof runs, number[]> = { off: [], tracer: [], ui: [] };
  for (const r of Object.values(runs)) r(100_000); // warm up the JIT
  for (let k = 0; k < 5; k++) {
    for (const [name, run] of Object.entries(runs) as [keyof typeof runs, (n: number) => void][]) {
      const t0 = process.hrtime.bigint();
      run(N);
      times[name].push(Number(process.hrtime.bigint() - t0));
      // a live director's microtask would close the last pass: let it
      await new Promise((r) => setImmediate(r));
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[2]!;
  const rate = (ns: number) => Math.round(N / (ns / 1e9));
  const off = median(times.off);
  const res = (name: string, ns: number, note: string): BenchResult => ({
    name, value: rate(ns), unit: 'packets/s', note: `${(ns / N).toFixed(0)} ns/packet (median of 5); ${note}`,
  });
  return [
    res('NAT established, --ui off (no tracer)', off, `${FLOWS} flows, 118-byte frames`),
    res('NAT established, tracer with an empty sink', median(times.tracer), `${(off / median(times.tracer)).toFixed(2)}× of off: building the events`),
    res('NAT established, --ui on (the view\'s consumer)', median(times.ui),
      `${(off / median(times.ui)).toFixed(2)}× of off; ${hub.walks.size} conns remembered, ${hub.passes.size} passes kept`),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  for (const r of await benchUi()) console.log(r.name.padEnd(48), r.value.toLocaleString('en-US').padStart(12), r.unit, r.note);
}
