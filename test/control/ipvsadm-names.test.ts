// Names where ipvsadm 1.31 uses them, on the director's side: the parser
// reads host and service names from the answers the client sent (never
// resolving), and the one listing formatter prints addrport_to_anyname's
// names from the reverse answers (cut to 33 / 28 characters for IPv4 as
// ipvsadm cuts them, 59 for its 60-byte buffer, IPv6 always numeric, SCTP
// ports numeric, numbers where no name was found), or, asked without
// answers, prints numbers and says what it printed. -n stays numeric.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm-args.js';
import { execIpvsadm } from '../../src/control/ipvsadm-exec.js';
import { formatConnections, formatServiceListing, Naming } from '../../src/control/ipvsadm-format.js';
import { restore } from '../../src/control/ipvsadm-save.js';
import { ConnTable } from '../../src/conn/table.js';
import { Mutations } from '../../src/director/mutations.js';
import { ServiceTable } from '../../src/model/services.js';
import { answerLookup, answersProblem, reverseNames, wantedNames, type NameAnswers } from '../../src/control/ipvsadm-names.js';
import { Director } from '../../src/director/director.js';
import { prepareRequest } from '../../src/control/prepare-core.js';

const TOPOLOGY = `port outside kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24
port inside kind=memory mac=02:00:00:00:00:02 addr=192.168.10.1/24
vip 10.0.0.100 on outside
vip 10.0.0.101 on outside
route default via 10.0.0.254
neigh 10.0.0.254 02:00:00:00:00:fe
`;
const RULES = `-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1
-a -t 10.0.0.100:80 -r 192.168.10.12:8080 -m -w 2
-A -t 10.0.0.101:443 -s wlc
-a -t 10.0.0.101:443 -r 192.168.10.13:443 -m -w 1
-A -u 10.0.0.100:53 -s rr
-a -u 10.0.0.100:53 -r 192.168.10.11:53 -m -w 1
-A --sctp-service 10.0.0.100:5000 -s rr
-a --sctp-service 10.0.0.100:5000 -r 192.168.10.11:5000 -m -w 1
-A -f 1 -s rr
-a -f 1 -r 192.168.10.11:443 -g -w 1
mark 1 tcp 10.0.0.100 ports 443
`;

function fresh(rules = RULES) {
  const r = parseConfig(TOPOLOGY + rules, 't.conf');
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return { director: new Director(r.config, { send: () => {} }), cfg: r.config };
}

const LONG_VIP = 'a-rather-long-virtual-service.example.lab';
const LONG_RS = 'a-very-long-real-server-name.example.lab';
/** What a fake resolver found: rs3 (192.168.10.13) has no name, nor port 5000. */
const REVERSE: NameAnswers = {
  addrs: { '10.0.0.100': 'www.lab', '10.0.0.101': LONG_VIP, '192.168.10.11': 'rs1.lab', '192.168.10.12': LONG_RS },
  ports: { 'tcp/80': 'http', 'tcp/8080': 'http-alt', 'tcp/443': 'https', 'udp/53': 'domain' },
};
const FORWARD: NameAnswers = {
  hosts: { 'www.lab': '10.0.0.100', 'rs1.lab': '192.168.10.11' },
  services: { 'tcp/http': 80, 'udp/domain': 53, 'tcp/https': 443 },
};

const lines = (s: string) => s.split('\n');

