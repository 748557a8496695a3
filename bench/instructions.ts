// Instructions per forwarded packet, counted by callgrind: repeatable
// whatever else the machine is doing (wall-clock figures on 2 shared cores
// swing by ±15%). Each case runs twice under valgrind — warm-up only, then
// warm-up plus N packets — and the difference divided by N is the cost of
// one packet in the JIT-compiled steady state. Slow (a minute or two), so
// `make bench` runs it only with BENCH_INSTRUCTIONS=1.
//
//   node --import tsx bench/instructions.ts            # all cases, from src/
//   node --import tsx bench/instructions.ts nat dr     # some (nat6, dr6, tun6: IPv6)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CASES = ['nat', 'dr', 'tun', 'mix', 'nat6', 'dr6', 'tun6'] as const;
const N = 1_000_000;

function totalInstructions(dist: string, kase: string, n: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'tapvs-cg-'));
  const out = join(dir, 'cg.out');
  try {
    // --predictable: V8 compiles on the main thread at fixed points, so two runs JIT the same way
    const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--predictable',
      join(dist, 'bench', 'instructions-run.js'), kase, String(n)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`valgrind ${kase} ${n}: ${r.stderr.slice(-2000)}`);
    const m = /^summary:\s+(\d+)/m.exec(readFileSync(out, 'utf8'));
    if (!m) throw new Error('no callgrind summary');
    return Number(m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchInstructions(only: string[] = []): Promise<BenchResult[]> {
  const dist = mkdtempSync(join(tmpdir(), 'tapvs-bench-dist-'));
  try {
    // compiled JavaScript: under valgrind, tsx's transform would dwarf what is measured
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'),
      '--noEmit', 'false', '--outDir', dist, '--rootDir', ROOT], { stdio: 'inherit' });
    const out: BenchResult[] = [];
    for (const k of CASES) {
      if (only.length > 0 && !only.includes(k)) continue;
      const base = totalInstructions(dist, k, 0);
      const full = totalInstructions(dist, k, N);
      out.push({ name: `${k} instructions`, value: Math.round((full - base) / N), unit: 'instr/packet', note: `callgrind, ${N} packets after warm-up` });
    }
    return out;
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchInstructions(process.argv.slice(2))) console.log(`${r.name.padEnd(24)} ${String(r.value).padStart(8)} ${r.unit}  (${r.note})`);
}
