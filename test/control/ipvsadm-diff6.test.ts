// The differential ipvsadm table for IPv6: command line -> exit code,
// stdout, stderr and the rules left (as -Sn prints them), on a dual-stack
// director. Expectations are written from ipvsadm 1.31's source
// (parse_service with inet_pton and "[addr]:port", the -M of an IPv6
// service read with atoi as 1..128, -6 after -f only, "Different address
// family" for non-tunnel servers, print_service_entry's IPv6 names that are
// never cut to 33/28 columns, "FWM  N IPv6", "-f N -6", "mask N",
// ipvs_cmp_services putting IPv4 before IPv6) and the kernel's messages.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import { execIpvsadm, localReply } from '../../src/control/ipvsadm-exec.js';
import { Director } from '../../src/director/director.js';
import { tcp6Frame } from '../director/topo6.js';

const OUT_MAC = '02:00:00:00:00:01';
const IN_MAC = '02:00:00:00:00:02';
const ROUTER_MAC = '02:00:00:00:00:fe';
const TOPOLOGY = `port outside kind=memory mac=${OUT_MAC} addr=10.0.0.1/24 addr=2001:db8::1/64
port inside kind=memory mac=${IN_MAC} addr=192.168.10.1/24 addr=2001:db8:10::1/64
vip 10.0.0.100 on outside
vip 2001:db8::100 on outside
route default via 10.0.0.254
route default via 2001:db8::fe
neigh 10.0.0.254 ${ROUTER_MAC}
neigh 2001:db8::fe ${ROUTER_MAC}
neigh 2001:db8:10::11 02:00:00:00:10:11
neigh 2001:db8:10::12 02:00:00:00:10:12
`;
const V4 = `-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1
`;
const V6 = `-A -t [2001:db8::100]:80 -s rr
-a -t [2001:db8::100]:80 -r [2001:db8:10::11]:80 -m -w 1
-a -t [2001:db8::100]:80 -r [2001:db8:10::12]:80 -m -w 1
`;
const BASE = V4 + V6;

function fresh(rules = BASE): { director: Director; cfg: ReturnType<typeof parse> } {
  const cfg = parse(rules);
  return { director: new Director(cfg, { send: () => {} }), cfg };
}
function parse(rules: string) {
  const r = parseConfig(TOPOLOGY + rules, 't.conf');
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return r.config;
}
function run(t: ReturnType<typeof fresh>, argv: string[], stdin?: string) {
  return localReply(argv) ?? execIpvsadm(t, argv, stdin, 0);
}

interface Row {
  argv: string;
  stdin?: string;
  code: number;
  stderr?: string | RegExp;
  stdout?: string | RegExp;
  /** -Sn afterwards: lines added to BASE, or the whole text when it starts with '='. */
  rules?: string;
}

const INVALID = 'Invalid operation.  Possibly wrong module version, address not unicast, ...';
/** ipvsadm's printf widths, spelled out: %-Ns and %Nllu. */
const l = (s: string, n: number): string => s.padEnd(n);
const r = (n: number, w: number): string => String(n).padStart(w);
const dline = (name: string, fwd: string, w: number, act: number, inact: number): string =>
  `  -> ${l(name, 28)} ${l(fwd, 7)} ${l(String(w), 6)} ${l(String(act), 10)} ${l(String(inact), 10)}`;
const TITLE = 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';