describe('ipvsadm arguments with names (answers from the client)', () => {
  const lookup = answerLookup(FORWARD);
  const parse = (line: string) => parseIpvsadmArgs(line.split(' '), lookup);

  it('host names and service names under the service protocol', () => {
    expect(parse('-A -t www.lab:http -s rr')).toMatchObject({ ok: true, command: { cmd: 'add-service', key: { proto: 6, addr: 0x0a000064, port: 80 } } });
    expect(parse('-A -u www.lab:domain')).toMatchObject({ ok: true, command: { key: { proto: 17, port: 53 } } });
    // a -r without a port takes the service's; its name is looked up under the service's protocol
    expect(parse('-a -t www.lab:http -r rs1.lab -m')).toMatchObject({ ok: true, command: { dest: { addr: 0xc0a80a0b, port: 80 } } });
    expect(parse('-a -t www.lab:http -r rs1.lab:https -m')).toMatchObject({ ok: true, command: { dest: { port: 443 } } });
    // -f sets ipvsadm's protocol to TCP: a -r port name is a TCP one
    expect(parse('-a -f 1 -r rs1.lab:https -g')).toMatchObject({ ok: true, command: { dest: { addr: 0xc0a80a0b, port: 443 } } });
    // an IPv6 address is numeric only; its bracketed port may be a name
    expect(parse('-A -t [2001:db8::100]:http')).toMatchObject({ ok: true, command: { key: { af: 10, port: 80 } } });
    // ipvsadm reads no port after "[name]": the address alone (and so a zero port)
    expect(parse('-A -t [www.lab]:http')).toEqual({ ok: false, code: 2, error: 'Zero port specified for non-persistent service' });
    expect(parse('-A -t [www.lab]:http -p')).toMatchObject({ ok: true, command: { key: { addr: 0x0a000064, port: 0 } } });
  });

  it("names that do not resolve fail with ipvsadm's own messages", () => {
    const vs = { ok: false, code: 2, error: 'illegal virtual server address[:port] specified' };
    const rs = { ok: false, code: 2, error: 'illegal real server address[:port] specified' };
    expect(parse('-A -t nowhere.lab:http')).toEqual(vs);
    expect(parse('-A -t www.lab:nosuchservice')).toEqual(vs);
    // a UDP service name is not a TCP one
    expect(parse('-A -t www.lab:domain')).toEqual(vs);
    // service_to_port knows tcp and udp: an SCTP port is a number
    expect(parse('--sctp-service www.lab:http')).toEqual({ ok: false, code: 255, tryHelp: true, error: 'the command line does not start with a command' });
    expect(parse('-A --sctp-service www.lab:http')).toEqual(vs);
    expect(parse('-A --sctp-service www.lab:5000')).toMatchObject({ ok: true, command: { key: { proto: 132, addr: 0x0a000064, port: 5000 } } });
    expect(parse('-a -t www.lab:http -r nowhere.lab:http -m')).toEqual(rs);
    // before -t there is no protocol to look a port name up under
    expect(parse('-a -r rs1.lab:http -t www.lab:http -m')).toEqual(rs);
    expect(parse('-a -r rs1.lab:80 -t www.lab:http -m')).toMatchObject({ ok: true });
    // without answers (the config file, a request that carries none): refused, saying why, as before
    expect(parseIpvsadmArgs(['-A', '-t', 'www.lab:80'])).toEqual({
      ok: false, code: 2, error: "illegal virtual server address[:port] specified ('www.lab' is a host name; tapvs takes numeric addresses only)",
    });
  });

  it('wantedNames lists the lookups of a line and of -R lines, and stops where ipvsadm stops', () => {
    const w = wantedNames(['-a', '-t', 'www.lab:http', '-r', 'rs1.lab:8080', '-m']);
    expect([...w.hosts]).toEqual(['www.lab', 'rs1.lab']);
    expect([...w.services]).toEqual(['tcp/http']);
    // numbers, IPv6 and SCTP ask nothing; a line refused before a name never reaches it
    expect(wantedNames(['-A', '-t', '10.0.0.1:80'])).toEqual({ hosts: new Set(), services: new Set() });
    expect(wantedNames(['-A', '--sctp-service', 'x.lab:5000', '-u', 'y.lab:53'])).toEqual({ hosts: new Set(['x.lab']), services: new Set() });
    expect(wantedNames(['-a', '-w', 'x', '-t', 'www.lab:http'])).toEqual({ hosts: new Set(), services: new Set() });
    const r = wantedNames(['-R'], '-A -u dns.lab:domain\n# -A -t hidden.lab:80\n\n-a -u dns.lab:domain -r rs9.lab -m\n');
    expect([...r.hosts]).toEqual(['dns.lab', 'rs9.lab']);
    expect([...r.services]).toEqual(['udp/domain']);
  });

  it('execIpvsadm applies named lines, -R lines too, and the director keeps the addresses', () => {
    const t = fresh('');
    expect(execIpvsadm(t, ['-A', '-t', 'www.lab:http', '-s', 'rr'], undefined, 0, FORWARD)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(execIpvsadm(t, ['-a', '-t', 'www.lab:http', '-r', 'rs1.lab:http', '-m'], undefined, 0, FORWARD).code).toBe(0);
    const restored = execIpvsadm(t, ['-R'], '-A -u www.lab:domain -s rr\n-a -u www.lab:domain -r rs1.lab -m\n', 0, FORWARD);
    expect(restored).toEqual({ code: 0, stdout: '', stderr: '' });
    const bad = execIpvsadm(t, ['-R'], '-A -t www.lab:8080\n-A -t gone.lab:80\n', 0, FORWARD);
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'line 2: illegal virtual server address[:port] specified\nno rule was changed\n' });
    expect(execIpvsadm(t, ['-S', '-n'], undefined, 0).stdout).toBe(
      '-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1\n' +
        '-A -u 10.0.0.100:53 -s rr\n-a -u 10.0.0.100:53 -r 192.168.10.11:53 -m -w 1\n',
    );
  });

  it('a request decoded off the forwarding thread keeps its answers, and -R lines there read them', () => {
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const p = prepareRequest(bytes({ argv: ['-R'], stdin: '-A -t www.lab:http\n-a -t www.lab:http -r rs1.lab -m\n', names: FORWARD }));
    expect(p).toMatchObject({ ok: true, req: { argv: ['-R'], names: FORWARD }, restore: { ok: true, count: 2 } });
    const gone = prepareRequest(bytes({ argv: ['-R'], stdin: '-A -t gone.lab:http\n', names: FORWARD }));
    expect(gone).toMatchObject({ ok: true, restore: { ok: false, errors: ['line 1: illegal virtual server address[:port] specified'] } });
    expect(prepareRequest(bytes({ argv: ['-L'], names: REVERSE }))).toEqual({ ok: true, req: { argv: ['-L'], names: REVERSE } });
    expect(prepareRequest(bytes({ argv: ['-L'], names: { addrs: { x: 'y' } } }))).toMatchObject({ ok: false, problem: expect.stringMatching(/names\.addrs/) });
  });

  it('answers are checked before they are used', () => {
    expect(answersProblem(FORWARD)).toBeNull();
    expect(answersProblem(REVERSE)).toBeNull();
    expect(answersProblem({ hosts: { x: '10.0.0.300' } })).toMatch(/bad entry for 'x'/);
    expect(answersProblem({ ports: { 'sctp/80': 'http' } })).toMatch(/bad entry/);
    expect(answersProblem({ services: Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`tcp/s${i}`, 1])) })).toMatch(/more than 4096/);
    // a name like one of Object's own is just a name
    expect(answerLookup({ hosts: {} }).host('constructor')).toBeNull();
  });
});

