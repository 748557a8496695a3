import { describe, expect, it } from 'vitest';
import { parseIpvsadmArgs, type IpvsadmCommand } from '../../src/control/ipvsadm-args.js';
import { formatSave } from '../../src/control/ipvsadm-save.js';
import { applyCommands } from '../../src/control/rules.js';
import { FWD_DR, FWD_MASQ } from '../../src/model/dest.js';
import { ServiceTable } from '../../src/model/services.js';
import { ConnTable } from '../../src/conn/table.js';
import { Mutations } from '../../src/director/mutations.js';

/** The mutation API over a bare service table (no director around it). */
const mut = (t: ServiceTable) => new Mutations(t, new ConnTable({ max: 64 }));

const ip = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);

function cmds(...lines: string[]): IpvsadmCommand[] {
  return lines.map((l) => {
    const r = parseIpvsadmArgs(l.split(' '));
    if (!r.ok) throw new Error(`${l}: ${r.error}`);
    return r.command;
  });
}

function base(): ServiceTable {
  const t = new ServiceTable();
  const r = applyCommands(t, mut(t), cmds(
    '-A -t 10.0.0.100:80 -s rr',
    '-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1',
    '-a -t 10.0.0.100:80 -r 192.168.10.12:80 -m -w 2',
    '-A -u 10.0.0.100:53 -s wlc',
    '-a -u 10.0.0.100:53 -r 192.168.10.11:53 -m -w 1',
  ));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return t;
}

