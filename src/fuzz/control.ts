// The control plane's inputs, mutated: request bytes as the socket decodes
// them, ipvsadm command lines against a running director, -R texts (through
// both ways a -R is applied: at once, and parsed elsewhere then applied in
// slices, which must agree), and the socket itself (requests in pieces,
// unfinished, oversized, abandoned). Rules: nothing throws; exit codes are
// ipvsadm's; the table's -S text restores into an empty table as the same
// text; the socket answers every finished request and keeps serving.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { listenControlSocket, type ControlReply } from '../control/control-socket.js';
import { execIpvsadm } from '../control/ipvsadm-exec.js';
import { formatSave, parseRestore } from '../control/ipvsadm-save.js';
import { prepareRequest, prepareRestore } from '../control/prepare-core.js';
import { restoreLive } from '../control/restore-live.js';
import { applyCommands } from '../control/rules.js';
import { Director } from '../director/director.js';
import type { InputFinding } from './config.js';
import type { Rng } from './rng.js';
import { target, type Target } from './topologies.js';

export interface ControlFuzzReport {
  seed: number;
  requests: number;
  ms: number;
  exceptions: number;
  broken: Record<string, number>;
  findings: InputFinding[];
  /** Exit codes of the ipvsadm commands run. */
  codes: Record<string, number>;
  /** -R texts run both ways: applied, or refused whole. */
  restores: { applied: number; refused: number };
  socket: { connections: number; replied: number; refused: number; abandoned: number };
}

const MAX_FINDINGS = 8;
const EXIT_CODES = new Set([0, 1, 2, 255]);

const SCHEDS = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'dh', 'sh', 'mh', 'fo', 'ovf', 'twos', 'rrr', ''];
const LIST_FLAGS = ['-n', '-c', '--stats', '--rate', '--timeout', '--thresholds', '--persistent-conn', '--exact', '--nosort', '--daemon'];
const NOISE = ['-', '--', '-x', '--weight', '--weight=3', '-w=1', '-1', '65536', '4294967296', 'abc', '', ' ', '10.0.0.1:', ':80', '1.2.3', '-t', '-r', '-f', '0'];

/** An ipvsadm command line aimed at `t`'s director, then perhaps damaged. */
function argv(rng: Rng, t: Target): string[] {
  const svc = (): string[] => {
    if (rng.chance(0.15)) return ['-f', String(rng.pick([7, 1, 0, 99]))];
    const addr = rng.chance(0.9) ? rng.pick(t.vips) : `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`;
    return [rng.chance(0.7) ? '-t' : rng.chance(0.8) ? '-u' : '--sctp-service', `${addr}:${rng.chance(0.8) ? rng.pick(t.svcPorts) : rng.int(65536)}`];
  };
  const rs = (): string[] => {
    const r = rng.pick(t.rs);
    return ['-r', rng.chance(0.5) ? r.addr : `${r.addr}:${rng.chance(0.5) ? r.port : rng.int(65536)}`];
  };
  const method = (): string[] => [rng.pick(t.mode === 'nat' ? ['-m', '-m', '-g', '-i'] : t.mode === 'dr' ? ['-g', '-g', '-m'] : ['-i', '-i', '-g'])];
  const some = (list: string[][]): string[] => list.filter(() => rng.chance(0.4)).flat();
  let a: string[];
  switch (rng.int(12)) {
    case 0: case 1:
      a = [rng.pick(['-A', '-E']), ...svc(), '-s', rng.pick(SCHEDS), ...some([['-p', String(rng.int(1000))], ['-p'], ['-M', '255.255.255.0'], ['-b', rng.pick(['sh-port', 'mh-fallback,mh-port', 'bogus'])], ['-o']])];
      break;
    case 2: a = ['-D', ...svc()]; break;
    case 3: case 4: case 5:
      a = [rng.pick(['-a', '-e']), ...svc(), ...rs(), ...method(), ...some([['-w', String(rng.int(70000))], ['-x', String(rng.int(100))], ['-y', String(rng.int(100))]])];
      break;
    case 6: a = ['-d', ...svc(), ...rs()]; break;
    case 7: a = [rng.pick(['-L', '-l']), ...LIST_FLAGS.filter(() => rng.chance(0.3)), ...(rng.chance(0.3) ? svc() : [])]; break;
    case 8: a = rng.chance(0.5) ? ['-Z', ...(rng.chance(0.5) ? svc() : [])] : ['--set', String(rng.int(1000)), String(rng.int(1000)), String(rng.int(1000))]; break;
    case 9: a = [rng.pick(['-S', '-S', '-h', '-v', '--version', '--help'])].concat(rng.chance(0.5) ? ['-n'] : []); break;
    case 10: a = rng.chance(0.05) ? ['-C'] : ['-L', '-n']; break;
    default: a = Array.from({ length: rng.range(0, 6) }, () => rng.pick([...NOISE, ...SCHEDS, '-A', '-a', '-L', ...t.vips]));
  }
  // damage: a word replaced, dropped or added
  for (let n = rng.chance(0.3) ? rng.range(1, 3) : 0; n > 0; n--) {
    const i = rng.int(a.length + 1);
    const r = rng.int(3);
    if (r === 0) a[i] = rng.pick(NOISE);
    else if (r === 1) a.splice(i, 1);
    else a.splice(i, 0, rng.pick(NOISE));
  }
  return a.filter((x) => x !== undefined);
}

