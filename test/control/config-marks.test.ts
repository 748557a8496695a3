// Mark lines at size, and the MTU range the docs give. The parser keeps, per
// protocol and address, which ports are already marked (one lookup per
// port), so what a clash is must stay what it was when every rule was
// compared with every other: these cases pin it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigError } from '../../src/control/config.js';
import type { DirectorConfig } from '../../src/model/config.js';

const head = [
  'port a kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24',
  'vip 10.0.0.100 on a',
  'vip 10.0.0.101 on a',
];

function parse(lines: string[]): DirectorConfig | ConfigError[] {
  const r = parseConfig([...head, ...lines].join('\n'), 'm.conf');
  return 'errors' in r ? r.errors : r.config;
}

function ok(lines: string[]): DirectorConfig {
  const r = parse(lines);
  if (Array.isArray(r)) throw new Error(r.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return r;
}

function errs(lines: string[]): ConfigError[] {
  const r = parse(lines);
  if (!Array.isArray(r)) throw new Error('expected errors, the config was accepted');
  return r;
}

describe('mark lines', () => {
  it('a port repeated inside one line (lists, overlapping ranges) is kept once, in the order written', () => {
    const cfg = ok(['mark 1 tcp 10.0.0.100 ports 8,3-5,4-7,3,1', '-A -f 1 -s rr']);
    expect(cfg.marks).toEqual([{ proto: 6, addr: cfg.marks[0]!.addr, ports: [8, 3, 4, 5, 6, 7, 1], mark: 1 }]);
  });

  it('listed ports may sit beside an all-ports rule of the same address; two all-ports rules clash', () => {
    const cfg = ok(['mark 1 tcp 10.0.0.100', 'mark 2 tcp 10.0.0.100 ports 80', '-A -f 1', '-A -f 2']);
    expect(cfg.marks.map((m) => [m.mark, m.ports])).toEqual([[1, []], [2, [80]]]);
    const e = errs(['mark 1 tcp 10.0.0.100', 'mark 2 tcp 10.0.0.100', '-A -f 1', '-A -f 2']);
    expect(e.map((x) => [x.line, x.message])).toEqual([[5, 'tcp 10.0.0.100 all ports is already marked 1 (line 4)'], [7, "fwmark service 2 would receive nothing: no 'mark 2 ...' line classifies traffic into it"]]);
  });

  it('the clash named is the first shared port in the new line\'s order, with the line that took it', () => {
    const e = errs([
      'mark 1 tcp 10.0.0.100 ports 100-199',
      'mark 2 tcp 10.0.0.100 ports 300-399',
      'mark 3 tcp 10.0.0.100 ports 250,350,150',
      '-A -f 1', '-A -f 2', '-A -f 3',
    ]);
    expect(e[0]).toEqual({ file: 'm.conf', line: 6, message: 'tcp 10.0.0.100 port 350 is already marked 2 (line 5)' });
  });

  it('the same ports of another protocol or address are no clash', () => {
    const cfg = ok([
      'mark 1 tcp 10.0.0.100 ports 1-1000', 'mark 2 udp 10.0.0.100 ports 1-1000', 'mark 3 tcp 10.0.0.101 ports 1-1000',
      '-A -f 1', '-A -f 2', '-A -f 3',
    ]);
    expect(cfg.marks.map((m) => m.ports.length)).toEqual([1000, 1000, 1000]);
  });

  it('thirty disjoint ranges of one address (the file that once took seconds) parse whole, every port once', () => {
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(`mark ${i + 1} tcp 10.0.0.100 ports ${i * 2000 + 1}-${i * 2000 + 2000}`, `-A -f ${i + 1} -s rr`);
    const cfg = ok(lines);
    const all = cfg.marks.flatMap((m) => m.ports);
    expect(all).toHaveLength(60000);
    expect(new Set(all).size).toBe(60000);
    expect(cfg.marks[29]!.ports[0]).toBe(58001);
  });
});

describe('port mtu', () => {
  // the range docs/config.md gives is the one the parser takes, and nothing above it
  const row = readFileSync('docs/config.md', 'utf8').split('\n').find((l) => l.startsWith('| `mtu`'))!;
  const [, lo, hi] = /\| ([0-9]+)\.\.([0-9]+)/.exec(row)!.map(Number) as [number, number, number];
  const port = (mtu: number) => [`port b kind=memory mac=02:00:00:00:00:02 addr=10.9.0.1/24 mtu=${mtu}`];

  it('the documented bounds are accepted', () => {
    expect(ok(port(hi)).ports[1]!.mtu).toBe(hi);
    expect(ok(port(lo)).ports[1]!.mtu).toBe(lo);
  });

  it('one past either bound is refused at its line, naming the range', () => {
    for (const bad of [hi + 1, lo - 1, 65535]) {
      const e = errs(port(bad));
      expect(e).toHaveLength(1);
      expect(e[0]!.line).toBe(4);
      expect(e[0]!.message).toBe(`illegal mtu '${bad}' (${lo}..${hi}: ports carry frames of at most 9216 bytes)`);
    }
  });

  it('the largest MTU leaves room for the Ethernet header and two VLAN tags within a 9216-byte frame', () => {
    expect(hi + 14 + 8).toBeLessThanOrEqual(9216);
  });
});

describe('option max_conns', () => {
  it('takes what the connection table can be built with, and refuses one more', () => {
    expect(ok(['option max_conns 1073741823']).options.maxConns).toBe(1073741823);
    const e = errs(['option max_conns 1073741824']);
    expect(e.map((x) => x.message)).toEqual(["option max_conns: '1073741824' is not a whole number in 1..1073741823"]);
  });
});