describe('applyCommands', () => {
  it('a batch with one invalid command changes nothing, and says which and why', () => {
    const t = base();
    const before = formatSave(t);
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    const destsBefore = [...svc.dests];
    const r = applyCommands(t, mut(t), cmds(
      '-A -t 10.0.0.100:8080 -s rr', // valid
      '-e -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 9', // valid
      '-d -t 10.0.0.100:80 -r 192.168.10.12:80', // valid
      '-a -t 10.0.0.100:9999 -r 192.168.10.11', // no such service
    ));
    expect(r).toStrictEqual({ ok: false, errors: [{ index: 3, message: 'Service not defined' }] });
    expect(formatSave(t)).toBe(before);
    expect(t.get(6, ip('10.0.0.100'), 8080)).toBeUndefined();
    expect(svc.dests).toEqual(destsBefore);
    expect(svc.dests.every((d) => d.available)).toBe(true);
  });

  it('validates each command against the earlier ones of the same batch', () => {
    const t = base();
    const ok = applyCommands(t, mut(t), cmds('-A -t 10.0.0.100:8080 -s rr', '-a -t 10.0.0.100:8080 -r 192.168.10.20 -m'));
    expect(ok.ok).toBe(true);
    const r = applyCommands(t, mut(t), cmds('-D -t 10.0.0.100:8080', '-a -t 10.0.0.100:8080 -r 192.168.10.21 -m', '-d -t 10.0.0.100:80 -r 192.168.10.11:80', '-d -t 10.0.0.100:80 -r 192.168.10.11:80'));
    expect(r).toStrictEqual({ ok: false, errors: [{ index: 1, message: 'Service not defined' }, { index: 3, message: 'No such destination' }] });
    expect(t.get(6, ip('10.0.0.100'), 8080)!.dests).toHaveLength(1);
  });

  it.each([
    ['-A -t 10.0.0.100:80 -s wrr', 'Service already exists'],
    ['-E -t 10.0.0.1:80 -s rr', 'No such service'],
    ['-D -u 10.0.0.100:80', 'No such service'],
    ['-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m', 'Destination already exists'],
    ['-e -t 10.0.0.100:80 -r 192.168.10.99:80 -m', 'No such destination'],
    ['-d -t 10.0.0.100:80 -r 192.168.10.11:81', 'No such destination'],
    ['-d -t 10.0.0.1:80 -r 192.168.10.11:80', 'Service not defined'],
    ['-Z -t 10.0.0.1:80', 'No such service'],
    ['-a -t 10.0.0.100:80 -r 224.0.0.5:80 -m', /^Invalid operation\.  Possibly wrong module version, address not unicast, \.\.\. \(224\.0\.0\.5 is multicast\)/],
    ['-a -t 10.0.0.100:80 -r 192.168.10.30:80 -m -y 5', /^Numerical result out of range: lower threshold 5 is higher than upper threshold 0/],
    ['-A -t 10.0.0.100:81 -s bogus', /^Scheduler or persistence engine not found: unknown scheduler 'bogus' \(known: .*\brr\b/],
  ])('%s -> %s', (line, message) => {
    const t = base();
    const r = applyCommands(t, mut(t), cmds(line));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    if (typeof message === 'string') expect(r.errors[0]!.message).toBe(message);
    else expect(r.errors[0]!.message).toMatch(message);
  });

  it('-E sets every attribute, as the kernel: persistence off, new scheduler', () => {
    const t = new ServiceTable();
    applyCommands(t, mut(t), cmds('-A -t 10.0.0.100:80 -s sh -p 600 -M 255.255.0.0 -b sh-port'));
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    const r = applyCommands(t, mut(t), cmds('-E -t 10.0.0.100:80 -s rr'));
    expect(r.ok && r.effects).toStrictEqual([{ kind: 'service-edited', svc }]);
    expect(svc.sched.name).toBe('rr');
    expect(svc.persistent).toBe(false);
    expect(svc.netmask).toBe(0xffffffff);
    expect(svc.flags.shPort).toBe(false);
  });

  it('-e sets every attribute of the one real server: an omitted -m falls back to -g', () => {
    const t = base();
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    const [d12, d11] = svc.dests;
    applyCommands(t, mut(t), cmds('-e -t 10.0.0.100:80 -r 192.168.10.11:80 -w 7'));
    expect(d11!.weight).toBe(7);
    expect(d11!.fwd).toBe(FWD_DR);
    expect(d12!.weight).toBe(2);
    expect(d12!.fwd).toBe(FWD_MASQ);
  });

  it('-d removes one real server and touches nothing else', () => {
    const t = base();
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    const udp = t.get(17, ip('10.0.0.100'), 53)!;
    const gone = svc.findDest(ip('192.168.10.11'), 80)!;
    const r = applyCommands(t, mut(t), cmds('-d -t 10.0.0.100:80 -r 192.168.10.11'));
    expect(r.ok && r.effects).toStrictEqual([{ kind: 'dest-removed', dest: gone }]);
    expect(gone.available).toBe(false);
    expect(svc.dests.map((d) => d.addr)).toEqual([ip('192.168.10.12')]);
    expect(udp.dests.map((d) => [d.addr, d.available])).toEqual([[ip('192.168.10.11'), true]]);
  });

  it('-D removes one service; -C removes all; their real servers become unavailable', () => {
    const t = base();
    const udp = t.get(17, ip('10.0.0.100'), 53)!;
    const tcp = t.get(6, ip('10.0.0.100'), 80)!;
    expect(applyCommands(t, mut(t), cmds('-D -u 10.0.0.100:53')).ok).toBe(true);
    expect(t.all).toEqual([tcp]);
    expect(udp.dests[0]!.available).toBe(false);
    expect(tcp.dests.every((d) => d.available)).toBe(true);
    const r = applyCommands(t, mut(t), cmds('-C'));
    expect(r.ok && r.effects).toStrictEqual([{ kind: 'service-removed', svc: tcp }]);
    expect(t.all).toEqual([]);
    expect(tcp.dests.every((d) => !d.available)).toBe(true);
  });

  it('-Z zeroes counters; --set is handed back to the caller', () => {
    const t = base();
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    svc.stats.conns = 9;
    svc.dests[0]!.stats.inpkts = 4;
    t.get(17, ip('10.0.0.100'), 53)!.stats.conns = 3;
    const r = applyCommands(t, mut(t), cmds('-Z -t 10.0.0.100:80', '--set 100 20 30'));
    expect(r.ok && r.effects).toStrictEqual([{ kind: 'zeroed', svc }, { kind: 'timeouts', tcp: 100, tcpfin: 20, udp: 30 }]);
    expect(svc.stats.conns).toBe(0);
    expect(svc.dests[0]!.stats.inpkts).toBe(0);
    expect(t.get(17, ip('10.0.0.100'), 53)!.stats.conns).toBe(3);
  });

  it('refuses commands that do not change the table', () => {
    const empty = new ServiceTable();
    const r = applyCommands(empty, mut(empty), cmds('-L -n'));
    expect(r).toStrictEqual({ ok: false, errors: [{ index: 0, message: "'list' does not change the rule table and cannot be part of a batch" }] });
  });
});