/**
 * A -R text. Most are a coherent rule set (services, then their real
 * servers, edits and removals of what came before), some with one line
 * damaged; the rest are command lines of any kind, blank lines, comments.
 */
function restoreText(rng: Rng, t: Target): string {
  const lines: string[] = [];
  if (rng.chance(0.6)) {
    const method = t.mode === 'nat' ? '-m' : t.mode === 'dr' ? '-g' : '-i';
    const made: string[] = [];
    for (let n = rng.range(1, 12); n > 0; n--) {
      const r = rng.int(10);
      if (r < 4 || made.length === 0) {
        const svc = `-t ${rng.pick(t.vips)}:${rng.range(1000, 1100)}`;
        lines.push(`-A ${svc} -s ${rng.pick(SCHEDS.slice(0, 14))}${rng.chance(0.3) ? ` -p ${rng.range(1, 900)}` : ''}`);
        made.push(svc);
        for (const d of t.rs.slice(0, rng.int(t.rs.length + 1))) lines.push(`-a ${svc} -r ${d.addr} ${method} -w ${rng.int(10)}`);
      } else if (r < 6) {
        lines.push(`-e ${rng.pick(made)} -r ${t.rs[0]!.addr} ${method} -w ${rng.int(10)}`);
      } else if (r < 7) {
        lines.push(`-E ${rng.pick(made)} -s ${rng.pick(SCHEDS.slice(0, 14))}`);
      } else if (r < 8) {
        lines.push(`-D ${made.splice(rng.int(made.length), 1)[0]}`);
      } else if (r < 9) {
        lines.push(`--set ${rng.int(1000)} ${rng.int(1000)} ${rng.int(1000)}`);
      } else {
        lines.push(rng.chance(0.5) ? '' : '# a comment');
      }
    }
    if (rng.chance(0.3)) lines[rng.int(lines.length)] = argv(rng, t).join(' ');
    return lines.join('\n');
  }
  for (let n = rng.range(0, 60); n > 0; n--) {
    const r = rng.int(20);
    if (r === 0) lines.push('');
    else if (r === 1) lines.push('# comment');
    else lines.push((rng.chance(0.1) ? 'ipvsadm ' : '') + argv(rng, t).join(' '));
  }
  return lines.join('\n');
}

const REQUESTS = ['{"argv":["-L","-n"]}', '{"argv":["-R"],"stdin":"-A -t 10.0.0.100:99 -s rr\\n"}', '{"argv":[]}', '{"argv":["-S"],"stdin":""}'];

function mutateBytes(rng: Rng, s: string): Uint8Array {
  const b = Array.from(Buffer.from(s));
  for (let n = rng.range(1, 4); n > 0; n--) {
    const i = rng.int(b.length + 1);
    const r = rng.int(4);
    if (r === 0) b[i] = rng.int(256);
    else if (r === 1) b.splice(i, 1);
    else if (r === 2) b.splice(i, 0, rng.pick([0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x00, 0xc3, 0xff, 0x30]));
    else b.splice(i);
  }
  return Uint8Array.from(b);
}

