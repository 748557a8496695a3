// SCTP services on the control side, as ipvsadm 1.31 names and prints them:
// --sctp-service (no short option) wherever a service is named, "SCTP" and
// "%-4s %s" in listings, "--sctp-service ADDR:PORT" in -S (its
// option_from_protocol), -S/-R round trip, the SCTP conn lines of -Lnc with
// the kernel's state names, config lines (ipvsadm lines, check, sorry,
// mark), keepalived's "protocol SCTP", and the metrics' labels.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKeepalived } from '../../src/control/keepalived/index.js';
import { findService, putBack, takeOut } from '../../src/control/health/actions.js';
import { parseConfig } from '../../src/control/config.js';
import { execIpvsadm, localReply } from '../../src/control/ipvsadm-exec.js';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm-args.js';
import { renderMetrics, serviceLabelFromKey } from '../../src/control/metrics.js';
import { Director } from '../../src/director/director.js';
import { eth } from '../../src/wire/builder.js';

const OUT_MAC = '02:00:00:00:00:01';
const ROUTER_MAC = '02:00:00:00:00:fe';
const TOPOLOGY = `port outside kind=memory mac=${OUT_MAC} addr=10.0.0.1/24
port inside kind=memory mac=02:00:00:00:00:02 addr=192.168.10.1/24
vip 10.0.0.100 on outside
route default via 10.0.0.254
neigh 10.0.0.254 ${ROUTER_MAC}
neigh 192.168.10.11 02:00:00:00:10:11
`;
const RULES = `-A --sctp-service 10.0.0.100:5000 -s rr
-a --sctp-service 10.0.0.100:5000 -r 192.168.10.11:5001 -m -w 1
`;

function fresh(rules = RULES) {
  const r = parseConfig(TOPOLOGY + rules, 't.conf');
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return { director: new Director(r.config, { send: () => {} }), cfg: r.config };
}
function run(t: ReturnType<typeof fresh>, argv: string[], stdin?: string, now = 0) {
  return localReply(argv) ?? execIpvsadm(t, argv, stdin, now);
}
const pad = (s: string, n: number) => s.padEnd(n);

