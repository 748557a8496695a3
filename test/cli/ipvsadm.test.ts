// `tapvs ipvsadm` as a user runs it: the real binary in a child process,
// talking to a director's control socket (the director runs in this process).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { splitSocketFlag } from '../../src/cli/ipvsadm.js';
import { LiveRig, RS, VIP } from '../control/server-rig.js';

const BIN = fileURLToPath(new URL('../../bin/tapvs.js', import.meta.url));

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** Runs the binary asynchronously: the director answering it lives in this very event loop. */
function tapvs(args: string[], stdin = '', env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

describe('tapvs ipvsadm (binary)', () => {
  it('changes and lists rules with ipvsadm exit codes, and -R reads stdin', async () => {
    const r = rig = await new LiveRig().start();
    const s = ['ipvsadm', '--socket', r.socketPath];
    expect(await tapvs([...s, '-A', '-t', `${VIP}:8080`, '-s', 'lc'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await tapvs([...s, '-a', '-t', `${VIP}:8080`, '-r', `${RS.rs3}:8080`, '-m', '-w', '2'])).toEqual({ code: 0, stdout: '', stderr: '' });
    const bad = await tapvs([...s, '-a', '-t', `${VIP}:8080`, '-r', `${RS.rs3}:8080`, '-m', '-q']);
    expect(bad).toEqual({ code: 255, stdout: '', stderr: '-q: unknown option\n' });
    const dup = await tapvs([...s, '-A', '-t', `${VIP}:8080`]);
    expect(dup).toEqual({ code: 255, stdout: '', stderr: 'Service already exists\n' });

    const saved = await tapvs([...s, '-S', '-n']);
    expect(saved.stdout).toBe(
      `-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 1\n-a -t ${VIP}:80 -r ${RS.rs2}:80 -m -w 1\n` +
        `-A -t ${VIP}:8080 -s lc\n-a -t ${VIP}:8080 -r ${RS.rs3}:8080 -m -w 2\n`,
    );
    expect((await tapvs([...s, '-C'])).code).toBe(0);
    expect(r.director.services.all.length).toBe(0);
    expect(await tapvs([...s, '-R'], saved.stdout)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await tapvs([...s, '-S', '-n'])).stdout).toBe(saved.stdout);
    // TAPVS_SOCKET works as well as --socket
    expect((await tapvs(['ipvsadm', '-L', '--timeout'], '', { TAPVS_SOCKET: r.socketPath })).stdout).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
  });

  it('answers -h, --help, -v and command-line errors with no director running', async () => {
    const none = ['ipvsadm', '--socket', '/nonexistent-tapvs/tapvs.sock'];
    for (const h of ['-h', '--help']) {
      const r = await tapvs([...none, h]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^tapvs ipvsadm: ipvsadm's commands/);
      expect(r.stderr).toBe('');
    }
    expect(await tapvs([...none, '-v'])).toEqual({ code: 0, stdout: 'ipvsadm v1.31 (tapvs; IPVS v1.2.1 compatible)\n', stderr: '' });
    // not starting with a command: ipvsadm's "Try" line and -1 (255)
    expect(await tapvs([...none, '-n', '-L'])).toEqual({
      code: 255, stdout: '', stderr: "Try `tapvs ipvsadm -h' or 'tapvs ipvsadm --help' for more information.\n",
    });
    expect(await tapvs([...none, '-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-w', '65536'])).toEqual({ code: 2, stdout: '', stderr: 'illegal weight specified\n' });
  });

  it('says how to fix it when no director runs', async () => {
    const res = await tapvs(['ipvsadm', '--socket', '/nonexistent-tapvs/tapvs.sock', '-L', '-n']);
    expect(res).toEqual({
      code: 2,
      stdout: '',
      stderr: 'tapvs ipvsadm: cannot reach tapvs at /nonexistent-tapvs/tapvs.sock: is `tapvs run` running? (ENOENT)\n',
    });
  });
});

describe('splitSocketFlag', () => {
  it('takes --socket out wherever it is and leaves every ipvsadm word in order', () => {
    expect(splitSocketFlag(['-L', '--socket', '/x.sock', '-n', '--stats'])).toEqual({ socket: '/x.sock', argv: ['-L', '-n', '--stats'] });
    expect(splitSocketFlag(['--socket=/y.sock', '-Ln'])).toEqual({ socket: '/y.sock', argv: ['-Ln'] });
    expect(splitSocketFlag(['-L'])).toEqual({ socket: undefined, argv: ['-L'] });
    expect(splitSocketFlag(['-L', '--socket'])).toEqual({ error: '--socket needs a path' });
  });
});
