// `tapvs test [DIR...]`: every regression case in the folders, one line
// each, a summary line "N passed, N failed", JUnit XML for CI (--junit),
// --update to rewrite the expected files from what the director does now,
// -k to pick cases. A case is the files of one name in a folder:
//
//   <case>.conf                  the director config
//   <case>.in.pcap | .in.pcapng  what arrives
//   <case>.expected.pcapng       what the director must send
//   <case>.events                control events to apply (optional)
//   <case>.expected.jsonl        the decision log it must write (optional)
//   <case>.args                  replay flags for it (optional: --port, --map, --strip-vlan, --ignore)
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readEvents } from '../control/rule-log.js';
import { checkReplay, parseIgnore, type CheckResult } from './expect.js';
import { parseFlags } from './main.js';
import { EXIT_DIFFERENT, EXIT_ERROR, EXIT_SAME, loadConfig, type ReplayOptions } from './replay.js';

export interface TestCase {
  name: string;
  dir: string;
  conf: string;
  input: string;
  expected: string;
  events?: string;
  expectedDecisions?: string;
  args?: string;
}

export interface CaseOutcome {
  case: TestCase;
  status: 'passed' | 'failed' | 'error' | 'updated';
  ms: number;
  /** The line printed for it. */
  line: string;
  /** The report under the line (failures and errors). */
  detail?: string;
  result?: CheckResult;
}

/** The cases of a folder, by name; a name with a config and an input is a case (its expected capture may be missing). */
export function findCases(dir: string): TestCase[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`cannot read cases in ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
  }
  const have = new Set(names);
  const out: TestCase[] = [];
  for (const f of names.sort()) {
    if (!f.endsWith('.conf')) continue;
    const name = f.slice(0, -'.conf'.length);
    const input = [`${name}.in.pcapng`, `${name}.in.pcap`].find((n) => have.has(n));
    if (!input) continue;
    const c: TestCase = { name, dir, conf: join(dir, f), input: join(dir, input), expected: join(dir, `${name}.expected.pcapng`) };
    if (!have.has(`${name}.expected.pcapng`) && have.has(`${name}.expected.pcap`)) c.expected = join(dir, `${name}.expected.pcap`);
    if (have.has(`${name}.events`)) c.events = join(dir, `${name}.events`);
    if (have.has(`${name}.expected.jsonl`)) c.expectedDecisions = join(dir, `${name}.expected.jsonl`);
    if (have.has(`${name}.args`)) c.args = join(dir, `${name}.args`);
    out.push(c);
  }
  return out;
}

/** -k PATTERN: a substring of the case name, or a glob with * and ?. */
export function matchesPattern(name: string, pattern: string): boolean {
  if (!/[*?]/.test(pattern)) return name.includes(pattern);
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(name);
}

/** A case's .args: replay flags, whitespace-separated, '#' comments. */
function caseArgs(c: TestCase): { replay: ReplayOptions; ignore: string[] } {
  if (!c.args) return { replay: {}, ignore: [] };
  const words = readFileSync(c.args, 'utf8').split('\n').map((l) => l.replace(/#.*/, '')).join(' ').split(/\s+/).filter((w) => w !== '');
  const { flags, rest } = parseFlags(words, ['port', 'map', 'ignore']);
  const unknown = [...Object.keys(flags).filter((k) => !['port', 'map', 'ignore', 'strip-vlan'].includes(k)).map((k) => `--${k}`), ...rest];
  if (unknown.length > 0) throw new Error(`${c.args}: ${unknown.join(' ')}: a case's .args takes --port, --map, --strip-vlan and --ignore`);
  return {
    replay: { port: flags.port as string | undefined, map: flags.map as string | undefined, stripVlan: flags['strip-vlan'] === true },
    ignore: parseIgnore(flags.ignore as string | undefined),
  };
}

function framesOfCount(n: number): string {
  return `${n} frame${n === 1 ? '' : 's'}`;
}

/** Runs one case (and with `update`, rewrites its expected files when they differ). */
export function runCase(c: TestCase, opts: { update: boolean; ignore: readonly string[] }): CaseOutcome {
  const t0 = performance.now();
  const ms = (): number => Math.round(performance.now() - t0);
  const out = join(tmpdir(), `tapvs-test-${process.pid}-${c.name}.pcapng`);
  try {
    const cfg = loadConfig(c.conf);
    const a = caseArgs(c);
    const events = c.events ? readEvents(c.events) : undefined;
    const haveExpected = existsSync(c.expected);
    if (!haveExpected && !opts.update) {
      return { case: c, status: 'error', ms: ms(), line: `ERROR ${c.name}: no ${relative('.', c.expected)}; tapvs test --update writes it from the current output` };
    }
    const r = checkReplay({
      cfg, inPath: c.input, expectedPath: haveExpected ? c.expected : out, outPath: out, replay: a.replay,
      ignore: [...opts.ignore, ...a.ignore],
      ...(events ? { events, eventsPath: c.events } : {}),
      ...(c.expectedDecisions ? { expectedDecisionsPath: c.expectedDecisions } : {}),
    });
    const counts = `${framesOfCount(r.replay.framesIn)} in, ${r.replay.framesOut} out${events ? `, ${events.length} control events` : ''}`;
    if (r.ok && haveExpected) return { case: c, status: 'passed', ms: ms(), line: `ok   ${c.name} (${counts})`, result: r };
    if (!opts.update) {
      return { case: c, status: 'failed', ms: ms(), line: `FAIL ${c.name}: ${r.oneLine ?? 'differs'}`, detail: r.report, result: r };
    }
    const changed: string[] = [];
    if (!haveExpected || !r.compare.equal) {
      const why = !haveExpected ? 'new' : `differed at frame ${r.compare.difference!.index}`;
      moveInto(out, c.expected);
      changed.push(`${relative('.', c.expected)} (${why})`);
    }
    if (c.expectedDecisions && r.decisions) {
      writeFileSync(c.expectedDecisions, r.decisionLines!.map((l) => l + '\n').join(''));
      changed.push(`${relative('.', c.expectedDecisions)} (differed at line ${r.decisions.line})`);
    }
    return { case: c, status: 'updated', ms: ms(), line: `upd  ${c.name}: rewrote ${changed.join(', ')}`, result: r };
  } catch (e) {
    return { case: c, status: 'error', ms: ms(), line: `ERROR ${c.name}: ${(e as Error).message.split('\n')[0]}`, detail: (e as Error).message };
  } finally {
    rmSync(out, { force: true });
  }
}

function moveInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    copyFileSync(from, to);
  }
}

// ---------------------------------------------------------------- JUnit XML

/** Text safe in XML content and attributes: the five entities escaped, characters XML 1.0 forbids dropped. */
export function xmlEscape(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** JUnit XML as Jenkins, GitLab and GitHub test reporters read it: one <testsuite> per folder, one <testcase> per case. */
export function junitXml(outcomes: readonly CaseOutcome[], when = new Date()): string {
  const byDir = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) {
    const l = byDir.get(o.case.dir) ?? [];
    l.push(o);
    byDir.set(o.case.dir, l);
  }
  const count = (l: readonly CaseOutcome[]) => ({
    tests: l.length,
    failures: l.filter((o) => o.status === 'failed').length,
    errors: l.filter((o) => o.status === 'error').length,
    time: (l.reduce((t, o) => t + o.ms, 0) / 1000).toFixed(3),
  });
  const all = count(outcomes);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tapvs test" tests="${all.tests}" failures="${all.failures}" errors="${all.errors}" time="${all.time}">`,
  ];
  for (const [dir, list] of byDir) {
    const c = count(list);
    const suite = xmlEscape(dir);
    lines.push(`  <testsuite name="${suite}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="0" time="${c.time}" timestamp="${when.toISOString().slice(0, 19)}">`);
    for (const o of list) {
      const head = `    <testcase classname="${suite}" name="${xmlEscape(o.case.name)}" time="${(o.ms / 1000).toFixed(3)}"`;
      if (o.status === 'passed' || o.status === 'updated') {
        lines.push(`${head}/>`);
        continue;
      }
      const tag = o.status === 'failed' ? 'failure' : 'error';
      const msg = xmlEscape(o.line.replace(/^(FAIL|ERROR) \S+: /, ''));
      lines.push(`${head}>`, `      <${tag} message="${msg}" type="${o.status === 'failed' ? 'mismatch' : 'error'}">${xmlEscape(o.detail ?? o.line)}</${tag}>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------- the command

const USAGE = 'usage: tapvs test [DIR...] [-k PATTERN] [--junit FILE] [--update] [--ignore FIELDS]';

/** `tapvs test`: exit 0 when every case passed, 1 when one failed, 2 on a usage error or when no case was found. */
export function testCommand(args: string[], write: (s: string) => void = (s) => process.stdout.write(s)): number {
  const dirs: string[] = [];
  let pattern: string | undefined;
  let junit: string | undefined;
  let update = false;
  let ignoreSpec: string | undefined;
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const value = (): string => {
        const v = args[++i];
        if (v === undefined || v.startsWith('-')) throw new Error(`${a} needs a value\n${USAGE}`);
        return v;
      };
      if (a === '-k') pattern = value();
      else if (a === '--junit') junit = value();
      else if (a === '--ignore') ignoreSpec = value();
      else if (a === '--update') update = true;
      else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
      else dirs.push(a);
    }
    if (dirs.length === 0) dirs.push('.');
    const ignore = parseIgnore(ignoreSpec);
    let cases = dirs.flatMap((d) => findCases(d));
    if (pattern !== undefined) cases = cases.filter((c) => matchesPattern(c.name, pattern!));
    if (cases.length === 0) {
      throw new Error(`no cases in ${dirs.join(', ')}${pattern !== undefined ? ` matching '${pattern}'` : ''} (a case is <name>.conf with <name>.in.pcap[ng] and <name>.expected.pcapng)`);
    }
    const outcomes: CaseOutcome[] = [];
    for (const c of cases) {
      const o = runCase(c, { update, ignore });
      outcomes.push(o);
      write(o.line + '\n');
      if (o.detail && o.status !== 'passed') write(o.detail.split('\n').map((l) => `    ${l}`).join('\n') + '\n');
    }
    if (junit !== undefined) writeFileSync(junit, junitXml(outcomes));
    const passed = outcomes.filter((o) => o.status === 'passed' || o.status === 'updated').length;
    const failed = outcomes.length - passed;
    const updated = outcomes.filter((o) => o.status === 'updated').length;
    if (update) write(`${updated} updated\n`);
    write(`${passed} passed, ${failed} failed\n`);
    return failed > 0 ? EXIT_DIFFERENT : EXIT_SAME;
  } catch (e) {
    process.stderr.write(`tapvs test: ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
}
