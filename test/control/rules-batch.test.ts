// The pieces a large batch is checked and applied with, a slice at a time:
// RuleChecker (a shadow that takes in a service only when a command names
// it) and applyOne (one checked command, refused without a change when the
// table moved under it).
import { describe, expect, it } from 'vitest';
import { parseIpvsadmArgs, type IpvsadmCommand } from '../../src/control/ipvsadm-args.js';
import { formatSave } from '../../src/control/ipvsadm-save.js';
import { RuleChecker, applyCommands, applyOne, type RuleEffect } from '../../src/control/rules.js';
import { ServiceTable } from '../../src/model/services.js';
import { ConnTable } from '../../src/conn/table.js';
import { Mutations } from '../../src/director/mutations.js';

const cmd = (l: string): IpvsadmCommand => {
  const r = parseIpvsadmArgs(l.split(' '));
  if (!r.ok) throw new Error(`${l}: ${r.error}`);
  return r.command;
};

function table(): { t: ServiceTable; m: Mutations } {
  const t = new ServiceTable();
  const m = new Mutations(t, new ConnTable({ max: 64 }));
  const r = applyCommands(t, m, [
    '-A -t 10.0.0.100:80 -s rr', '-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m',
    '-A -f 7 -s wlc', '-a -f 7 -r 192.168.10.12:0 -m',
  ].map(cmd));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { t, m };
}

describe('RuleChecker', () => {
  it('sees the live table through the batch: what earlier commands removed, added or flushed', () => {
    const { t } = table();
    const c = new RuleChecker(t);
    expect(c.check(cmd('-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m'))).toBe('Destination already exists');
    expect(c.check(cmd('-d -t 10.0.0.100:80 -r 192.168.10.11:80'))).toBeNull();
    expect(c.check(cmd('-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m'))).toBeNull(); // removed above, so new again
    expect(c.check(cmd('-D -f 7'))).toBeNull();
    expect(c.check(cmd('-e -f 7 -r 192.168.10.12 -w 3'))).toBe('Service not defined');
    expect(c.check(cmd('-A -f 7 -s rr'))).toBeNull();
    expect(c.check(cmd('-C'))).toBeNull();
    // after a flush neither the live table nor the batch's own services so far exist
    expect(c.check(cmd('-E -t 10.0.0.100:80 -s rr'))).toBe('No such service');
    expect(c.check(cmd('-a -f 7 -r 192.168.10.13 -m'))).toBe('Service not defined');
    expect(c.check(cmd('-A -t 10.0.0.100:80 -s wlc'))).toBeNull();
    expect(c.check(cmd('-A -t 10.0.0.100:80 -s wlc'))).toBe('Service already exists');
  });

  it('checking changes nothing in the table', () => {
    const { t } = table();
    const before = formatSave(t);
    const c = new RuleChecker(t);
    for (const l of ['-D -t 10.0.0.100:80', '-C', '-A -t 10.0.0.1:1 -s rr']) expect(c.check(cmd(l))).toBeNull();
    expect(formatSave(t)).toBe(before);
  });
});

describe('applyOne', () => {
  it('applies a command and reports its effect', () => {
    const { t, m } = table();
    const effects: RuleEffect[] = [];
    expect(applyOne(t, m, cmd('-a -t 10.0.0.100:80 -r 192.168.10.13:80 -m -w 4'), effects)).toBe(0);
    expect(effects.map((e) => e.kind)).toEqual(['dest-added']);
    expect(t.get(6, 0x0a000064, 80)!.dests.map((d) => d.weight)).toEqual([4, 1]);
  });

  it('refuses, without a change or an exception, a command the table no longer fits', () => {
    const { t, m } = table();
    const svc = t.get(6, 0x0a000064, 80)!;
    m.removeDest(svc.dests[0]!); // as a health check taking the server out between check and apply
    const before = formatSave(t);
    const effects: RuleEffect[] = [];
    expect(applyOne(t, m, cmd('-e -t 10.0.0.100:80 -r 192.168.10.11:80 -w 9'), effects)).toBe('No such destination');
    expect(applyOne(t, m, cmd('-d -t 10.0.0.100:80 -r 192.168.10.11:80'), effects)).toBe('No such destination');
    expect(applyOne(t, m, cmd('-a -t 10.0.0.9:80 -r 192.168.10.11:80 -m'), effects)).toBe('Service not defined');
    expect(applyOne(t, m, cmd('-A -f 7 -s rr'), effects)).toBe('Service already exists');
    expect(applyOne(t, m, cmd('-Z -t 10.0.0.9:80'), effects)).toBe('No such service');
    expect(effects).toEqual([]);
    expect(formatSave(t)).toBe(before);
  });
});
