/**
 * A two-director HA lab (netns/ha.sh) driven from vitest: directors a and b,
 * each a `tapvs run` of its own, started, killed and restarted by the test;
 * the client's load (test/e2e/ha-load.py); keepalived as a VRRP peer.
 * Teardown through lab_down, as E2eLab does.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, type CmdResult } from './lab.js';

const LAB_ROOT = process.env.TAPVS_LAB_DIR ?? '/tmp/tapvs-lab';

function exec(bin: string, args: string[], timeoutMs: number): Promise<CmdResult> {
  return new Promise((done) => {
    execFile(bin, args, { cwd: REPO, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

const live = new Set<string>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const id of live) {
      try {
        execFileSync('bash', ['-c', 'source netns/lib.sh; lab_down "$1"', 'bash', id], { cwd: REPO, stdio: 'ignore', timeout: 20_000 });
      } catch { /* best effort */ }
    }
  });
}

export interface VrrpJson {
  vrrp: {
    name: string; state: string; priority: number; master: string | null; masterPriority: number; masterDownIntervalMs: number;
    lastAdvertAt: number | null; lastTransition: { at: number; from: string; to: string; reason: string } | null;
    counters: { advertsSent: number; advertsReceived: number; refused: Record<string, number> };
  }[];
  sync: { master: object | null; backup: { counters: { created: number; updated: number } } | null };
}

export interface LoadResult {
  downloads: { ok: boolean; bytes: number; sha_ok: boolean; error: string }[];
  /** t: when the request started, e: when it was answered (or failed), wall-clock seconds */
  requests: { t: number; e: number; ok: boolean; who: string }[];
}