describe('ipvsadm listings with names (addrport_to_anyname)', () => {
  const named = (argv: string[]) => execIpvsadm(fresh(), argv, undefined, 0, { ...FORWARD, ...REVERSE });

  it('-L: names, cut to 33 and 28 characters, numbers where none was found, SCTP ports and FWM as they are', () => {
    expect(named(['-L'])).toEqual({
      code: 0, stderr: '',
      stdout: [
        'IP Virtual Server version 1.2.1 (size=1048576)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  www.lab:http rr',
        '  -> rs1.lab:http                 Masq    1      0          0         ',
        '  -> a-very-long-real-server-name Masq    2      0          0         ',
        'TCP  a-rather-long-virtual-servic wlc',
        '  -> 192.168.10.13:https          Masq    1      0          0         ',
        'UDP  www.lab:domain rr',
        '  -> rs1.lab:domain               Masq    1      0          0         ',
        'SCTP www.lab:5000 rr',
        '  -> rs1.lab:5000                 Masq    1      0          0         ',
        'FWM  1 rr',
        '  -> rs1.lab:https                Route   1      0          0         ',
        '',
      ].join('\n'),
    });
  });

  it('--stats, --rate, --thresholds, --persistent-conn, --tun-info name the same way', () => {
    expect(lines(named(['-L', '--stats']).stdout).slice(3, 5)).toEqual([
      'TCP  www.lab:http                        0        0        0        0        0',
      '  -> rs1.lab:http                        0        0        0        0        0',
    ]);
    expect(lines(named(['-L', '--rate']).stdout).slice(6, 8)).toEqual([
      'TCP  a-rather-long-virtual-servic        0        0        0        0        0',
      '  -> 192.168.10.13:https                 0        0        0        0        0',
    ]);
    expect(lines(named(['-L', '--thresholds']).stdout).slice(3, 6)).toEqual([
      'TCP  www.lab:http rr',
      '  -> rs1.lab:http                 0          0          0          0         ',
      '  -> a-very-long-real-server-name 0          0          0          0         ',
    ]);
    expect(lines(named(['-L', '--persistent-conn']).stdout).slice(8, 10)).toEqual([
      'UDP  www.lab:domain rr',
      '  -> rs1.lab:domain               1         0           0          0         ',
    ]);
    expect(lines(named(['-L', '--tun-info', '-t', 'www.lab:http']).stdout)).toEqual([
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn',
      'TCP  www.lab:http rr',
      '  -> rs1.lab:http                 Masq    n/a           1      0          0         ',
      '  -> a-very-long-real-server-name Masq    n/a           2      0          0         ',
      '',
    ]);
  });

  it('-S without -n writes names (rule lines are not cut, but for the 60-byte buffer)', () => {
    const t = fresh('-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 192.168.10.12:8080 -m -w 2\n-a -t 10.0.0.100:80 -r 192.168.10.14:80 -m -w 1\n');
    const long = 'x'.repeat(60);
    const r = execIpvsadm(t, ['-S'], undefined, 0, { addrs: { ...REVERSE.addrs, '192.168.10.14': long }, ports: REVERSE.ports });
    expect(r.stdout).toBe(
      '-A -t www.lab:http -s rr\n' +
        `-a -t www.lab:http -r ${LONG_RS}:http-alt -m -w 2\n` +
        `-a -t www.lab:http -r ${'x'.repeat(59)} -m -w 1\n`,
    );
    expect(r.lookup).toBeUndefined();
  });

  it('IPv6 addresses stay numeric (ipvsadm asks gethostbyaddr with an IPv4 length); their ports are named', () => {
    const t = new ServiceTable();
    const rules = '-A -t [2001:db8::100]:80 -s rr\n-a -t [2001:db8::100]:80 -r [2001:db8::11]:8080 -m -w 1\n';
    expect(restore(t, new Mutations(t, new ConnTable({ max: 64 })), rules).ok).toBe(true);
    const f = parseIpvsadmArgs(['-L']);
    if (!f.ok || f.command.cmd !== 'list') throw new Error('not a listing');
    const asked = new Naming(false);
    formatServiceListing(t, f.command.format, 4096, undefined, asked);
    // nothing of IPv6 to look up but the ports
    expect(asked.questions.result()).toEqual({ addrs: [], ports: ['tcp/80', 'tcp/8080'] });
    const r = formatServiceListing(t, f.command.format, 4096, undefined, new Naming(false, reverseNames(REVERSE)));
    if (!r.ok) throw new Error(r.error);
    expect(lines(r.text).slice(3, 5)).toEqual([
      'TCP  [2001:db8::100]:http rr',
      '  -> [2001:db8::11]:http-alt      Masq    1      0          0         ',
    ]);
  });

  it('-L -c names client, virtual and real server', () => {
    const nm = new Naming(false, reverseNames(REVERSE));
    const conn = { proto: 6, state: 'ESTABLISHED', expiresInMs: 899_000, caddr: 0xcb007107, cport: 40000, vaddr: 0x0a000064, vport: 80, daddr: 0xc0a80a0b, dport: 80 };
    const sctp = { ...conn, proto: 132, state: 'ESTABLISHED', vport: 5000, dport: 5000 };
    expect(formatConnections([conn, sctp], { persistentConn: false }, nm)).toBe(
      'IPVS connection entries\n' +
        'pro expire state       source             virtual            destination\n' +
        'TCP 14:59  ESTABLISHED 203.0.113.7:40000  www.lab:http       rs1.lab:http\n' +
        'SCTP 14:59  ESTABLISHED 203.0.113.7:40000  www.lab:5000       rs1.lab:5000\n',
    );
  });

  it('asked without names: the -n text, and what it printed to name; -n with names stays numeric', () => {
    const t = fresh();
    const numeric = execIpvsadm(t, ['-L', '-n'], undefined, 0);
    expect(numeric.lookup).toBeUndefined();
    const asked = execIpvsadm(t, ['-L'], undefined, 0);
    expect(asked.stdout).toBe(numeric.stdout);
    expect(asked.lookup).toEqual({
      addrs: ['10.0.0.100', '192.168.10.11', '192.168.10.12', '10.0.0.101', '192.168.10.13'],
      ports: ['tcp/80', 'tcp/8080', 'tcp/443', 'udp/53'],
    });
    expect(execIpvsadm(t, ['-L', '-n'], undefined, 0, REVERSE)).toEqual(numeric);
    expect(execIpvsadm(t, ['-S', '-n'], undefined, 0, REVERSE).stdout).toBe(execIpvsadm(t, ['-S', '-n'], undefined, 0).stdout);
    const save = execIpvsadm(t, ['-S'], undefined, 0);
    expect(save.stdout).toBe(execIpvsadm(t, ['-S', '-n'], undefined, 0).stdout);
    expect(save.lookup?.addrs).toContain('10.0.0.101');
    expect(execIpvsadm(t, ['-L', '-c'], undefined, 0).lookup).toBeUndefined(); // no connections, nothing printed
    // a missing service asks nothing
    expect(execIpvsadm(t, ['-L', '-t', '10.0.0.9:80'], undefined, 0)).toEqual({ code: 1, stdout: '', stderr: 'No such service\n' });
  });
});
