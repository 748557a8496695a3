import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';

describe('makeLogger', () => {
  it("puts pino's usual pid and hostname on every JSON line (stderr on a pipe)", () => {
    const r = execFileSync('/bin/sh', ['-c', `"${process.execPath}" --import tsx -e "import('./src/runtime/log.ts').then((m) => m.makeLogger().info({ a: 1 }, 'hello'))" 2>&1 >/dev/null`], {
      cwd: `${__dirname}/../..`, encoding: 'utf8',
    });
    const line = JSON.parse(r.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'hello', a: 1, hostname: hostname() });
    expect(typeof line.pid).toBe('number');
  });
});
