// One fuzz run: frames through NAT, DR and TUN directors, config files, the
// control plane's inputs and capture files, each part from its own seed
// derived from the run's (so `only` reruns a part exactly), and a report.
import { fuzzCaptures, type CaptureFuzzReport } from './capture.js';
import { fuzzConfigs, type ConfigFuzzReport } from './config.js';
import { fuzzControl, type ControlFuzzReport } from './control.js';
import { fuzzDirector, type FrameFuzzReport } from './director.js';
import { Rng } from './rng.js';
import { MODES } from './topologies.js';

export const PARTS = ['frames', 'configs', 'control', 'captures'] as const;
export type Part = (typeof PARTS)[number];

export interface FuzzOptions {
  seed: number;
  /** Frames in all, shared by the three directors. */
  frames: number;
  configs: number;
  requests: number;
  captures: number;
  only?: readonly Part[];
  /** Told when each part is done (a long run says how it goes). */
  progress?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  frames: FrameFuzzReport[];
  configs?: ConfigFuzzReport;
  control?: ControlFuzzReport;
  captures?: CaptureFuzzReport;
  /** Exceptions plus broken rules, over every part: 0 is a clean run. */
  problems: number;
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const root = new Rng(o.seed);
  // every part's seed is drawn whether it runs or not, so a part's seed does not depend on `only`
  const seeds = { frames: MODES.map(() => root.u32()), configs: root.u32(), control: root.u32(), captures: root.u32() };
  const on = (p: Part) => !o.only || o.only.includes(p);
  const report: FuzzReport = { seed: o.seed, frames: [], problems: 0 };
  if (on('frames') && o.frames > 0) {
    MODES.forEach((m, i) => {
      const r = fuzzDirector(m, seeds.frames[i]!, Math.ceil(o.frames / MODES.length));
      report.frames.push(r);
      report.problems += r.exceptions + sum(r.badOutput);
      o.progress?.(`frames ${m}: ${r.frames} in ${r.ms} ms, ${r.exceptions} exceptions`);
    });
  }
  if (on('configs') && o.configs > 0) {
    const r = fuzzConfigs(new Rng(seeds.configs), seeds.configs, o.configs);
    report.configs = r;
    report.problems += r.exceptions + sum(r.broken);
    o.progress?.(`configs: ${r.configs} in ${r.ms} ms`);
  }
  if (on('control') && o.requests > 0) {
    const r = await fuzzControl(new Rng(seeds.control), seeds.control, o.requests);
    report.control = r;
    report.problems += r.exceptions + sum(r.broken);
    o.progress?.(`control: ${r.requests} in ${r.ms} ms`);
  }
  if (on('captures') && o.captures > 0) {
    const r = fuzzCaptures(new Rng(seeds.captures), seeds.captures, o.captures);
    report.captures = r;
    report.problems += r.exceptions + sum(r.broken);
    o.progress?.(`captures: ${r.captures} in ${r.ms} ms`);
  }
  return report;
}

const n = (x: number): string => x.toLocaleString('en-US');

/** The report as text: a table per part, then the findings with what reproduces them. */
export function formatReport(r: FuzzReport): string {
  const out: string[] = [`tapvs fuzz, seed ${r.seed}`];
  if (r.frames.length > 0) {
    out.push('', 'frames               frames   frames/s  exceptions  bad sent  slowest (us, #)     heap MB before/after  rss MB before/after  sent');
    for (const f of r.frames) {
      const rate = Math.round(f.frames / Math.max(f.ms / 1000, 1e-3));
      out.push(`  ${f.mode.padEnd(6)} ${n(f.frames).padStart(14)} ${n(rate).padStart(10)} ${String(f.exceptions).padStart(11)} ${String(Object.values(f.badOutput).reduce((a, b) => a + b, 0)).padStart(9)}  ${`${n(f.slowest.us)} #${f.slowest.index}`.padEnd(18)} ${`${f.memory.heapBefore} / ${f.memory.heapAfter}`.padEnd(21)} ${`${f.memory.rssBefore} / ${f.memory.rssAfter}`.padEnd(20)} ${n(f.sent)}`);
    }
    const drops: Record<string, number> = {};
    for (const f of r.frames) for (const [k, v] of Object.entries(f.drops)) drops[k] = (drops[k] ?? 0) + v;
    out.push('  drops by reason: ' + Object.entries(drops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', '));
  }
  if (r.configs) {
    const c = r.configs;
    out.push('', `configs: ${n(c.configs)} (${n(c.accepted)} accepted) in ${n(c.ms)} ms, ${c.exceptions} exceptions, slowest ${c.slowest.ms} ms (#${c.slowest.index}, ${c.slowest.lines} lines)` +
      (c.tablesTooLargeToBuild ? `, ${c.tablesTooLargeToBuild} with a table too large to build here` : ''));
  }
  if (r.control) {
    const c = r.control;
    out.push('', `control: ${n(c.requests)} inputs in ${n(c.ms)} ms, ${c.exceptions} exceptions; exit codes ${Object.entries(c.codes).map(([k, v]) => `${k}: ${n(v)}`).join(', ')}; ` +
      `-R both ways ${c.restores.applied} applied, ${c.restores.refused} refused; socket ${c.socket.connections} connections: ${c.socket.replied} answered, ${c.socket.refused} refused with a reason, ${c.socket.abandoned} abandoned by the client`);
  }
  if (r.captures) {
    const c = r.captures;
    out.push('', `captures: ${n(c.captures)} in ${n(c.ms)} ms: ${n(c.read)} read (${n(c.frames)} frames), ${n(c.refused)} refused with a CaptureError, ${c.exceptions} other exceptions; slowest ${c.slowest.ms} ms (#${c.slowest.index}, ${n(c.slowest.bytes)} bytes)`);
  }
  const findings: string[] = [];
  for (const f of r.frames) {
    for (const [k, v] of Object.entries(f.badOutput)) findings.push(`frames ${f.mode}: ${k}: ${v}`);
    for (const x of f.findings) findings.push(`frames ${f.mode} #${x.index} port ${x.port}: ${x.what}\n    ${x.hex}`);
  }
  for (const [name, part] of [['configs', r.configs], ['control', r.control], ['captures', r.captures]] as const) {
    if (!part) continue;
    for (const [k, v] of Object.entries(part.broken)) findings.push(`${name}: ${k}: ${v}`);
    for (const x of part.findings) findings.push(`${name} #${x.index}: ${x.what}\n    ${JSON.stringify(x.input.slice(0, 2000))}`);
  }
  out.push('', findings.length === 0 ? 'no findings' : `findings (rerun with --seed ${r.seed} and the part's --only):\n  ${findings.join('\n  ')}`);
  return out.join('\n') + '\n';
}
