// IPv6 in the config file: port addresses (several per port, both families
// together), VIPs, routes with global and link-local gateways, static
// neighbours, mark lines, checks and sorry servers of IPv6 services, and
// ipvsadm-save lines with [addr]:port. Each parsed config also starts a
// director that forwards what it says.
import { describe, expect, it } from 'vitest';
import { formatConfigError, parseConfig, type ConfigError } from '../../src/control/config.js';
import { Director } from '../../src/director/director.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { FWD_DR, FWD_MASQ } from '../../src/model/dest.js';
import { formatFrame } from '../../src/wire/printer.js';
import { tcp6Frame } from '../director/topo6.js';

// addresses as their four words, written independently of the parser
const w = (...x: number[]) => Uint32Array.of(...x);
const ip = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);

function parseOk(text: string): DirectorConfig {
  const r = parseConfig(text, 't.conf');
  if ('errors' in r) throw new Error(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}
function errors(text: string): ConfigError[] {
  const r = parseConfig(text, 'bad.conf');
  if ('config' in r) throw new Error('expected errors, got a config');
  return r.errors;
}

const NAT6 = `port outside kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24 addr=2001:db8::1/64 addr=2001:db8:1::1/64
port inside kind=memory mac=02:00:00:00:00:02 addr=192.168.10.1/24 addr=2001:db8:10::1/64
vip 2001:db8::100 on outside
vip 10.0.0.100 on outside
route default via 2001:db8::fe
route 2001:db8:ff00::/40 via fe80::1 on outside
route default via 10.0.0.254
neigh 2001:db8::fe 02:00:00:00:00:fe
neigh fe80::1 02:00:00:00:00:fd
neigh 2001:db8:10::11 02:00:00:00:10:11
-A -t [2001:db8::100]:80 -s rr -p 300 -M 64
-a -t [2001:db8::100]:80 -r [2001:db8:10::11]:8080 -m -w 2
-a -t [2001:db8::100]:80 -r [2001:db8:10::12]:8080 -m
sorry -t [2001:db8::100]:80 -r [2001:db8:10::99]:80
check http -t [2001:db8::100]:80 -r [2001:db8:10::11]:8080 path=/health interval=2s timeout=1s
check icmp -t [2001:db8::100]:80 -r [2001:db8:10::12]:8080
mark 6 udp 2001:db8::100 ports 53,5353
-A -f 6 -6 -s sh
-a -f 6 -6 -r [2001:db8:10::11]:0 -m
check tcp -f 6 -6 -r [2001:db8:10::11]:0 port=53
-A -t 10.0.0.100:80 -s wlc
-a -t 10.0.0.100:80 -r 192.168.10.11 -m
`;

describe('parseConfig: IPv6', () => {
  it('reads a dual-stack NAT config into the director\'s types', () => {
    const c = parseOk(NAT6);
    expect(c.ports[0]!.addrs).toStrictEqual([{ addr: ip('10.0.0.1'), prefix: 24 }]);
    expect(c.ports[0]!.addrs6).toStrictEqual([{ addr: w(0x20010db8, 0, 0, 1), prefix: 64 }, { addr: w(0x20010db8, 0x10000, 0, 1), prefix: 64 }]);
    expect(c.ports[1]!.addrs6).toStrictEqual([{ addr: w(0x20010db8, 0x100000, 0, 1), prefix: 64 }]);
    expect(c.vips).toStrictEqual([
      { addr: 0, addr6: w(0x20010db8, 0, 0, 0x100), port: 'outside', line: 3 },
      { addr: ip('10.0.0.100'), port: 'outside', line: 4 },
    ]);
    expect(c.routes).toStrictEqual([
      { dst: 0, prefix: 0, via: 0, dst6: w(0, 0, 0, 0), via6: w(0x20010db8, 0, 0, 0xfe), line: 5 },
      { dst: 0, prefix: 40, via: 0, dst6: w(0x20010db8, 0xff000000, 0, 0), via6: w(0xfe800000, 0, 0, 1), port: 'outside', line: 6 },
      { dst: 0, prefix: 0, via: ip('10.0.0.254'), line: 7 },
    ]);
    expect(c.neighbours).toStrictEqual([
      { addr: 0, addr6: w(0x20010db8, 0, 0, 0xfe), mac: 0x0200000000fe, line: 8 },
      { addr: 0, addr6: w(0xfe800000, 0, 0, 1), mac: 0x0200000000fd, line: 9 },
      { addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x11), mac: 0x020000001011, line: 10 },
    ]);
    const [http, fwm, v4] = c.services;
    expect(http).toMatchObject({ proto: 6, af: 10, addr: 0, addr6: w(0x20010db8, 0, 0, 0x100), port: 80, persistent: 300, prefix6: 64, line: 11 });
    expect(http!.dests).toStrictEqual([
      { addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x11), port: 8080, weight: 2, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 },
      { addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x12), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 },
    ]);
    // the sorry server takes the real servers' method
    expect(http!.sorry).toStrictEqual({ addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x99), port: 80, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
    expect(fwm).toMatchObject({ proto: 0, fwmark: 6, af: 10, prefix6: 128 });
    expect(v4).toMatchObject({ proto: 6, addr: ip('10.0.0.100'), port: 80 });
    expect(v4!.af).toBeUndefined();
    expect(c.marks).toStrictEqual([{ proto: 17, addr: 0, addr6: w(0x20010db8, 0, 0, 0x100), ports: [53, 5353], mark: 6 }]);
    expect(c.healthChecks.map((h) => [h.service, h.kind, h.dest])).toStrictEqual([
      ['-t [2001:db8::100]:80', 'http', { addr: 0, port: 8080, addr6: w(0x20010db8, 0x100000, 0, 0x11) }],
      ['-t [2001:db8::100]:80', 'icmp', { addr: 0, port: 8080, addr6: w(0x20010db8, 0x100000, 0, 0x12) }],
      ['-f 6 -6', 'tcp', { addr: 0, port: 0, addr6: w(0x20010db8, 0x100000, 0, 0x11) }],
    ]);
  });

  it('starts a director that forwards an IPv6 SYN by what the file says (route, NAT port, neighbour)', () => {
    const c = parseOk(NAT6);
    const sent: { port: number; frame: Uint8Array }[] = [];
    const d = new Director(c, { send: (port, buf, off, len) => { sent.push({ port, frame: buf.slice(off, off + len) }); } });
    const syn = tcp6Frame({ smac: '02:00:00:00:00:fe', dmac: '02:00:00:00:00:01', src: '2001:db8:ff::7', dst: '2001:db8::100', sport: 40000, dport: 80, flags: 'S' });
    d.process(0, syn, 0, syn.length, 0);
    // rr starts at the newest real server, [2001:db8:10::12], which has no neighbour line: solicited on the inside port
    expect(sent.map((x) => [x.port, formatFrame(x.frame)])).toStrictEqual([[1, [
      'eth 02:00:00:00:00:02 > 33:33:ff:00:00:12 IPv6 len 86',
      'ip6 fe80::ff:fe00:2 > ff02::1:ff00:12 hlim 255 ICMPv6 len 32',
      'icmp6 neighbor solicitation who-has 2001:db8:10::12 sll 02:00:00:00:00:02 len 24 cksum ok',
    ]]]);
    // another /64 (persistence groups clients by -M 64) goes to [2001:db8:10::11]:8080, whose MAC the neigh line gives
    sent.length = 0;
    const syn2 = tcp6Frame({ smac: '02:00:00:00:00:fe', dmac: '02:00:00:00:00:01', src: '2001:db8:fe::9', dst: '2001:db8::100', sport: 40001, dport: 80, flags: 'S' });
    d.process(0, syn2, 0, syn2.length, 1);
    expect(sent).toHaveLength(1);
    const lines = formatFrame(sent[0]!.frame);
    expect(lines[0]).toBe('eth 02:00:00:00:00:02 > 02:00:00:00:10:11 IPv6 len 74');
    expect(lines[1]).toMatch(/^ip6 2001:db8:fe::9 > 2001:db8:10::11 hlim \d+ TCP/);
    expect(lines[2]).toMatch(/^tcp 40001 > 8080 \[S\].*cksum ok/);
  });

  it('answers neighbour solicitations for an IPv6 VIP from its vip line', () => {
    const c = parseOk(NAT6);
    const d = new Director(c, { send: () => {} });
    expect(d.host6).toBeDefined();
    expect(d.services.get6(6, w(0x20010db8, 0, 0, 0x100), 80)).toBeDefined();
    expect(d.services.getByMark(6, 10)).toBeDefined();
    expect(d.services.getByMark(6, 2)).toBeUndefined();
  });

  it('reads a DR service of IPv6 real servers on a connected network', () => {
    const c = parseOk(`port lan kind=memory mac=02:00:00:00:01:01 addr=2001:db8:1::2/64
vip 2001:db8:1::100 on lan
route default via 2001:db8:1::1
-A -t [2001:db8:1::100]:80 -s wlc
-a -t [2001:db8:1::100]:80 -r [2001:db8:1::11]:80 -g
`);
    expect(c.ports[0]!.addrs).toStrictEqual([]);
    expect(c.services[0]!.dests[0]).toMatchObject({ fwd: FWD_DR, port: 80 });
  });
});

