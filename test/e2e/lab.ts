/**
 * A netns lab with a running tapvs, driven from a vitest file through
 * netns/lib.sh. Each lab has its own run id; teardown goes through lab_down
 * (recorded namespaces and PIDs only), from afterAll and, as a safety net,
 * from a process 'exit' hook, so a failed beforeAll or a crashed worker
 * leaves nothing behind.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Mode = 'nat' | 'dr' | 'tun';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LAB_ROOT = process.env.TAPVS_LAB_DIR ?? '/tmp/tapvs-lab';

/** The MAC lab_conf gives the director's client-facing port. */
export const DIRECTOR_MAC = '02:00:00:00:00:01';
/** ipvsadm's forwarding flag for each lab mode. */
export const FWD_FLAG: Record<Mode, string> = { nat: '-m', dr: '-g', tun: '-i' };

export interface CmdResult { code: number; stdout: string; stderr: string }

function exec(bin: string, args: string[], timeoutMs: number): Promise<CmdResult> {
  return new Promise((done) => {
    execFile(bin, args, { cwd: REPO, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

// Labs not yet torn down; the exit hook removes them synchronously.
const live = new Set<string>();
let hooked = false;
function labDownSync(id: string): void {
  try {
    execFileSync('bash', ['-c', 'source netns/lib.sh; lab_down "$1"', 'bash', id], { cwd: REPO, stdio: 'ignore', timeout: 20_000 });
  } catch { /* best effort at exit */ }
}
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => { for (const id of live) labDownSync(id); });
}

/** The byte pattern rs-server.mjs answers for GET /bytes/N. */
export function patternSha256(n: number): string {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7) % 251;
  return createHash('sha256').update(b).digest('hex');
}

export function fileSha256(path: string): { sha: string; size: number } {
  const b = readFileSync(path);
  return { sha: createHash('sha256').update(b).digest('hex'), size: b.length };
}

/** Size of a file that may not exist yet (0 then). */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface ConnEntry { proto: string; state: string; source: string; virtual: string; destination: string }

/** Parse `ipvsadm -Lnc` output into entries. */
export function parseConns(listing: string): ConnEntry[] {
  const out: ConnEntry[] = [];
  for (const line of listing.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 6 || !/^\d+:\d+$/.test(f[1]!)) continue;
    out.push({ proto: f[0]!, state: f[2]!, source: f[3]!, virtual: f[4]!, destination: f[5]! });
  }
  return out;
}

export interface ListedDest { addr: string; fwd: string; weight: number; active: number; inactive: number }

/** Real servers of one service in `ipvsadm -Ln` output (header like `TCP  10.0.0.100:80`). */
export function destsOf(listing: string, service: string): ListedDest[] | undefined {
  const lines = listing.split('\n');
  const start = lines.findIndex((l) => l.split(/\s+/).slice(0, 2).join(' ') === service);
  if (start < 0) return undefined;
  const out: ListedDest[] = [];
  for (const l of lines.slice(start + 1)) {
    const m = /^\s+->\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(l);
    if (!m) break;
    out.push({ addr: m[1]!, fwd: m[2]!, weight: Number(m[3]), active: Number(m[4]), inactive: Number(m[5]) });
  }
  return out;
}

export interface LabOptions {
  sched?: string;
  /** Extra config lines for lab_conf (checks, options...). */
  extra?: string[];
  /** Give the real servers' LAN an address for health-check probes (lab_probe_leg). */
  probeLeg?: boolean;
  /** Extra `tapvs run` arguments; `$LAB_DIR` in them is the run's state dir. */
  tapvsArgs?: string[];
  /**
   * The IPv6 services next to the IPv4 ones in the lab's config (default true;
   * the lab itself is dual-stack either way). false: lab_conf with LAB_CONF_IPV6=0.
   */
  ipv6Services?: boolean;
  /** Variables for netns/lib.sh while the lab is built (e.g. LAB_DECAP_ARGS). */
  env?: Record<string, string>;
}

export class E2eLab {
  readonly dir: string;
  env: Record<string, string> = {};
  // set once this object created the run: only then may down() remove it
  private owned = false;

  constructor(readonly id: string, readonly mode: Mode) {
    this.dir = join(LAB_ROOT, id);
  }

  /** Build the lab, write its config and start tapvs. Throws with the logs on failure. */
  async up(opts: LabOptions = {}): Promise<void> {
    hookExit();
    if (existsSync(this.dir)) {
      throw new Error(`run id ${this.id} is in use (${this.dir} exists); \`bash -c 'source netns/lib.sh; lab_down ${this.id}'\` removes a stale one`);
    }
    this.owned = true;
    live.add(this.id);
    const script = [
      'set -e',
      'source netns/lib.sh',
      ...Object.entries(opts.env ?? {}).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`),
      `lab_init ${this.id}`,
      `lab_${this.mode} >/dev/null`,
      opts.probeLeg ? 'lab_probe_leg >/dev/null' : ':',
      `${opts.ipv6Services === false ? 'LAB_CONF_IPV6=0 ' : ''}lab_conf ${opts.sched ?? 'rr'} "$@" >/dev/null`,
      `lab_tapvs "$LAB_DIR/tapvs.conf" ${(opts.tapvsArgs ?? []).map((a) => `"${a.replace(/["\\`]/g, '')}"`).join(' ')}`,
    ].join('\n');
    const r = await exec('bash', ['-c', script, 'bash', ...(opts.extra ?? [])], 120_000);
    if (r.code !== 0) {
      let log = '';
      try { log = readFileSync(join(this.dir, 'tapvs.log'), 'utf8').slice(-2000); } catch { /* not started */ }
      throw new Error(`lab ${this.id} (${this.mode}) failed to start (exit ${r.code}):\n${r.stderr}\n${log}`);
    }
    const env = await this.sh('source "$LAB_DIR/lab.env"; for k in ${!LAB_@}; do printf "%s=%s\\n" "$k" "${!k}"; done');
    for (const line of env.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) this.env[line.slice(0, i)] = line.slice(i + 1);
    }
  }

  get vip(): string { return this.env.LAB_VIP!; }
  get clientNs(): string { return this.env.LAB_CLIENT_NS!; }
  get rsAddrs(): string[] { return (this.env.LAB_RS_ADDRS ?? '').split(' ').filter(Boolean); }
  /** The IPv6 VIP of a dual-stack lab ('' when the lab has none). */
  get vip6(): string { return this.env.LAB_VIP6 ?? ''; }
  get rsAddrs6(): string[] { return (this.env.LAB_RS_ADDRS6 ?? '').split(' ').filter(Boolean); }

  /** Run a bash script with netns/lib.sh sourced and this lab's LAB_ID/LAB_DIR set. */
  sh(script: string, timeoutMs = 60_000): Promise<CmdResult> {
    const prelude = `source netns/lib.sh; LAB_ID=${this.id}; LAB_DIR=${this.dir}; export LAB_ID LAB_DIR;`;
    return exec('bash', ['-c', `${prelude}\n${script}`], timeoutMs);
  }

  /** Run a command inside a namespace of this lab (or any namespace by full name). */
  inNs(ns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<CmdResult> {
    return exec('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
  }

  client(cmd: string, args: string[], timeoutMs = 20_000): Promise<CmdResult> {
    return this.inNs(this.clientNs, cmd, args, timeoutMs);
  }

  /** `tapvs ipvsadm` against this lab's control socket. */
  ipvsadm(...args: string[]): Promise<CmdResult> {
    return exec('node', ['bin/tapvs.js', 'ipvsadm', '--socket', join(this.dir, 'tapvs.sock'), ...args], 20_000);
  }

  /** GET / through the VIP: the name of the real server that answered ('' on failure). */
  async whoAnswers(): Promise<string> {
    const r = await this.client('curl', ['-s', '--max-time', '5', `http://${this.vip}/`]);
    return r.code === 0 ? r.stdout.trim() : `curl exit ${r.code}`;
  }

  /** GET / through the IPv6 VIP (curl -6): the name of the real server that answered. */
  async whoAnswers6(): Promise<string> {
    const r = await this.client('curl', ['-6', '-s', '--max-time', '5', `http://[${this.vip6}]/`]);
    return r.code === 0 ? r.stdout.trim() : `curl exit ${r.code}`;
  }

  /**
   * Start a long-running command in a namespace; its PID goes to the lab's
   * pids file so that lab_down stops it whatever happens to the test.
   */
  spawnIn(ns: string, cmd: string, args: string[]): { child: ChildProcess; exited: Promise<number>; stdout: () => string; stderr: () => string } {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) appendFileSync(join(this.dir, 'pids'), `${child.pid}\n`);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number>((done) => child.once('close', (code) => done(code ?? -1)));
    return { child, exited, stdout: () => out, stderr: () => err };
  }

  /** Names of this lab's namespaces that exist now. */
  async namespaces(): Promise<string[]> {
    const r = await exec('ip', ['netns', 'list'], 10_000);
    return r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${this.id}-`));
  }

  /** PIDs recorded by the run (read before teardown, to check they are gone after). */
  recordedPids(): number[] {
    try {
      return readFileSync(join(this.dir, 'pids'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  async down(): Promise<void> {
    if (!this.owned) return;
    await exec('bash', ['-c', 'source netns/lib.sh; lab_down "$1"', 'bash', this.id], 60_000);
    live.delete(this.id);
  }
}

/** PIDs among `pids` that still run (zombies count as gone). */
export function stillRunning(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` every `stepMs` until it returns true or `limitMs` passes; the elapsed ms, or -1. */
export async function waitFor(probe: () => Promise<boolean>, limitMs: number, stepMs = 100): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (await probe()) return performance.now() - t0;
    await sleep(stepMs);
  }
  return -1;
}