/** tshark over a capture file: the fields asked for, one array per packet (-E occurrence=a, comma-joined). */
export async function tsharkFields(file: string, filter: string, fields: string[], extra: string[] = []): Promise<string[][]> {
  const r = await exec('tshark', ['-n', '-r', file, ...extra, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a',
    ...fields.flatMap((f) => ['-e', f])], 60_000);
  if (r.code !== 0) throw new Error(`tshark -r ${file} -Y '${filter}' failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

export class HaLab {
  readonly dir: string;
  env: Record<string, string> = {};
  private owned = false;

  constructor(readonly id: string, readonly mode: 'nat' | 'dr') {
    this.dir = join(LAB_ROOT, id);
  }

  sh(script: string, timeoutMs = 60_000): Promise<CmdResult> {
    const prelude = `source netns/ha.sh; LAB_ID=${this.id}; LAB_DIR=${this.dir}; export LAB_ID LAB_DIR;`;
    return exec('bash', ['-c', `${prelude}\n${script}`], timeoutMs);
  }

  private async must(script: string, timeoutMs = 60_000): Promise<string> {
    const r = await this.sh(script, timeoutMs);
    if (r.code !== 0) throw new Error(`lab ${this.id}: '${script}' failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  async up(): Promise<void> {
    hookExit();
    if (existsSync(this.dir)) throw new Error(`run id ${this.id} is in use (${this.dir} exists)`);
    this.owned = true;
    live.add(this.id);
    const r = await exec('bash', ['-c', `set -e; source netns/ha.sh; lab_init ${this.id}; lab_ha_${this.mode} >/dev/null`], 120_000);
    if (r.code !== 0) throw new Error(`HA lab ${this.id} failed to start:\n${r.stderr}`);
    const env = await this.sh('source "$LAB_DIR/lab.env"; for k in ${!LAB_@}; do printf "%s=%s\\n" "$k" "${!k}"; done');
    for (const line of env.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) this.env[line.slice(0, i)] = line.slice(i + 1);
    }
  }

  get vip(): string { return this.env.LAB_VIP!; }
  get clientNs(): string { return this.env.LAB_CLIENT_NS!; }

  /** Writes director `name`'s config: priority, extra keys on its vrrp line, extra lines. */
  async conf(name: 'a' | 'b', priority: number, vrrpKeys = '', extra: string[] = []): Promise<void> {
    const q = (s: string): string => `'${s.replace(/'/g, '')}'`;
    await this.must(`lab_ha_conf ${name} ${priority} ${[vrrpKeys, ...extra].map(q).join(' ')} >/dev/null`);
  }

  async start(name: 'a' | 'b'): Promise<void> {
    await this.must(`lab_ha_tapvs ${name}`, 90_000);
  }

  /** Signals director `name` (default SIGKILL); the wall-clock time it was sent, ms. */
  async kill(name: 'a' | 'b', signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    const pid = Number(readFileSync(join(this.dir, `tapvs-${name}.pid`), 'utf8'));
    const t = Date.now();
    process.kill(pid, signal);
    await this.must(`for i in $(seq 100); do kill -0 ${pid} 2>/dev/null || exit 0; sleep 0.05; done; exit 1`);
    return t;
  }

  async vrrp(name: 'a' | 'b'): Promise<VrrpJson> {
    return JSON.parse(await this.must(`lab_ha_vrrp ${name} --json`)) as VrrpJson;
  }

  async vrrpText(name: 'a' | 'b'): Promise<string> {
    return this.must(`lab_ha_vrrp ${name}`);
  }

  ipvsadm(name: 'a' | 'b', ...args: string[]): Promise<CmdResult> {
    return this.sh(`lab_ha_ipvsadm ${name} ${args.join(' ')}`);
  }

  async state(name: 'a' | 'b'): Promise<string> {
    return (await this.vrrp(name)).vrrp[0]!.state;
  }

  log(name: string): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** Starts ha-load.py in the client namespace; `ready` resolves with the time every download is under way. */
  load(n: number, size: number, rate: number, loopS: number): { ready: Promise<number>; done: Promise<LoadResult> } {
    const child = spawn('ip', ['netns', 'exec', this.clientNs, 'python3', join(REPO, 'test/e2e/ha-load.py'), this.vip, '80', String(n), String(size), String(rate), String(loopS)],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) appendFileSync(join(this.dir, 'pids'), `${child.pid}\n`);
    let out = '';
    let err = '';
    let readyFn: (t: number) => void = () => {};
    let readyErr: (e: Error) => void = () => {};
    const ready = new Promise<number>((res, rej) => { readyFn = res; readyErr = rej; });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\d+\.\d+)$/m.exec(out);
      if (m) readyFn(Number(m[1]) * 1000);
    });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const done = new Promise<LoadResult>((res, rej) => {
      child.once('close', (code) => {
        readyErr(new Error(`ha-load exited (${code}) before ready: ${err}`));
        const last = out.trim().split('\n').at(-1) ?? '';
        try {
          res(JSON.parse(last) as LoadResult);
        } catch {
          rej(new Error(`ha-load exited ${code}: ${err.slice(-2000)}\n${out.slice(-2000)}`));
        }
      });
    });
    return { ready, done };
  }

  /**
   * tcpdump on IFACE in namespace NS into $LAB_DIR/FILE (recorded PID); resolves once it listens.
   * stop() ends it by its PID (SIGINT: it writes the last packets) and waits for it.
   */
  async capture(ns: string, iface: string, file: string, filter: string): Promise<{ path: string; stop: () => Promise<void> }> {
    const path = join(this.dir, file);
    const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-n', '-i', iface, '-U', '-w', path, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid !== undefined) appendFileSync(join(this.dir, 'pids'), `${child.pid}\n`);
    let err = '';
    const closed = new Promise<void>((res) => child.once('close', () => res()));
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`tcpdump on ${ns} ${iface} did not start: ${err}`)), 20_000);
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('listening on')) { clearTimeout(timer); res(); }
      });
      child.once('close', (code) => { clearTimeout(timer); rej(new Error(`tcpdump exited (${code}): ${err}`)); });
    });
    return {
      path,
      stop: async () => {
        if (child.exitCode === null) child.kill('SIGINT');
        await closed;
      },
    };
  }

  /** keepalived (VRRP only) in namespace NAME on the VRRP LAN at ADDR/24; resolves once it is backup or master. */
  async keepalived(name: string, priority: number, version: 2 | 3, addr = ''): Promise<void> {
    await this.must(`lab_ha_keepalived ${name} ${priority} ${version} ${addr}`, 60_000);
  }

  async keepalivedStop(name: string): Promise<void> {
    await this.must(`lab_ha_keepalived_stop ${name}`);
  }

  /** Does keepalived's namespace hold the VIP (keepalived is master)? */
  async keepalivedHasVip(name: string): Promise<boolean> {
    const r = await exec('ip', ['-n', `${this.id}-${name}`, '-4', 'addr', 'show', 'dev', 'eth0'], 10_000);
    return r.stdout.includes(` ${this.vip}/`);
  }

  recordedPids(): number[] {
    try {
      return readFileSync(join(this.dir, 'pids'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  async namespaces(): Promise<string[]> {
    const r = await exec('ip', ['netns', 'list'], 10_000);
    return r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${this.id}-`));
  }

  async down(): Promise<void> {
    if (!this.owned) return;
    await exec('bash', ['-c', 'source netns/lib.sh; lab_down "$1"', 'bash', this.id], 60_000);
    live.delete(this.id);
  }
}
