// `tapvs run`'s own flags are checked before anything opens: a bad value names the flag and what it takes.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function tapvs(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/tapvs.js', ...args], { timeout: 30_000 }, (err, _out, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

describe('tapvs run flags', () => {
  it('refuses a --tx-thread other than auto or off, before opening any port', async () => {
    const r = await tapvs(['run', '--config', '/nonexistent/tapvs.conf', '--tx-thread', 'sometimes']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--tx-thread sometimes: auto or off');
  });

  it('refuses a --nice out of range', async () => {
    const r = await tapvs(['run', '--config', '/nonexistent/tapvs.conf', '--nice', '40']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--nice 40: an integer from -20 to 19');
  });
});
