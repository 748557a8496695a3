import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIpvsadmArgs, type ListFormat } from '../../src/control/ipvsadm-args.js';
import { expireText, formatConnections, formatServiceListing, formatTimeouts, largeNum } from '../../src/control/ipvsadm-format.js';
import { restore } from '../../src/control/ipvsadm-save.js';
import { ServiceTable } from '../../src/model/services.js';
import { ConnTable } from '../../src/conn/table.js';
import { Mutations } from '../../src/director/mutations.js';

// The golden listings were printed by fixtures/config/listings/gen.py with
// ipvsadm 1.31's own printf formats, from the same data as below.
const golden = (name: string) => readFileSync(new URL(`../../fixtures/config/listings/${name}.txt`, import.meta.url), 'utf8');
const ip = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);

function table(text: string): ServiceTable {
  const t = new ServiceTable();
  const r = restore(t, new Mutations(t, new ConnTable({ max: 64 })), text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return t;
}

function formatOf(argv: string): ListFormat {
  const r = parseIpvsadmArgs(argv.split(' '));
  if (!r.ok || r.command.cmd !== 'list') throw new Error(`not a list command: ${argv}`);
  return r.command.format;
}

const oneService = '-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1\n';

describe('ipvsadm -L listings', () => {
  it('-Ln: services sorted (TCP before UDP before FWM), dests sorted, flags, persistence, ops', () => {
    // added in an order unlike the sorted listing
    const t = table(`
-A -f 1 -s wlc -p 600 -M 255.255.255.0
-a -f 1 -r 10.1.0.11:0 -g -w 3
-A -u 10.0.0.100:53 -s sh -b sh-port -o
-a -u 10.0.0.100:53 -r 192.168.10.11:53 -m -w 1
-A -t 10.0.0.100:443 -s wlc -p
-a -t 10.0.0.100:443 -r 172.16.5.5:443 -i -w 1
-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.12:80 -m -w 2
-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1
`);
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    const d11 = svc.findDest(ip('192.168.10.11'), 80)!;
    d11.activeConns = 3;
    d11.inactConns = 12;
    svc.findDest(ip('192.168.10.12'), 80)!.activeConns = 1;
    const r = formatServiceListing(t, formatOf('-L -n'), 4096);
    expect(r).toStrictEqual({ ok: true, text: golden('list') });
  });

  it('--nosort keeps the kernel order (newest real server first)', () => {
    const t = table(oneService + '-a -t 10.0.0.100:80 -r 192.168.10.12:80 -m -w 2\n');
    const r = formatServiceListing(t, formatOf('-L -n --nosort'), 4096);
    if (!r.ok) throw new Error(r.error);
    const lines = r.text.split('\n').filter((l) => l.startsWith('  -> 192'));
    expect(lines.map((l) => l.slice(5, 21))).toEqual(['192.168.10.12:80', '192.168.10.11:80']);
  });

  it('--stats, with and without --exact', () => {
    const t = table(oneService);
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    for (const s of [svc.stats, svc.dests[0]!.stats]) Object.assign(s, { conns: 5, inpkts: 120, outpkts: 100, inbytes: 9000, outbytes: 250000000 });
    expect(formatServiceListing(t, formatOf('-L -n --stats'), 4096)).toStrictEqual({ ok: true, text: golden('stats') });
    expect(formatServiceListing(t, formatOf('-L -n --stats --exact'), 4096)).toStrictEqual({ ok: true, text: golden('exact') });
  });

  it('--rate rounds the estimator to whole units', () => {
    const t = table(oneService);
    const svc = t.get(6, ip('10.0.0.100'), 80)!;
    for (const s of [svc.stats, svc.dests[0]!.stats]) Object.assign(s, { cps: 2.2, inpps: 39.6, outpps: 35, inbps: 3000.4, outbps: 119999.5 });
    expect(formatServiceListing(t, formatOf('-L -n --rate'), 4096)).toStrictEqual({ ok: true, text: golden('rate') });
  });

  it('--thresholds and --persistent-conn', () => {
    const t = table('-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1 -x 200 -y 100\n');
    const d = t.get(6, ip('10.0.0.100'), 80)!.dests[0]!;
    d.activeConns = 7;
    d.inactConns = 3;
    d.persistConns = 4;
    expect(formatServiceListing(t, formatOf('-L -n --thresholds'), 4096)).toStrictEqual({ ok: true, text: golden('thresholds') });
    expect(formatServiceListing(t, formatOf('-L -n --persistent-conn'), 4096)).toStrictEqual({ ok: true, text: golden('pconn') });
  });

  it('-L -t lists one service without the version header, or says No such service', () => {
    const t = table(oneService + '-A -t 10.0.0.100:443 -s wlc\n');
    const r = formatServiceListing(t, formatOf('-L -n -t 10.0.0.100:80'), 4096, { proto: 6, addr: ip('10.0.0.100'), port: 80, fwmark: 0 });
    expect(r).toStrictEqual({
      ok: true,
      text: 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.0.0.100:80 rr\n  -> 192.168.10.11:80             Masq    1      0          0         \n',
    });
    expect(formatServiceListing(t, formatOf('-L -n'), 4096, { proto: 17, addr: ip('10.0.0.100'), port: 80, fwmark: 0 })).toStrictEqual({ ok: false, error: 'No such service' });
  });

  it('--timeout', () => {
    expect(formatTimeouts({ tcp: 900, tcpfin: 120, udp: 300 })).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
  });

  it('-c: connection entries, expiry as mm:ss of whole seconds left', () => {
    const text = formatConnections(
      [
        { proto: 6, state: 'ESTABLISHED', expiresInMs: 899_999, caddr: ip('10.0.0.50'), cport: 40312, vaddr: ip('10.0.0.100'), vport: 80, daddr: ip('192.168.10.11'), dport: 80 },
        { proto: 17, state: 'UDP', expiresInMs: 298_500, caddr: ip('10.0.0.50'), cport: 5353, vaddr: ip('10.0.0.100'), vport: 53, daddr: ip('192.168.10.11'), dport: 53 },
        { proto: 6, state: 'FIN_WAIT', expiresInMs: -20, caddr: ip('203.0.113.200'), cport: 65535, vaddr: ip('10.0.0.100'), vport: 80, daddr: ip('192.168.10.12'), dport: 80 },
      ],
      { persistentConn: false },
    );
    expect(text).toBe(golden('conns'));
  });

  it('expireText and largeNum at their boundaries', () => {
    expect(expireText(6_000_000)).toBe('100:00');
    expect(expireText(59_999)).toBe('00:59');
    expect(largeNum(99_999_999, false)).toBe(' 99999999');
    expect(largeNum(100_000_000, false)).toBe('  100000K');
    expect(largeNum(1_000_000_000, false)).toBe('    1000M');
    expect(largeNum(100_000_000_000, false)).toBe('     100G');
    expect(largeNum(123_456_789_012_345, false)).toBe('     123T');
    expect(largeNum(12_345_678_901, true)).toBe(' 12345678901');
  });
});