const rows: Row[] = [
  { argv: '-A -t [2001:db8::100]:443 -s wrr', code: 0, rules: '-A -t [2001:db8::100]:443 -s wrr' },
  // inet_pton takes upper case and leading zeros; -S prints what inet_ntop gives
  { argv: '-A -t [2001:0DB8:0000::0100]:443', code: 0, rules: '-A -t [2001:db8::100]:443 -s wlc' },
  { argv: '-A -u [2001:db8::100]:53 -o', code: 0, rules: '-A -u [2001:db8::100]:53 -s wlc -o' },
  { argv: '-A -t [2001:db8::100]:80', code: 255, stderr: 'Service already exists\n' },
  { argv: '-A -t [2001:db8::100]', code: 2, stderr: 'illegal virtual server address[:port] specified\n' },
  { argv: '-A -t [2001:db8::100]:0 -s rr', code: 2, stderr: 'Zero port specified for non-persistent service\n' },
  // a bare IPv6 address is an address without a port
  { argv: '-A -t 2001:db8::100 -p 30', code: 0, rules: '-A -t [2001:db8::100]:0 -s wlc -p 30' },
  // -M of an IPv6 service is a prefix length; 128 is the default and not printed
  { argv: '-A -t [2001:db8::100]:81 -p 60 -M 64', code: 0, rules: '-A -t [2001:db8::100]:81 -s wlc -p 60 -M 64' },
  { argv: '-A -t [2001:db8::100]:82 -p 60 -M 128', code: 0, rules: '-A -t [2001:db8::100]:82 -s wlc -p 60' },
  { argv: '-A -t [2001:db8::100]:81 -p 60 -M 0', code: 2, stderr: 'illegal ipv6 netmask specified\n' },
  // atoi reads "255.255.255.0" as 255
  { argv: '-A -t [2001:db8::100]:81 -p 60 -M 255.255.255.0', code: 2, stderr: 'illegal ipv6 netmask specified\n' },
  { argv: '-E -t [2001:db8::100]:80 -s sh -b sh-port -p 120 -M 56', code: 0,
    rules: `=${V4}-A -t [2001:db8::100]:80 -s sh -p 120 -M 56 -b sh-port\n-a -t [2001:db8::100]:80 -r [2001:db8:10::11]:80 -m -w 1\n-a -t [2001:db8::100]:80 -r [2001:db8:10::12]:80 -m -w 1\n` },
  // -6 only after -f; ipvsadm's message carries its own newline, so a blank line follows
  { argv: '-A -t [2001:db8::100]:90 -6', code: 2, stderr: '-6 used before -f\n\n' },
  { argv: '-A -6 -f 5', code: 2, stderr: '-6 used before -f\n\n' },
  { argv: '-A -f 5 -6 -s sh', code: 0, rules: '-A -f 5 -6 -s sh' },
  { argv: '-A -f 5 --ipv6 -p 30 -M 64', code: 0, rules: '-A -f 5 -6 -s wlc -p 30 -M 64' },
  // a mark names one service per family: IPv4 sorts first (ipvs_cmp_services compares af after fwmark)
  { argv: '-R', stdin: '-A -f 5 -6 -s rr\n-A -f 5 -s rr\n-a -f 5 -6 -r [2001:db8:10::12]:0 -m\n', code: 0,
    rules: '=' + BASE + '-A -f 5 -s rr\n-A -f 5 -6 -s rr\n-a -f 5 -6 -r [2001:db8:10::12]:0 -m -w 1\n' },
  { argv: '-R', stdin: '-A -f 5 -6 -s rr\n-A -f 5 -6 -s rr\n', code: 255, stderr: 'line 2: Service already exists\nno rule was changed\n' },
  // real servers
  { argv: '-a -t [2001:db8::100]:80 -r [2001:db8:10::13]:8080 -m -w 2', code: 0, rules: '-a -t [2001:db8::100]:80 -r [2001:db8:10::13]:8080 -m -w 2' },
  { argv: '-a -t [2001:db8::100]:80 -r 2001:db8:10::13 -m', code: 0, rules: '-a -t [2001:db8::100]:80 -r [2001:db8:10::13]:80 -m -w 1' },
  { argv: '-a -t [2001:db8::100]:80 -r [2001:db8:10::13]:8080 -g', code: 0, rules: '-a -t [2001:db8::100]:80 -r [2001:db8:10::13]:80 -g -w 1' },
  { argv: '-a -t [2001:db8::100]:80 -r [2001:db8:10::11]:80 -m', code: 255, stderr: 'Destination already exists\n' },
  { argv: '-a -t [2001:db8::100]:80 -r 192.168.10.13 -m', code: 2, stderr: 'Different address family is allowed only for tunneling servers\n' },
  { argv: '-a -t 10.0.0.100:80 -r [2001:db8:10::13]:80 -g', code: 2, stderr: 'Different address family is allowed only for tunneling servers\n' },
  // ipvsadm passes a tunnel across families to the kernel; tapvs refuses it
  { argv: '-a -t [2001:db8::100]:80 -r 192.168.10.13 -i', code: 255, stderr: new RegExp(`^${INVALID.replace(/[.]/g, '\\.')} \\(real server 192\\.168\\.10\\.13 is IPv4 but service \\[2001:db8::100\\] is IPv6`) },
  // ip_vs_new_dest: an IPv6 real server must be unicast and not link-local
  { argv: '-a -t [2001:db8::100]:80 -r [fe80::1]:80 -m', code: 255, stderr: `${INVALID} (fe80::1 is link-local)\n` },
  { argv: '-a -t [2001:db8::100]:80 -r [ff02::1]:80 -m', code: 255, stderr: `${INVALID} (ff02::1 is multicast)\n` },
  // DR needs a connected network: the director's topology refuses the rest
  { argv: '-a -t [2001:db8::100]:80 -r [2001:db8:99::1]:80 -g', code: 255, stderr: /^real server 2001:db8:99::1 uses direct routing \(-g\) but is on no IPv6 network directly connected/ },
  { argv: '-e -t [2001:db8::100]:80 -r [2001:db8:10::11]:80 -m -w 5 -x 10 -y 2', code: 0,
    rules: `=${V4}-A -t [2001:db8::100]:80 -s rr\n-a -t [2001:db8::100]:80 -r [2001:db8:10::11]:80 -m -w 5 -x 10 -y 2\n-a -t [2001:db8::100]:80 -r [2001:db8:10::12]:80 -m -w 1\n` },
  { argv: '-e -t [2001:db8::100]:80 -r [2001:db8:10::99]:80 -m', code: 255, stderr: 'No such destination\n' },
  { argv: '-d -t [2001:db8::100]:80 -r 2001:db8:10::99', code: 255, stderr: 'No such destination\n' },
  // brackets need the port after them
  { argv: '-d -t [2001:db8::100]:80 -r [2001:db8:10::11]', code: 2, stderr: 'illegal real server address[:port] specified\n' },
  { argv: '-d -t [2001:db8::100]:80 -r 2001:db8:10::11', code: 0, rules: `=${V4}-A -t [2001:db8::100]:80 -s rr\n-a -t [2001:db8::100]:80 -r [2001:db8:10::12]:80 -m -w 1\n` },
  { argv: '-D -t [2001:db8::100]:80', code: 0, rules: '=' + V4 },
  { argv: '-D -t [2001:db8::100]:99', code: 255, stderr: 'No such service\n' },
  { argv: '-Z -t [2001:db8::100]:80', code: 0 },
  { argv: '-Z -t [2001:db8::100]:99', code: 255, stderr: 'No such service\n' },
  // listings
  { argv: '-L -n -t [2001:db8::100]:99', code: 1, stderr: 'No such service\n' },
  {
    argv: '-L -n', code: 0,
    stdout: 'IP Virtual Server version 1.2.1 (size=1048576)\n' + TITLE +
      'TCP  10.0.0.100:80 rr\n' +
      dline('192.168.10.11:80', 'Masq', 1, 0, 0) + '\n' +
      'TCP  [2001:db8::100]:80 rr\n' +
      dline('[2001:db8:10::11]:80', 'Masq', 1, 0, 0) + '\n' +
      dline('[2001:db8:10::12]:80', 'Masq', 1, 0, 0) + '\n',
  },
  {
    argv: '-L -n -t [2001:db8::100]:80 --stats', code: 0,
    stdout: 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n' +
      l('TCP  [2001:db8::100]:80', 33) + r(0, 9).repeat(5) + '\n' +
      `  -> ${l('[2001:db8:10::11]:80', 28)}` + r(0, 9).repeat(5) + '\n' +
      `  -> ${l('[2001:db8:10::12]:80', 28)}` + r(0, 9).repeat(5) + '\n',
  },
  {
    argv: '-L -n -t [2001:db8::100]:80 --rate', code: 0,
    stdout: 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n' +
      l('TCP  [2001:db8::100]:80', 33) + r(0, 9).repeat(5) + '\n' +
      `  -> ${l('[2001:db8:10::11]:80', 28)} ${r(0, 8)} ${r(0, 8)} ${r(0, 8)}` + r(0, 9).repeat(2) + '\n' +
      `  -> ${l('[2001:db8:10::12]:80', 28)} ${r(0, 8)} ${r(0, 8)} ${r(0, 8)}` + r(0, 9).repeat(2) + '\n',
  },
  {
    argv: '-L -n -t [2001:db8::100]:80 --thresholds', code: 0,
    stdout: 'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n' +
      'TCP  [2001:db8::100]:80 rr\n' +
      `  -> ${l('[2001:db8:10::11]:80', 28)} ${l('0', 10)} ${l('0', 10)} ${l('0', 10)} ${l('0', 10)}\n` +
      `  -> ${l('[2001:db8:10::12]:80', 28)} ${l('0', 10)} ${l('0', 10)} ${l('0', 10)} ${l('0', 10)}\n`,
  },
];

