// What the end-to-end benches (e2e.ts, e2e6.ts) share to drive the netns labs:
// commands with a deadline, lab teardown that a signal or crash can run, the
// lab's lab.env, the tools they need, and the ratio to the kernel peer.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const labRoot = process.env.TAPVS_LAB_DIR ?? '/tmp/tapvs-lab';

/**
 * The niceness tapvs runs at in the e2e benches. The kernel peer forwards in
 * softirq context, ahead of the iperf3 processes; tapvs is a process that
 * shares a core with the real server's iperf3, so it is given precedence, but
 * not so much that the receiver starves: at -10 a 64-byte UDP flood through
 * DR lost 23-56% of what tapvs forwarded at the receiver's socket, and -5
 * delivered 59.6 k/s against -10's 53.4 k/s (eight 3 s runs each, same
 * sitting; NAT the same within the noise). TAPVS_E2E_NICE='' runs tapvs at
 * the default priority, or sets another value.
 */
export const E2E_NICE = process.env.TAPVS_E2E_NICE ?? '-5';

/** tapvs's --tx-thread in the e2e benches: TAPVS_E2E_TX_THREAD=off measures it without the writer thread. */
export const E2E_TX_THREAD = process.env.TAPVS_E2E_TX_THREAD ?? 'auto';

/** What lab_tapvs is given: the lab's config, then the flags above that differ from tapvs's defaults. */
export function labTapvsArgs(): string {
  const flags = [E2E_NICE === '' ? '' : `--nice ${E2E_NICE}`, E2E_TX_THREAD === 'auto' ? '' : `--tx-thread ${E2E_TX_THREAD}`].filter(Boolean);
  return flags.length === 0 ? '' : ` "$LAB_DIR/tapvs.conf" ${flags.join(' ')}`;
}

/** The same flags for a result's note ('' when none). */
export function tapvsFlagsNote(): string {
  const a = labTapvsArgs();
  return a === '' ? '' : `; tapvs${a.replace(' "$LAB_DIR/tapvs.conf"', '')}`;
}

/** Labs that are up right now, so a signal or a crash can take them down. */
export const liveLabs = new Set<string>();

/**
 * Runs a bench's labs: E2E_NICE checked first, and every lab still up taken
 * down when `run` ends, throws, or the process gets SIGINT / SIGTERM or exits.
 */
export async function withLabs<T>(run: () => Promise<T>): Promise<T> {
  if (E2E_NICE !== '' && !/^-?\d{1,2}$/.test(E2E_NICE)) throw new Error(`TAPVS_E2E_NICE=${E2E_NICE}: an integer (or empty)`);
  if (E2E_TX_THREAD !== 'auto' && E2E_TX_THREAD !== 'off') throw new Error(`TAPVS_E2E_TX_THREAD=${E2E_TX_THREAD}: auto or off`);
  const downAll = (): void => { for (const id of [...liveLabs]) labDownSync(id); };
  const onSignal = (sig: NodeJS.Signals): void => {
    downAll();
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', downAll);
  try {
    return await run();
  } finally {
    downAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', downAll);
  }
}

export function sh(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: repo, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as { code?: number | string }).code;
        const why = String(stderr).trim().split('\n').slice(-3).join(' | ') || err.message;
        reject(Object.assign(new Error(`${file} ${args.join(' ')}: ${why}`), { exitCode: code, stdout: String(stdout) }));
      } else {
        resolve(stdout);
      }
    });
  });
}

export function labDownSync(id: string): void {
  try {
    execFileSync('bash', [`${repo}/netns/lab.sh`, 'down', id], { stdio: 'ignore', timeout: 20000 });
  } catch { /* best effort: lab_down is idempotent and recorded */ }
  liveLabs.delete(id);
}

/** The lab's lab.env as a map (LAB_VIP6 and the other names with digits included). */
export function labEnv(id: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`${labRoot}/${id}/lab.env`, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    // %q quoting of our simple values only ever escapes spaces
    if (m) out[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  }
  return out;
}

export function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(2)}x kernel` : 'no kernel figure';
}

/** Why the labs cannot run here, or undefined. */
export function missingTools(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TAP devices)';
  for (const tool of ['iperf3', 'ip', 'nft']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (apt-get install ${tool === 'ip' ? 'iproute2' : tool === 'nft' ? 'nftables' : tool})`;
    }
  }
  if (!existsSync('/dev/net/tun')) return 'needs /dev/net/tun';
  return undefined;
}