export async function fuzzControl(rng: Rng, seed: number, count: number): Promise<ControlFuzzReport> {
  const broken: Record<string, number> = {};
  const findings: InputFinding[] = [];
  const codes: Record<string, number> = {};
  let exceptions = 0;
  const note = (index: number, what: string, input: string, key = what) => {
    broken[key] = (broken[key] ?? 0) + 1;
    if (findings.length < MAX_FINDINGS) findings.push({ index, what, input });
  };
  const threw = (index: number, where: string, e: unknown, input: string) => {
    exceptions++;
    if (findings.length < MAX_FINDINGS) findings.push({ index, what: `${where} threw: ${(e as Error).stack ?? e}`, input });
  };
  const t0 = performance.now();
  const modes = ['nat', 'dr', 'tun'] as const;
  const targets = modes.map((m) => target(m));
  const lives = targets.map((t) => ({ t, director: new Director(t.cfg, { send() {} }), cfg: t.cfg }));
  const restores = { applied: 0, refused: 0 };

  for (let i = 0; i < count; i++) {
    const live = rng.pick(lives);
    const r = rng.int(10);
    if (r < 2) { // request bytes, as the socket decodes them
      const bytes = rng.chance(0.8) ? mutateBytes(rng, rng.pick(REQUESTS)) : rng.bytes(rng.int(64));
      try {
        const p = prepareRequest(bytes);
        if (p.ok && !Array.isArray(p.req.argv)) note(i, 'a request decoded without an argv list', Buffer.from(bytes).toString('latin1'));
      } catch (e) {
        threw(i, 'prepareRequest', e, Buffer.from(bytes).toString('latin1'));
      }
      continue;
    }
    if (r < 8) { // a command line against the running director
      const a = argv(rng, live.t);
      try {
        const reply = execIpvsadm(live, a, rng.chance(0.1) ? restoreText(rng, live.t) : undefined, 1000 + i);
        codes[reply.code] = (codes[reply.code] ?? 0) + 1;
        if (!EXIT_CODES.has(reply.code)) note(i, `exit code ${reply.code}`, a.join(' '), 'exit code not ipvsadm\'s');
        if (reply.code !== 0 && !reply.stderr.endsWith('\n')) note(i, 'an error without its newline', a.join(' '));
      } catch (e) {
        threw(i, 'execIpvsadm', e, a.join(' '));
      }
      if (i % 25 === 0) {
        // what -S prints restores into an empty table as the same text
        const save = formatSave(live.director.services);
        const p = parseRestore(save);
        if ('errors' in p) {
          note(i, `-S output does not parse: ${p.errors[0]!.message}`, save, '-S output does not parse');
        } else {
          const fresh = new Director({ ...live.cfg, services: [] }, { send() {} });
          const ok = applyCommands(fresh.services, fresh.mutate, p.commands);
          if (!ok.ok) note(i, `-S output refused by -R: ${ok.errors[0]!.message}`, save, '-S output refused by -R');
          else if (formatSave(fresh.services) !== save) note(i, '-S after -R of -S differs', save);
        }
      }
      continue;
    }
    // the two ways of -R agree: at once (small requests) and worker-parsed in slices (large ones)
    const text = restoreText(rng, live.t);
    const a = new Director(live.cfg, { send() {} });
    const b = new Director(live.cfg, { send() {} });
    try {
      const ra = execIpvsadm({ director: a, cfg: live.cfg }, ['-R'], text, 0);
      const rb = await restoreLive({ director: b, cfg: live.cfg }, prepareRestore(text));
      restores[ra.code === 0 ? 'applied' : 'refused']++;
      if (ra.code !== rb.code || ra.stdout !== rb.stdout || ra.stderr !== rb.stderr) {
        note(i, `-R here (${ra.code}: ${ra.stderr.slice(0, 120)}) and sliced (${rb.code}: ${rb.stderr.slice(0, 120)}) differ`, text, '-R at once and in slices answer differently');
      } else if (formatSave(a.services) !== formatSave(b.services)) {
        note(i, '-R at once and in slices leave different tables', text);
      }
    } catch (e) {
      threw(i, '-R', e, text);
    }
  }
  const socket = await fuzzSocket(rng, Math.max(8, Math.floor(count / 20)), lives[0]!, note, threw);
  return { seed, requests: count, ms: Math.round(performance.now() - t0), exceptions, broken, findings, codes, restores, socket };
}

