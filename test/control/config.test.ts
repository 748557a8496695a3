import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatConfigError, parseConfig, tokenizeLine, type ConfigError } from '../../src/control/config.js';
import { DEFAULT_OPTIONS, type DirectorConfig } from '../../src/model/config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN } from '../../src/model/dest.js';

const ip = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
const noFlags = { shFallback: false, shPort: false, mhFallback: false, mhPort: false };
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/config/${name}`, import.meta.url), 'utf8');

function parseOk(text: string, file = 'test.conf'): DirectorConfig {
  const r = parseConfig(text, file);
  if ('errors' in r) throw new Error(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

function parseErrors(text: string, file = 'bad.conf'): ConfigError[] {
  const r = parseConfig(text, file);
  if ('config' in r) throw new Error('expected errors, got a config');
  return r.errors;
}

describe('parseConfig: complete examples', () => {
  it('NAT: two TAP ports, an HTTP and a UDP service, checks', () => {
    expect(parseOk(fixture('nat.conf'), 'nat.conf')).toStrictEqual({
      ports: [
        { name: 'outside', kind: 'tap', device: 'tv-out', mac: 0x020000000001, addrs: [{ addr: ip('10.0.0.1'), prefix: 24 }], mtu: 1500, line: 3 },
        { name: 'inside', kind: 'tap', device: 'tv-in', mac: 0x020000000002, addrs: [{ addr: ip('192.168.10.1'), prefix: 24 }], mtu: 1500, netns: 'lvs-dir', line: 4 },
      ],
      vips: [{ addr: ip('10.0.0.100'), port: 'outside', line: 5 }],
      routes: [{ dst: 0, prefix: 0, via: ip('10.0.0.254'), line: 6 }],
      marks: [],
      services: [
        {
          proto: 6, addr: ip('10.0.0.100'), port: 80, fwmark: 0, scheduler: 'rr', flags: noFlags,
          persistent: 0, netmask: 0xffffffff, onePacket: false, line: 13,
          dests: [
            { addr: ip('192.168.10.11'), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 },
            { addr: ip('192.168.10.12'), port: 8080, weight: 2, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 },
          ],
        },
        {
          proto: 17, addr: ip('10.0.0.100'), port: 53, fwmark: 0, scheduler: 'wlc', flags: noFlags,
          persistent: 0, netmask: 0xffffffff, onePacket: true, line: 16,
          dests: [{ addr: ip('192.168.10.11'), port: 53, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 }],
        },
      ],
      timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
      options: { ...DEFAULT_OPTIONS, expireNodestConn: true, unmatchedFromRealServer: 'drop' },
      healthChecks: [
        {
          service: '-t 10.0.0.100:80', dest: { addr: ip('192.168.10.11'), port: 8080 }, kind: 'http',
          intervalMs: 2000, timeoutMs: 1000, retries: 2, inhibitOnFailure: false, path: '/health', expectStatus: 200, line: 19,
        },
        {
          service: '-t 10.0.0.100:80', dest: { addr: ip('192.168.10.12'), port: 8080 }, kind: 'tcp',
          intervalMs: 2000, timeoutMs: 1000, retries: 1, inhibitOnFailure: true, line: 20,
        },
      ],
      neighbours: [],
    });
  });

  it('DR: one LAN, a persistent fwmark service, ipvsadm-prefixed lines, --set', () => {
    expect(parseOk(fixture('dr.conf'), 'dr.conf')).toStrictEqual({
      ports: [{ name: 'lan', kind: 'pcap', device: 'eth0', mac: 0x020000000101, addrs: [{ addr: ip('10.1.0.2'), prefix: 24 }], mtu: 1500, line: 3 }],
      vips: [{ addr: ip('10.1.0.100'), port: 'lan', line: 4 }],
      routes: [{ dst: 0, prefix: 0, via: ip('10.1.0.1'), line: 5 }],
      marks: [{ proto: 6, addr: ip('10.1.0.100'), ports: [80, 443], mark: 1 }],
      services: [
        {
          proto: 0, addr: 0, port: 0, fwmark: 1, scheduler: 'wlc', flags: noFlags,
          persistent: 600, netmask: 0xffffff00, onePacket: false, line: 9,
          dests: [
            { addr: ip('10.1.0.11'), port: 0, weight: 3, fwd: FWD_DR, uThreshold: 0, lThreshold: 0 },
            { addr: ip('10.1.0.12'), port: 0, weight: 1, fwd: FWD_DR, uThreshold: 200, lThreshold: 100 },
          ],
        },
      ],
      // --set 0 60 0: a zero leaves that timeout as it was
      timeouts: { tcp: 900, tcpfin: 60, udp: 300 },
      options: DEFAULT_OPTIONS,
      healthChecks: [
        { service: '-f 1', dest: { addr: ip('10.1.0.11'), port: 0 }, kind: 'icmp', intervalMs: 1000, timeoutMs: 500, retries: 1, inhibitOnFailure: false, line: 14 },
        {
          service: '-f 1', dest: { addr: ip('10.1.0.12'), port: 0 }, kind: 'misc', intervalMs: 10000, timeoutMs: 3000, retries: 1,
          inhibitOnFailure: false, command: '/usr/local/bin/probe --host 10.1.0.12', line: 15,
        },
      ],
      neighbours: [],
    });
  });

  it('TUN: routed real servers, sh flags, a port-0 persistent service, options', () => {
    expect(parseOk(fixture('tun.conf'), 'tun.conf')).toStrictEqual({
      ports: [{ name: 'uplink', kind: 'memory', device: 'uplink', mac: 0x020000000201, addrs: [{ addr: ip('172.16.0.2'), prefix: 24 }], mtu: 1480, line: 2 }],
      vips: [{ addr: ip('172.16.0.100'), port: 'uplink', line: 3 }],
      routes: [
        { dst: ip('10.20.0.0'), prefix: 16, via: ip('172.16.0.1'), port: 'uplink', line: 4 },
        { dst: 0, prefix: 0, via: ip('172.16.0.254'), line: 5 },
      ],
      marks: [],
      services: [
        {
          proto: 6, addr: ip('172.16.0.100'), port: 443, fwmark: 0, scheduler: 'sh', flags: { ...noFlags, shFallback: true, shPort: true },
          persistent: 0, netmask: 0xffffffff, onePacket: false, line: 7,
          dests: [
            { addr: ip('10.20.1.5'), port: 443, weight: 1, fwd: FWD_TUN, uThreshold: 0, lThreshold: 0 },
            { addr: ip('10.20.2.5'), port: 443, weight: 5, fwd: FWD_TUN, uThreshold: 0, lThreshold: 0 },
          ],
        },
        {
          proto: 6, addr: ip('172.16.0.100'), port: 0, fwmark: 0, scheduler: 'mh', flags: noFlags,
          persistent: 360, netmask: 0xffffffff, onePacket: false, line: 10,
          dests: [{ addr: ip('10.20.1.5'), port: 0, weight: 1, fwd: FWD_TUN, uThreshold: 0, lThreshold: 0 }],
        },
      ],
      timeouts: { tcp: 900, tcpfin: 120, udp: 300 },
      options: { ...DEFAULT_OPTIONS, maxConns: 65536, expireQuiescentTemplate: true, arpRetryMs: 250, metricsListen: '127.0.0.1:9107' },
      healthChecks: [],
      neighbours: [],
    });
  });

  it('accepts a bare ipvsadm-save text with no ports (no topology to check against)', () => {
    const c = parseOk('-A -t 10.0.0.100:80 -s wrr\n-a -t 10.0.0.100:80 -r 203.0.113.9:80 -g -w 4\n');
    expect(c.services).toHaveLength(1);
    expect(c.services[0]!.dests).toStrictEqual([{ addr: ip('203.0.113.9'), port: 80, weight: 4, fwd: FWD_DR, uThreshold: 0, lThreshold: 0 }]);
  });
});

describe('parseConfig: errors, every one with its line', () => {
  const topology = [
    'port a kind=tap mac=02:00:00:00:00:01 addr=10.0.0.1/24', // 1
    'port b kind=tap mac=02:00:00:00:00:02 addr=192.168.10.1/24', // 2
    'vip 10.0.0.100 on a', // 3
  ];
  // each case: the lines after the topology, the error's line, and what it must say
  const cases: [string, string[], number, RegExp][] = [
    ['unknown directive', ['frobnicate 1'], 4, /^unknown directive 'frobnicate' \(known: port, vip, /],
    ['unknown scheduler', ['-A -t 10.0.0.100:80 -s rrr'], 4, /^unknown scheduler 'rrr' \(known: .*\brr\b.*\bwlc\b/],
    ['dest before its service', ['-a -t 10.0.0.100:80 -r 192.168.10.11 -m', '-A -t 10.0.0.100:80 -s rr'], 4, /^Service not defined: -t 10\.0\.0\.100:80 \(a real server line must come after/],
    ['duplicate service', ['-A -t 10.0.0.100:80 -s rr', '-A -t 10.0.0.100:80 -s wlc'], 5, /^Service already exists: -t 10\.0\.0\.100:80 \(line 4\)/],
    ['duplicate dest', ['-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m', '-a -t 10.0.0.100:80 -r 192.168.10.11 -m -w 3'], 6, /^Destination already exists: 192\.168\.10\.11:80 .*\(line 5\)/],
    ['port 0 without persistence', ['-A -t 10.0.0.100:0 -s rr'], 4, /^Zero port specified for non-persistent service$/],
    ['weight out of range', ['-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 192.168.10.11 -m -w 65536'], 5, /^illegal weight specified/],
    ['thresholds inverted', ['-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 192.168.10.11 -m -x 10 -y 20'], 5, /lower threshold 20 \(-y\) is higher than upper threshold 10/],
    ['bad netmask', ['-A -t 10.0.0.100:80 -p 60 -M 255.0.255.256'], 4, /^illegal virtual server persistent mask specified/],
    ['host names refused', ['-A -t web.example:80'], 4, /'web\.example' is a host name; tapvs takes numeric addresses only/],
    ['vip on unknown port', ['vip 10.0.0.101 on c'], 4, /^vip 10\.0\.0\.101 is on unknown port 'c' \(ports: a, b\)/],
    ['route gateway not connected', ['route default via 172.16.0.1'], 4, /^route default: gateway 172\.16\.0\.1 is not on a network connected to any port/],
    ['route gateway not on the named port', ['route 10.9.0.0/16 via 10.0.0.254 dev b'], 4, /gateway 10\.0\.0\.254 is not on a network connected to port 'b'/],
    ['route with host bits', ['route 10.9.1.0/16 via 10.0.0.254'], 4, /has host bits set \(network is 10\.9\.0\.0\/16\)/],
    ['DR server not on a connected LAN', ['route default via 10.0.0.254', '-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 172.20.0.5 -g'], 6, /real server 172\.20\.0\.5 uses direct routing \(-g\) but is on no network directly connected .*DR only rewrites the destination MAC/],
    ['TUN server with no route', ['-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 172.20.0.5 -i'], 5, /^no route to real server 172\.20\.0\.5 \(tunnelling \(-i\)\)/],
    ['DR port remap', ['-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 192.168.10.11:8080 -g'], 5, /direct routing \(-g\) cannot change ports \(ipvsadm would silently use 80\)/],
    ['service VIP not answered', ['-A -t 10.0.0.200:80'], 4, /^VIP 10\.0\.0\.200 is not answered on any port: add 'vip 10\.0\.0\.200 on PORT'/],
    ['unknown option', ['option max_conn 5'], 4, /^unknown option 'max_conn' \(known: max_conns, /],
    ['bad option value', ['option unmatched_from_rs maybe'], 4, /must be drop or route/],
    ['option set twice', ['option max_conns 5', 'option max_conns 6'], 5, /option max_conns is already set \(line 4\)/],
    ['-E does not belong', ['-E -t 10.0.0.100:80 -s rr'], 4, /'edit-service' does not belong in a config file/],
    ['mark with no service', ['mark 5 tcp 10.0.0.100 ports 80'], 4, /^mark 5 has no fwmark service/],
    ['fwmark service with no mark', ['-A -f 9 -s rr'], 4, /fwmark service 9 would receive nothing/],
    ['mark clash', ['mark 1 tcp 10.0.0.100 ports 80,443', 'mark 2 tcp 10.0.0.100 ports 8000,443-450', '-A -f 1'], 5, /port 443 is already marked 1 \(line 4\)/],
    ['check of an unknown server', ['-A -t 10.0.0.100:80', 'check tcp -t 10.0.0.100:80 -r 192.168.10.99'], 5, /check of 192\.168\.10\.99:80, which is not a real server of -t 10\.0\.0\.100:80/],
    ['http key on a tcp check', ['-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 192.168.10.11 -m', 'check tcp -t 10.0.0.100:80 -r 192.168.10.11 path=/'], 6, /unknown key 'path' \(known: interval, timeout, retries, port\)/],
    ['bad digest', ['-A -t 10.0.0.100:80', '-a -t 10.0.0.100:80 -r 192.168.10.11 -m', 'check http -t 10.0.0.100:80 -r 192.168.10.11 digest=xyz'], 6, /not an MD5 digest/],
    ['unterminated quote', ['check misc -f 1 -r 10.0.0.5 command="oops'], 4, /^unterminated quoted string$/],
    ['duplicate port', ['port a kind=tap mac=02:00:00:00:00:03'], 4, /^port 'a' is already defined \(line 1\)/],
    ['multicast MAC', ['port c mac=03:00:00:00:00:03 addr=10.5.0.1/24'], 4, /is not a unicast address/],
    ['overlapping subnets', ['port c mac=02:00:00:00:00:03 addr=10.0.0.9/16'], 4, /overlaps 10\.0\.0\.1\/24 of port 'a' \(line 1\)/],
    ['timeout set twice', ['set timeout tcp 100', '--set 1 2 3'], 5, /^timeouts is already set \(line 4\)/],
  ];

  it.each(cases)('%s', (_name, lines, line, message) => {
    const errors = parseErrors([...topology, ...lines].join('\n'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(line);
    expect(errors[0]!.file).toBe('bad.conf');
    expect(errors[0]!.message).toMatch(message);
  });

  it('collects every error of a file, in line order, formatted file:line: message', () => {
    const text = [
      '-A -t 10.0.0.100:80 -s rrr', // 1
      'route default via 10.0.0.254', // 2: no port has 10.0.0.0/24
      '-a -t 10.0.0.9:80 -r 1.2.3.4', // 3
      'option nope 1', // 4
    ].join('\n');
    const errors = parseErrors(text, 'tapvs.conf');
    expect(errors.map((e) => e.line)).toEqual([1, 2, 3, 4]);
    expect(formatConfigError(errors[0]!)).toMatch(/^tapvs\.conf:1: unknown scheduler 'rrr' \(known: /);
    expect(formatConfigError(errors[2]!)).toBe('tapvs.conf:3: Service not defined: -t 10.0.0.9:80 (a real server line must come after its service\'s -A line)');
  });
});

describe('tokenizeLine', () => {
  it('splits on blanks, keeps quoted text whole, drops comments', () => {
    expect(tokenizeLine('check misc command="/bin/x --a \\"b\\"" # why')).toEqual(['check', 'misc', 'command=/bin/x --a "b"']);
    expect(tokenizeLine('vip 10.0.0.1 on a#not-a-comment')).toEqual(['vip', '10.0.0.1', 'on', 'a#not-a-comment']);
  });
});