/** The rule lines as a sorted list: -S's own order is checked by the '=' rows. */
const lines = (text: string): string[] => text.split('\n').filter(Boolean).sort();

describe('ipvsadm differential table, IPv6 (expectations from ipvsadm 1.31)', () => {
  it.each(rows)('$argv', (row) => {
    const t = fresh();
    const r = run(t, row.argv.split(' '), row.stdin);
    expect(r.code).toBe(row.code);
    if (typeof row.stderr === 'string') expect(r.stderr).toBe(row.stderr);
    else if (row.stderr) expect(r.stderr).toMatch(row.stderr);
    else expect(r.stderr).toBe('');
    if (typeof row.stdout === 'string') expect(r.stdout).toBe(row.stdout);
    else if (row.stdout) expect(r.stdout).toMatch(row.stdout);
    const saved = execIpvsadm(t, ['-S', '-n'], undefined, 0).stdout;
    if (row.rules === undefined) expect(saved).toBe(BASE);
    else if (row.rules.startsWith('=')) expect(saved).toBe(row.rules.slice(1));
    else expect(lines(saved)).toEqual(lines(BASE + row.rules + '\n'));
  });

  it('never cuts an IPv6 name (ipvsadm cuts IPv4 names at 33 and 28 columns only)', () => {
    const long = '2001:db8:10:0:1234:5678:9abc:def0';
    const t = fresh(`-A -t [2001:db8::100]:8080 -s rr -p 300 -M 64\n-a -t [2001:db8::100]:8080 -r [${long}]:8080 -m -w 3\n`);
    expect(run(t, ['-L', '-n']).stdout).toBe('IP Virtual Server version 1.2.1 (size=1048576)\n' + TITLE +
      'TCP  [2001:db8::100]:8080 rr persistent 300 mask 64\n' +
      dline(`[${long}]:8080`, 'Masq', 3, 0, 0) + '\n');
    expect(`[${long}]:8080`.length).toBeGreaterThan(28);
    expect(run(t, ['-L', '-n', '--persistent-conn']).stdout.split('\n')[4]).toBe(`  -> [${long}]:8080 ${l('3', 9)} ${l('0', 11)} ${l('0', 10)} ${l('0', 10)}`);
  });

  it('lists an IPv6 fwmark service as "FWM  N IPv6"', () => {
    const t = fresh(V4 + 'mark 5 tcp 2001:db8::100 ports 443\n-A -f 5 -6 -s rr\n-a -f 5 -6 -r [2001:db8:10::11]:0 -m\n');
    expect(run(t, ['-L', '-n']).stdout).toBe('IP Virtual Server version 1.2.1 (size=1048576)\n' + TITLE +
      'TCP  10.0.0.100:80 rr\n' +
      dline('192.168.10.11:80', 'Masq', 1, 0, 0) + '\n' +
      'FWM  5 IPv6 rr\n' +
      dline('[2001:db8:10::11]:0', 'Masq', 1, 0, 0) + '\n');
    expect(run(t, ['-L', '-n', '-f', '5', '-6']).stdout).toBe(TITLE + 'FWM  5 IPv6 rr\n' + dline('[2001:db8:10::11]:0', 'Masq', 1, 0, 0) + '\n');
    // the IPv4 mark 5 has no service
    expect(run(t, ['-L', '-n', '-f', '5'])).toEqual({ code: 1, stdout: '', stderr: 'No such service\n' });
  });

  it('round-trips -S through -R into an empty table, byte for byte', () => {
    const t = fresh(BASE + '-A -t [2001:db8::100]:443 -s sh -b sh-fallback -p 600 -M 48\n-a -t [2001:db8::100]:443 -r [2001:db8:10::11]:443 -g -w 0\n' +
      'mark 9 udp 2001:db8::100 ports 53\n-A -f 9 -6 -s wlc\n-a -f 9 -6 -r [2001:db8:10::12]:0 -m -w 4\n-A -u [2001:db8::100]:53 -s rr -o\n-a -u [2001:db8::100]:53 -r [2001:db8:10::12]:5353 -m\n');
    const saved = run(t, ['-S', '-n']).stdout;
    const empty = fresh('');
    expect(run(empty, ['-R'], saved)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(run(empty, ['-S', '-n']).stdout).toBe(saved);
    expect(saved).toContain('-A -t [2001:db8::100]:443 -s sh -p 600 -M 48 -b sh-fallback\n');
    expect(saved).toContain('-A -f 9 -6 -s wlc\n-a -f 9 -6 -r [2001:db8:10::12]:0 -m -w 4\n');
  });

  it('lists IPv6 connections in -Lnc as ipvsadm prints /proc/net/ip_vs_conn', () => {
    const t = fresh();
    const syn = tcp6Frame({ smac: ROUTER_MAC, dmac: OUT_MAC, src: '2001:db8:ff::7', dst: '2001:db8::100', sport: 40000, dport: 80, flags: 'S', seq: 1 });
    t.director.process(0, syn, 0, syn.length, 0);
    expect(run(t, ['-L', '-n', '-c']).stdout).toBe('IPVS connection entries\npro expire state       source             virtual            destination\n' +
      `TCP 01:00  SYN_RECV    ${l('[2001:db8:ff::7]:40000', 18)} ${l('[2001:db8::100]:80', 18)} [2001:db8:10::12]:80\n`);
    expect(run(t, ['-L', '-n', '--stats', '-t', '[2001:db8::100]:80']).stdout.split('\n')[2]).toBe(l('TCP  [2001:db8::100]:80', 33) + r(1, 9) + r(1, 9) + r(0, 9) + r(60, 9) + r(0, 9));
  });
});