/** Clients that talk to a control socket in every wrong way; then one that does it right must be answered. */
async function fuzzSocket(
  rng: Rng, clients: number, live: { director: Director; cfg: Target['cfg'] },
  note: (i: number, what: string, input: string) => void, threw: (i: number, where: string, e: unknown, input: string) => void,
): Promise<ControlFuzzReport['socket']> {
  const dir = mkdtempSync(join(tmpdir(), 'tapvs-fuzz-'));
  const path = join(dir, 'c.sock');
  const out = { connections: 0, replied: 0, refused: 0, abandoned: 0 };
  const sock = await listenControlSocket(path, (req) => {
    try {
      return execIpvsadm(live, req.argv, req.stdin, 0);
    } catch (e) {
      threw(-1, 'socket handler', e, JSON.stringify(req).slice(0, 500));
      return { code: 1, stdout: '', stderr: 'threw\n' };
    }
  }, {
    maxConnections: 8, maxRequest: 64 << 10, maxBuffered: 256 << 10, idleMs: 300, deadlineMs: 1500,
    decodeLarge: async (bytes) => {
      const p = prepareRequest(bytes);
      return p.ok ? { ok: true, req: p.req } : p;
    },
  });
  try {
    const one = (k: number) => new Promise<void>((resolve) => {
      out.connections++;
      const s = net.createConnection(path);
      const kind = rng.int(6);
      let reply = '';
      let finished = false;
      s.on('data', (d: Buffer) => { reply += d.toString(); });
      s.on('error', () => undefined);
      s.on('close', () => {
        if (reply !== '') {
          try {
            const r = JSON.parse(reply) as ControlReply;
            if (typeof r.code !== 'number' || typeof r.stderr !== 'string') note(k, 'a reply that is not {code, stdout, stderr}', reply.slice(0, 300));
            if (r.code === 1 && /too many|larger than|hold|not complete/.test(r.stderr)) out.refused++;
            else out.replied++;
          } catch {
            note(k, 'a reply that is not JSON', reply.slice(0, 300));
          }
        } else if (finished && kind !== 5) {
          // the request was finished and within the limits: it must be answered
          note(k, 'a finished request got no answer', String(kind));
        } else {
          out.abandoned++;
        }
        resolve();
      });
      s.once('connect', () => {
        const body = kind === 2 ? mutateBytes(rng, rng.pick(REQUESTS)) : Buffer.from(rng.pick(REQUESTS));
        const pieces: Uint8Array[] = [];
        for (let at = 0; at < body.length;) {
          const n = rng.range(1, 16);
          pieces.push(body.subarray(at, at + n));
          at += n;
        }
        const send = (j: number) => {
          if (s.destroyed) return;
          if (j === pieces.length) {
            if (kind === 3) return; // never finished: the deadline or the idle timeout ends it
            if (kind === 4) return void s.destroy(); // abandoned
            finished = true;
            return void s.end();
          }
          s.write(pieces[j]!);
          setTimeout(() => send(j + 1), rng.int(3));
        };
        if (kind === 5) { // too large
          s.write(Buffer.alloc((64 << 10) + 10, 0x20));
          s.end();
          return;
        }
        send(0);
      });
      setTimeout(() => s.destroy(), 5000).unref();
    });
    // a few at a time, more than the socket takes at once
    for (let k = 0; k < clients; k += 12) await Promise.all(Array.from({ length: Math.min(12, clients - k) }, (_, j) => one(k + j)));
    await new Promise((r) => setTimeout(r, 50));
    // and the socket still serves
    const last = await new Promise<string>((resolve) => {
      const s = net.createConnection(path);
      let text = '';
      s.on('data', (d: Buffer) => { text += d.toString(); });
      s.on('close', () => resolve(text));
      s.on('error', () => resolve(text));
      s.once('connect', () => s.end('{"argv":["-L","-n"]}'));
    });
    if (!last.includes('"code":0')) note(clients, `after the fuzz, a plain request got: ${last.slice(0, 200)}`, '-L -n');
  } finally {
    await sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
