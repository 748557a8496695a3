// `make bench`: every benchmark of the project, one table. Run them on an
// otherwise idle machine; figures move by ±10% between runs on 2 cores.
import { existsSync } from 'node:fs';
import type { BenchResult } from './types.js';

const suites: [string, string, string][] = [
  ['wire', './wire.ts', 'benchWire'],
  ['sched', './sched.ts', 'benchSched'],
  ['conn', './conn.ts', 'benchConn'],
  ['director', './director.ts', 'benchDirector'],
  ['superframe', './superframe.ts', 'benchSuperframe'],
  ['ui', './ui.ts', 'benchUi'],
  ['fragments', './fragments.ts', 'benchFragments'],
  ['syn-flood', './syn-flood.ts', 'benchSynFlood'],
  ['io', './io.ts', 'benchIo'],
  ['e2e', './e2e.ts', 'benchE2e'],
  ['e2e6', './e2e6.ts', 'benchE2e6'],
  ['stress', './stress.ts', 'benchStress'],
];

const only = process.argv.slice(2);
let failed = false;
for (const [name, file, fn] of suites) {
  if (only.length > 0 && !only.includes(name)) continue;
  const url = new URL(file, import.meta.url);
  if (!existsSync(url)) continue;
  console.log(`\n== ${name}`);
  try {
    const mod = (await import(url.href)) as Record<string, () => Promise<BenchResult[]>>;
    for (const r of await mod[fn]!()) {
      const v = Number.isInteger(r.value) ? r.value.toLocaleString('en-US') : r.value.toFixed(2);
      console.log(`${r.name.padEnd(44)} ${v.padStart(14)} ${r.unit.padEnd(14)} ${r.note ?? ''}`);
    }
  } catch (e) {
    failed = true;
    console.log(`${name}: failed: ${(e as Error).stack ?? e}`);
  }
}
process.exitCode = failed ? 1 : 0;
