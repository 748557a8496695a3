// The worker thread gives what the forwarding thread would have parsed
// itself: the same config, the same -R commands, the same errors (capped).
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import { parseRestore } from '../../src/control/ipvsadm-save.js';
import { MAX_ERRORS, StringPack, restoreChunks, unpackConfig, type PreparedRestore } from '../../src/control/prepare-core.js';
import { Preparer } from '../../src/control/prepare.js';
import { drainNow } from '../../src/control/slices.js';

let prep: Preparer | undefined;
afterEach(async () => {
  await prep?.close();
  prep = undefined;
});

function bigConfig(services: number): string {
  const l = ['port a kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/16', 'port b kind=memory mac=02:00:00:00:00:02 addr=192.168.0.1/16', 'vip 10.0.0.100 on a'];
  for (let i = 0; i < services; i++) {
    l.push(`-A -t 10.0.0.100:${1000 + i} -s wlc`, `-a -t 10.0.0.100:${1000 + i} -r 192.168.1.${(i % 250) + 1}:80 -m -w ${i % 7}`);
  }
  l.push('mark 1 tcp 10.0.0.100 ports 20000-29999', '-A -f 1 -s rr', '-a -f 1 -r 192.168.2.1 -m', 'check tcp -f 1 -r 192.168.2.1 port=80');
  return l.join('\n');
}

const bytes = (s: string) => new TextEncoder().encode(s);

function restoreOf(p: PreparedRestore) {
  if (!p.ok) return p;
  const lines = new Int32Array(p.count);
  const commands = [...restoreChunks(p.lines, lines)].flat();
  return { commands, lines: [...lines] };
}

describe('Preparer (the control plane worker thread)', () => {
  it('a large config comes back equal to parsing it here', async () => {
    prep = new Preparer((why) => { throw new Error(`fell back: ${why}`); });
    const text = bigConfig(3000);
    const here = parseConfig(text, 'x.conf');
    const r = await prep.config(bytes(text), 'x.conf');
    expect(r.ok).toBe(true);
    if (!r.ok || 'errors' in here) return;
    expect(r.config.arrays.services).toBeInstanceOf(StringPack); // moved as packed bytes, not cloned strings
    expect(drainNow(unpackConfig(r.config))).toEqual(here.config);
  });

  it('config errors come back formatted, at most MAX_ERRORS, with how many more', async () => {
    prep = new Preparer();
    const text = Array.from({ length: MAX_ERRORS + 7 }, (_, i) => `frobnicate ${i}`).join('\n');
    const r = await prep.config(bytes(text), 'bad.conf');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(MAX_ERRORS);
    expect(r.errors[0]).toMatch(/^bad\.conf:1: unknown directive 'frobnicate'/);
    expect(r.more).toBe(7);
  });

  it('a -R request: its commands and their lines are those parseRestore gives, and stdin is not sent back', async () => {
    prep = new Preparer();
    const rules = Array.from({ length: 5000 }, (_, i) => `-A -t 10.1.${i >> 8}.${i & 255}:80 -s rr\n\n-a -t 10.1.${i >> 8}.${i & 255}:80 -r 192.168.0.${(i % 250) + 1} -m`).join('\n');
    const r = await prep.request(bytes(JSON.stringify({ argv: ['-R'], stdin: rules })));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.req).toEqual({ argv: ['-R'] });
    const want = parseRestore(rules);
    if ('errors' in want) throw new Error('fixture');
    expect(restoreOf(r.restore!)).toEqual({ commands: want.commands, lines: want.lines });
  });

  it('a bad request or a bad -R line is reported, not thrown', async () => {
    prep = new Preparer();
    expect(await prep.request(bytes('{"argv": 3}'))).toEqual({ ok: false, problem: "'argv' must be an array of strings" });
    const bad = await prep.request(bytes('{not json'));
    expect(bad.ok).toBe(false);
    const r = await prep.request(bytes(JSON.stringify({ argv: ['-R'], stdin: '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r nowhere' })));
    expect(r.ok && r.restore && !r.restore.ok && r.restore.errors[0]).toMatch(/^line 2: /);
  });

  it('after close() the same answers come from this thread', async () => {
    prep = new Preparer();
    await prep.close();
    const r = await prep.request(bytes(JSON.stringify({ argv: ['-L', '-n'] })));
    expect(r).toEqual({ ok: true, req: { argv: ['-L', '-n'] } });
  });
});

describe('StringPack', () => {
  it('gives back every string, in order, whatever its characters', () => {
    const strings = ['', 'abc', 'ünïcödé ✓', '{"a":[1,2,3]}', 'x'.repeat(70_000)];
    const p = StringPack.of(strings);
    expect(p.length).toBe(5);
    expect([...p]).toEqual(strings);
    expect([...p]).toEqual(strings); // iterable again
  });
});

describe('-R --compat', () => {
  it('keeps its text: it is run line by line, not as a parsed batch', async () => {
    prep = new Preparer();
    const stdin = '-A -t 10.0.0.1:80 -s rr\n'.repeat(2000);
    const r = await prep.request(bytes(JSON.stringify({ argv: ['-R', '--compat'], stdin })));
    expect(r).toEqual({ ok: true, req: { argv: ['-R', '--compat'], stdin } });
  });
});
