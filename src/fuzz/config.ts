// Config files, mutated line by line, word by word and character by
// character from ones tapvs accepts. The parser must never throw; what it
// accepts must make a director (the topology was judged while parsing, so
// the director's constructor must agree), and must travel through the
// control plane's worker format (prepare-core.ts: pack/unpack) unchanged.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { parseConfig } from '../control/config.js';
import { pack, unpackConfig } from '../control/prepare-core.js';
import { drainNow } from '../control/slices.js';
import { Director } from '../director/director.js';
import { topologyProblems } from '../model/topology.js';
import type { Rng } from './rng.js';
import { MODES, target } from './topologies.js';

export interface InputFinding {
  index: number;
  what: string;
  input: string;
}

export interface ConfigFuzzReport {
  seed: number;
  configs: number;
  accepted: number;
  ms: number;
  exceptions: number;
  /** Accepted configs that broke a rule above, by rule. */
  broken: Record<string, number>;
  findings: InputFinding[];
  slowest: { ms: number; index: number; lines: number };
  /** Accepted configs whose connection table would be too large to build here (not built). */
  tablesTooLargeToBuild: number;
}

/** Larger tables are not built by the fuzzer: each slot is preallocated (131 B at a million). */
const BUILD_MAX_CONNS = 1 << 20;
const MAX_FINDINGS = 8;

const WORDS = [
  'port', 'vip', 'route', 'neigh', 'mark', 'set', 'option', 'check', 'sorry', 'ipvsadm', 'on', 'via', 'dev', 'default', 'ports', 'timeout',
  'kind=tap', 'kind=memory', 'kind=pcap', 'mac=02:00:00:00:00:09', 'mac=ff:ff:ff:ff:ff:ff', 'mac=02:00:00:00:00', 'addr=10.9.0.1/24', 'addr=10.0.0.1/33',
  'addr=0.0.0.0/8', 'mtu=9000', 'mtu=9001', 'mtu=68', 'mtu=67', 'netns=x', 'bridge=br0', 'offload=tso', 'device=', '=', 'a=b=c',
  '-A', '-E', '-D', '-a', '-e', '-d', '-C', '-R', '-S', '-L', '--set', '-t', '-u', '-f', '-s', '-p', '-M', '-b', '-o', '-r', '-g', '-i', '-m', '-w', '-x', '-y',
  'rr', 'wrr', 'wlc', 'sh', 'mh', 'lblcr', 'fo', 'twos', 'sh-fallback,sh-port', 'mh-port', 'tcp', 'udp', 'sctp', 'http', 'icmp', 'misc',
  '0', '1', '-1', '65535', '65536', '4294967295', '4294967296', '2147483647', '99999999999999999999', '1e3', '0x10', '08', '',
  '0.0.0.0', '255.255.255.255', '224.0.0.1', '10.0.0.100', '10.0.0.100:80', '10.0.0.100:0', '10.0.0.100:65536', '192.168.10.11:8080', '[::1]:80', '::1',
  '1-65535', '5-3', '1,1,1', '80,443-450', 'interval=1s', 'timeout=2s', 'retries=0', 'path=/x', 'status=999', 'digest=zz', 'command="a b"',
  'max_conns', 'expire_nodest_conn', 'unmatched_from_rs', 'neighbour_queue', 'arp_retries', 'arp_retry_interval', 'control_socket', 'metrics_listen',
  'check_netns', 'inhibit_on_failure', '#', '"', '\\', '"unterminated', 'é', '\u0000', '\t',
];

function corpus(): string[] {
  const texts = MODES.map((m) => target(m).text);
  // the repository's own example configs, when the fuzzer runs in a checkout
  try {
    const dir = new URL('../../fixtures/config/', import.meta.url);
    for (const f of readdirSync(dir)) if (f.endsWith('.conf')) texts.push(readFileSync(new URL(f, dir), 'utf8'));
  } catch {
    // not in a checkout: the built-in texts only
  }
  return texts;
}