describe('ipvsadm --sctp-service', () => {
  it('parses as an SCTP service key (protocol 132), IPv4 and IPv6', () => {
    const r = parseIpvsadmArgs(['-A', '--sctp-service', '10.0.0.100:5000', '-s', 'wlc']);
    expect(r.ok && r.command.cmd === 'add-service' && r.command.key).toMatchObject({ proto: 132, port: 5000, fwmark: 0 });
    const r6 = parseIpvsadmArgs(['-A', '--sctp-service', '[2001:db8::100]:5000']);
    expect(r6.ok && r6.command.cmd === 'add-service' && r6.command.key).toMatchObject({ proto: 132, af: 10, port: 5000 });
    // one service option only, as for -t/-u
    const both = parseIpvsadmArgs(['-A', '--sctp-service', '10.0.0.100:5000', '-t', '10.0.0.100:80']);
    expect(both.ok).toBe(false);
  });

  it('lists as SCTP, saves as --sctp-service, and -S/-R comes back byte for byte', () => {
    const t = fresh();
    const list = run(t, ['-L', '-n']);
    expect(list.code).toBe(0);
    // print_service_entry: "%-4s %s" for the name, then " %s" the scheduler
    expect(list.stdout.split('\n').slice(3, 5)).toEqual([
      'SCTP 10.0.0.100:5000 rr',
      `  -> ${pad('192.168.10.11:5001', 28)} Masq    1      0          0         `,
    ]);
    const saved = run(t, ['-S', '-n']).stdout;
    expect(saved).toBe('-A --sctp-service 10.0.0.100:5000 -s rr\n-a --sctp-service 10.0.0.100:5000 -r 192.168.10.11:5001 -m -w 1\n');
    const t2 = fresh('');
    expect(run(t2, ['-R'], saved).code).toBe(0);
    expect(run(t2, ['-S', '-n']).stdout).toBe(saved);
    // a TCP service of the same address and port is another service
    expect(run(t2, ['-A', '-t', '10.0.0.100:5000']).code).toBe(0);
    expect(run(t2, ['-A', '--sctp-service', '10.0.0.100:5000']).stderr).toMatch(/Service already exists/);
    expect(run(t2, ['-D', '--sctp-service', '10.0.0.100:5000']).code).toBe(0);
    expect(run(t2, ['-S', '-n']).stdout).toBe('-A -t 10.0.0.100:5000 -s wlc\n');
  });

  it('-Lnc shows an association with the kernel\'s SCTP state names', () => {
    const t = fresh();
    const init = eth({ src: ROUTER_MAC, dst: OUT_MAC }).ipv4({ src: '203.0.113.7', dst: '10.0.0.100', ttl: 60 })
      .sctp({ sport: 40000, dport: 5000, vtag: 0, chunks: [{ type: 'INIT', initTag: 1, initialTsn: 1 }] }).build();
    const buf = new Uint8Array(64 + init.length);
    buf.set(init, 64);
    t.director.process(0, buf, 64, init.length, 1000);
    expect(t.director.drops.toObject()).toEqual({});
    expect(run(t, ['-L', '-n', '-c'], undefined, 1000).stdout).toBe('IPVS connection entries\npro expire state       source             virtual            destination\n' +
      `SCTP 00:04  INIT1       ${pad('203.0.113.7:40000', 18)} ${pad('10.0.0.100:5000', 18)} 192.168.10.11:5001\n`);
  });

  it('config: check, sorry and mark lines take SCTP; keepalived\'s protocol SCTP', () => {
    const r = parseConfig(TOPOLOGY + RULES +
      'check tcp --sctp-service 10.0.0.100:5000 -r 192.168.10.11:5001 port=22\n' +
      'sorry --sctp-service 10.0.0.100:5000 -r 192.168.10.99:5001\n' +
      '-A -f 7 -s rr\n-a -f 7 -r 192.168.10.11 -m\nmark 7 sctp 10.0.0.100 ports 6000-6001\n', 't.conf');
    if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
    expect(r.config.healthChecks[0]!.service).toBe('--sctp-service 10.0.0.100:5000');
    expect(r.config.marks.map((m) => [m.mark, m.proto, m.ports.length])).toEqual([[7, 132, 2]]);
    expect(serviceLabelFromKey('--sctp-service 10.0.0.100:5000')).toBe('SCTP 10.0.0.100:5000');
  });

  it('health checks of an SCTP service find it by its key, take a failing real server out and put it back', () => {
    const r = parseConfig(TOPOLOGY + RULES + 'check tcp --sctp-service 10.0.0.100:5000 -r 192.168.10.11:5001 port=22\n', 't.conf');
    if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
    const director = new Director(r.config, { send: () => {} });
    const svc = findService(director, r.config.healthChecks[0]!.service)!;
    expect(svc.proto).toBe(132);
    const t = takeOut(director, svc, r.config.healthChecks[0]!.dest.addr, 5001, false);
    expect(t.how).toBe('removed');
    expect(run({ director, cfg: r.config }, ['-S', '-n']).stdout).toBe('-A --sctp-service 10.0.0.100:5000 -s rr\n');
    expect(putBack(director, svc, r.config.healthChecks[0]!.dest.addr, 5001, t)).toBe(true);
    expect(run({ director, cfg: r.config }, ['-S', '-n']).stdout).toBe(RULES);
  });

  it('keepalived: protocol SCTP makes an SCTP service', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapvs-ka-sctp-'));
    try {
      const p = join(dir, 'k.conf');
      writeFileSync(p, 'virtual_server 10.1.0.1 5000 {\n protocol SCTP\n lb_algo rr\n lb_kind NAT\n real_server 10.2.0.1 5001 {\n  TCP_CHECK {\n   connect_port 22\n  }\n }\n}\n');
      const r = loadKeepalived(p);
      expect(r.ok && r.config.services.map((x) => [x.proto, x.port])).toEqual([[132, 5000]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('metrics label SCTP services as SCTP', () => {
    const t = fresh();
    const text = renderMetrics({ director: t.director, ports: [] });
    expect(text).toMatch(/service="SCTP 10\.0\.0\.100:5000"/);
    expect(text).toMatch(/proto="SCTP"/);
    expect(text).not.toMatch(/service="TCP 10\.0\.0\.100:5000"/);
  });
});