describe('parseConfig: IPv6 errors, each with its line', () => {
  const cases: [string, string, number, RegExp][] = [
    ['a link-local port address', 'port a kind=memory mac=02:00:00:00:00:01 addr=fe80::1/64\n', 1, /illegal interface address 'fe80::1\/64': fe80::1 is link-local/],
    ['a /0 port address', 'port a kind=memory mac=02:00:00:00:00:01 addr=2001:db8::1/0\n', 1, /PREFIX 1\.\.128/],
    ['a prefix over 128', 'port a kind=memory mac=02:00:00:00:00:01 addr=2001:db8::1/129\n', 1, /illegal interface address '2001:db8::1\/129'/],
    ['overlapping IPv6 subnets on two ports',
      'port a kind=memory mac=02:00:00:00:00:01 addr=2001:db8::1/48\nport b kind=memory mac=02:00:00:00:00:02 addr=2001:db8:0:5::1/64\n', 2,
      /subnet 2001:db8:0:5::1\/64 overlaps 2001:db8::1\/48 of port 'a' \(line 1\)/],
    ['an IPv6 port below 1280 bytes', 'port a kind=memory mac=02:00:00:00:00:01 addr=2001:db8::1/64 mtu=1200\n', 1, /IPv6 needs links of at least 1280 bytes/],
    ['a multicast VIP', 'vip ff02::1 on a\n', 1, /illegal VIP: ff02::1 is a multicast address/],
    ['a VIP twice (written differently)', 'vip 2001:db8::100 on a\nvip 2001:DB8:0::100 on a\n', 2, /VIP 2001:db8::100 is already declared \(line 1\)/],
    ['a link-local gateway without its port', 'route default via fe80::1\n', 1, /gateway fe80::1 is link-local, so the route must name its port \('on PORT'\)/],
    ['host bits in an IPv6 route', 'route 2001:db8:1::1/48 via 2001:db8::fe\n', 1, /has host bits set \(network is 2001:db8:1::\/48\)/],
    ['an IPv4 gateway for an IPv6 route', 'route 2001:db8:1::/48 via 10.0.0.1\n', 1, /gateway 10\.0\.0\.1 is IPv4, but the route is IPv6/],
    ['an IPv6 route twice', 'route default via 2001:db8::fe\nroute ::/0 via 2001:db8::fd\n', 2, /a route to ::\/0 is already defined \(line 1\)/],
    ['a neighbour twice', 'neigh 2001:db8::5 02:00:00:00:00:05\nneigh 2001:db8:0::5 02:00:00:00:00:06\n', 2, /neighbour 2001:db8::5 is already declared \(line 1\)/],
    ['a mark clash on an IPv6 address', 'mark 1 tcp 2001:db8::100 ports 80\nmark 2 tcp 2001:db8::100 ports 80\n', 2, /port 80 is already marked 1 \(line 1\)/],
    ['a link-local real server', '-A -t [2001:db8::100]:80\n-a -t [2001:db8::100]:80 -r [fe80::5]:80 -m\n', 2, /illegal real server address: fe80::5 is link-local/],
    ['an IPv4 real server of an IPv6 service', '-A -t [2001:db8::100]:80\n-a -t [2001:db8::100]:80 -r 10.0.0.5 -m\n', 2, /Different address family is allowed only for tunneling servers/],
    ['an IPv4 sorry server of an IPv6 service', '-A -t [2001:db8::100]:80\n-a -t [2001:db8::100]:80 -r [2001:db8::5]:80 -i\nsorry -t [2001:db8::100]:80 -r 10.0.0.9 -i\n', 3,
      /sorry server 10\.0\.0\.9 is IPv4 but -t \[2001:db8::100\]:80 is IPv6/],
    ['a check of an IPv6 server that is not one of the service', '-A -t [2001:db8::100]:80\n-a -t [2001:db8::100]:80 -r [2001:db8::5]:80 -i\ncheck tcp -t [2001:db8::100]:80 -r [2001:db8::6]:80\n', 3,
      /check of \[2001:db8::6\]:80, which is not a real server of -t \[2001:db8::100\]:80/],
    ['the same IPv6 real server twice', '-A -t [2001:db8::100]:80\n-a -t [2001:db8::100]:80 -r [2001:db8::5]:80 -i\n-a -t [2001:db8::100]:80 -r 2001:db8:0::5 -i\n', 3,
      /Destination already exists: \[2001:db8::5\]:80 in -t \[2001:db8::100\]:80 \(line 2\)/],
  ];
  it.each(cases)('%s', (_what, text, line, message) => {
    const e = errors(text);
    const hit = e.find((x) => message.test(x.message));
    expect(hit, e.map(formatConfigError).join('\n')).toBeDefined();
    expect(hit!.line).toBe(line);
  });

  it('checks IPv6 reachability with the whole file: a DR real server off every connected IPv6 network', () => {
    const e = errors(`port lan kind=memory mac=02:00:00:00:01:01 addr=10.0.1.2/24 addr=2001:db8:1::2/64
vip 2001:db8:1::100 on lan
-A -t [2001:db8:1::100]:80
-a -t [2001:db8:1::100]:80 -r [2001:db8:2::11]:80 -g
`);
    expect(e.map((x) => [x.line, x.message])).toStrictEqual([[4,
      'real server 2001:db8:2::11 uses direct routing (-g) but is on no IPv6 network directly connected to the director (ports: lan 2001:db8:1::2/64): ' +
      'DR only rewrites the destination MAC, so the real server must share a LAN with a port']]);
  });

  it('wants a vip line for an IPv6 service address', () => {
    const e = errors(`port lan kind=memory mac=02:00:00:00:01:01 addr=2001:db8:1::2/64
-A -t [2001:db8:1::100]:80
`);
    expect(e.map((x) => [x.line, x.message])).toStrictEqual([[2, "VIP 2001:db8:1::100 is not answered on any port: add 'vip 2001:db8:1::100 on PORT'"]]);
  });
});