function mutateText(rng: Rng, text: string, others: readonly string[]): string {
  let lines = text.split('\n');
  for (let n = rng.range(1, 5); n > 0; n--) {
    const i = rng.int(lines.length);
    const m = rng.int(10);
    if (m === 0) lines.splice(i, 1);
    else if (m === 1) lines.splice(i, 0, lines[rng.int(lines.length)] ?? '');
    else if (m === 2) {
      const j = rng.int(lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    } else if (m === 3) {
      const o = rng.pick(others).split('\n');
      lines.splice(i, 0, rng.pick(o));
    } else if (m <= 6) { // a word replaced, added or removed
      const words = (lines[i] ?? '').split(' ');
      const w = rng.int(words.length + 1);
      const r = rng.int(3);
      if (r === 0) words[w] = rng.pick(WORDS);
      else if (r === 1) words.splice(w, 0, rng.pick(WORDS));
      else words.splice(w, 1);
      lines[i] = words.join(rng.chance(0.9) ? ' ' : '\t');
    } else if (m <= 8) { // a character inserted, removed or changed
      const l = lines[i] ?? '';
      const c = rng.int(l.length + 1);
      const ch = rng.chance(0.5) ? String.fromCharCode(rng.range(32, 126)) : rng.pick(['"', '#', '=', ',', '-', ':', '/', '\r', '\t', 'é', '0', '9']);
      const r = rng.int(3);
      lines[i] = r === 0 ? l.slice(0, c) + ch + l.slice(c) : r === 1 ? l.slice(0, c) + l.slice(c + 1) : l.slice(0, c) + ch + l.slice(c + 1);
    } else { // a long line or many lines
      if (rng.chance(0.5)) lines[i] = `mark ${rng.range(1, 9)} tcp 10.0.0.100 ports ${Array.from({ length: rng.range(1, 50) }, () => `${rng.range(1, 65535)}-${rng.range(1, 65535)}`).join(',')}`;
      else lines = lines.concat(Array.from({ length: rng.range(10, 400) }, (_, k) => `-a -t 10.0.0.100:80 -r 192.168.10.${(k % 250) + 1}:${rng.range(1, 65535)} -m -w ${rng.int(100)}`));
    }
  }
  return lines.join('\n');
}

export function fuzzConfigs(rng: Rng, seed: number, count: number): ConfigFuzzReport {
  const texts = corpus();
  const broken: Record<string, number> = {};
  const findings: InputFinding[] = [];
  let exceptions = 0;
  let accepted = 0;
  let tooLarge = 0;
  let slowest = { ms: 0, index: -1, lines: 0 };
  const note = (index: number, what: string, input: string, key = what) => {
    broken[key] = (broken[key] ?? 0) + 1;
    if (findings.length < MAX_FINDINGS) findings.push({ index, what, input });
  };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    let text = rng.pick(texts);
    // a chain of mutations now and then, far from anything valid
    for (let k = rng.chance(0.2) ? rng.range(2, 6) : 1; k > 0; k--) text = mutateText(rng, text, texts);
    const s = performance.now();
    let r: ReturnType<typeof parseConfig>;
    try {
      r = parseConfig(text, 'fuzz.conf');
    } catch (e) {
      exceptions++;
      if (findings.length < MAX_FINDINGS) findings.push({ index: i, what: `parseConfig threw: ${(e as Error).stack}`, input: text });
      continue;
    }
    const ms = performance.now() - s;
    if (ms > slowest.ms) slowest = { ms: Math.round(ms * 10) / 10, index: i, lines: text.split('\n').length };
    if ('errors' in r) {
      if (r.errors.length === 0) note(i, 'refused without an error', text);
      continue;
    }
    accepted++;
    const cfg = r.config;
    const problems = topologyProblems(cfg);
    if (problems.length > 0) note(i, `accepted with topology problems: ${problems[0]!.message}`, text, 'accepted with topology problems');
    if (cfg.options.maxConns > BUILD_MAX_CONNS) {
      tooLarge++;
    } else {
      try {
        new Director(cfg, { send() {} });
      } catch (e) {
        note(i, `accepted, but the director refused it: ${(e as Error).message}`, text, 'accepted, but the director refused it');
      }
    }
    try {
      if (!isDeepStrictEqual(drainNow(unpackConfig(pack(cfg))), cfg)) note(i, 'changed by the worker format', text);
    } catch (e) {
      note(i, `the worker format threw: ${(e as Error).message}`, text, 'the worker format threw');
    }
  }
  return {
    seed, configs: count, accepted, ms: Math.round(performance.now() - t0), exceptions, broken, findings, slowest, tablesTooLargeToBuild: tooLarge,
  };
}
