// make fuzz: tapvs's fuzzing harness (src/fuzz/). Prints the report; exits 1
// when any part found something.
//
//   npx tsx scripts/fuzz.ts [--seed N] [--frames N] [--configs N] [--requests N] [--captures N] [--only frames,configs,control,captures] [--json]
import { PARTS, formatReport, runFuzz, type Part } from '../src/fuzz/run.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]?.replaceAll('_', ''));
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} needs a whole number, not '${args[i + 1] ?? ''}'\n`);
    process.exit(2);
  }
  return v;
};
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : undefined;
if (only?.some((p) => !(PARTS as readonly string[]).includes(p))) {
  process.stderr.write(`fuzz: --only takes ${PARTS.join(', ')}\n`);
  process.exit(2);
}
const report = await runFuzz({
  seed: opt('seed', 1),
  frames: opt('frames', 1_000_000),
  configs: opt('configs', 2000),
  requests: opt('requests', 2000),
  captures: opt('captures', 1000),
  ...(only ? { only: only as Part[] } : {}),
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(args.includes('--json') ? `${JSON.stringify(report, null, 1)}\n` : formatReport(report));
process.exitCode = report.problems > 0 ? 1 : 0;
