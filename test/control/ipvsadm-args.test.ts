import { describe, expect, it } from 'vitest';
import { parseIpvsadmArgs, type IpvsadmCommand } from '../../src/control/ipvsadm-args.js';
import { FWD_DR, FWD_MASQ, FWD_TUN } from '../../src/model/dest.js';

// dotted quad -> uint32, written independently of the code under test
const ip = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
const noFlags = { shFallback: false, shPort: false, mhFallback: false, mhPort: false };
const fmt0 = { numeric: false, stats: false, rate: false, thresholds: false, persistentConn: false, exact: false, nosort: false, tunInfo: false };
const tcp = (a: string, port: number) => ({ proto: 6, addr: ip(a), port, fwmark: 0 });
const args = (s: string) => s.split(' ').filter((w) => w !== '');
// IPv6 addresses written as their four 32-bit words, independently of the parser
const V6VIP = Uint32Array.of(0x20010db8, 0, 0, 0x100); // 2001:db8::100
const V6RS = Uint32Array.of(0x20010db8, 0, 0, 0x11); // 2001:db8::11
const tcp6 = (a: Uint32Array, port: number) => ({ proto: 6, addr: 0, port, fwmark: 0, af: 10, addr6: a });
const svc0 = { scheduler: 'wlc', flags: noFlags, persistent: 0, netmask: 0xffffffff, onePacket: false };

const ok: [string, IpvsadmCommand][] = [
  ['-A -t 10.0.0.100:80 -s rr', { cmd: 'add-service', key: tcp('10.0.0.100', 80), svc: { scheduler: 'rr', flags: noFlags, persistent: 0, netmask: 0xffffffff, onePacket: false } }],
  // scheduler defaults to wlc; -p without a value takes ipvsadm's default (360 in libipvs.h)
  ['-A -t 10.0.0.100:0 -p', { cmd: 'add-service', key: tcp('10.0.0.100', 0), svc: { scheduler: 'wlc', flags: noFlags, persistent: 360, netmask: 0xffffffff, onePacket: false } }],
  ['-A -f 1 -s wlc -p 300 -M 255.255.255.0', { cmd: 'add-service', key: { proto: 0, addr: 0, port: 0, fwmark: 1 }, svc: { scheduler: 'wlc', flags: noFlags, persistent: 300, netmask: 0xffffff00, onePacket: false } }],
  ['--add-service --udp-service 10.0.0.100:53 --scheduler sh --sched-flags sh-fallback,sh-port --ops',
    { cmd: 'add-service', key: { proto: 17, addr: ip('10.0.0.100'), port: 53, fwmark: 0 }, svc: { scheduler: 'sh', flags: { ...noFlags, shFallback: true, shPort: true }, persistent: 0, netmask: 0xffffffff, onePacket: true } }],
  ['-A -t 10.0.0.100:80 -s mh -b mh-port', { cmd: 'add-service', key: tcp('10.0.0.100', 80), svc: { scheduler: 'mh', flags: { ...noFlags, mhPort: true }, persistent: 0, netmask: 0xffffffff, onePacket: false } }],
  ['-E -t 10.0.0.100:80 --persistent=120', { cmd: 'edit-service', key: tcp('10.0.0.100', 80), svc: { scheduler: 'wlc', flags: noFlags, persistent: 120, netmask: 0xffffffff, onePacket: false } }],
  ['-D -t 10.0.0.100:80', { cmd: 'delete-service', key: tcp('10.0.0.100', 80) }],
  // real server port defaults to the service port; forwarding defaults to -g; weight to 1
  ['-a -t 10.0.0.100:80 -r 192.168.10.11', { cmd: 'add-server', key: tcp('10.0.0.100', 80), portForced: false, dest: { addr: ip('192.168.10.11'), port: 80, fwd: FWD_DR, weight: 1, uThreshold: 0, lThreshold: 0 } }],
  ['-a -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 0 -x 100 -y 50', { cmd: 'add-server', key: tcp('10.0.0.100', 80), portForced: false, dest: { addr: ip('192.168.10.11'), port: 8080, fwd: FWD_MASQ, weight: 0, uThreshold: 100, lThreshold: 50 } }],
  // DR/TUN cannot remap ports: ipvsadm uses the service port
  ['-a -t 10.0.0.100:80 -r 192.168.10.11:8080 --ipip --weight 65535', { cmd: 'add-server', key: tcp('10.0.0.100', 80), portForced: true, dest: { addr: ip('192.168.10.11'), port: 80, fwd: FWD_TUN, weight: 65535, uThreshold: 0, lThreshold: 0 } }],
  ['-e -t 10.0.0.100:80 -r 192.168.10.11:80 -g -w 5', { cmd: 'edit-server', key: tcp('10.0.0.100', 80), portForced: false, dest: { addr: ip('192.168.10.11'), port: 80, fwd: FWD_DR, weight: 5, uThreshold: 0, lThreshold: 0 } }],
  ['-d -t 10.0.0.100:80 -r 192.168.10.11:8080', { cmd: 'delete-server', key: tcp('10.0.0.100', 80), dest: { addr: ip('192.168.10.11'), port: 8080 } }],
  ['-C', { cmd: 'flush' }],
  ['--clear', { cmd: 'flush' }],
  ['-Ln', { cmd: 'list', what: 'services', format: { ...fmt0, numeric: true } }],
  ['-L -n --stats --exact', { cmd: 'list', what: 'services', format: { ...fmt0, numeric: true, stats: true, exact: true } }],
  ['-l --rate', { cmd: 'list', what: 'services', format: { ...fmt0, rate: true } }],
  ['-L --thresholds -t 10.0.0.100:80', { cmd: 'list', what: 'services', key: tcp('10.0.0.100', 80), format: { ...fmt0, thresholds: true } }],
  ['-L --persistent-conn --nosort', { cmd: 'list', what: 'services', format: { ...fmt0, persistentConn: true, nosort: true } }],
  ['-lnc', { cmd: 'list', what: 'connections', format: { ...fmt0, numeric: true } }],
  ['-L --connection --persistent-conn', { cmd: 'list', what: 'connections', format: { ...fmt0, persistentConn: true } }],
  ['-L --timeout', { cmd: 'list', what: 'timeout', format: fmt0 }],
  ['--set 900 120 300', { cmd: 'set', tcp: 900, tcpfin: 120, udp: 300 }],
  ['-Z', { cmd: 'zero' }],
  ['-Z -f 7', { cmd: 'zero', key: { proto: 0, addr: 0, port: 0, fwmark: 7 } }],
  ['-Sn', { cmd: 'save', format: { ...fmt0, numeric: true } }],
  ['-R', { cmd: 'restore', compat: false }],
  ['ipvsadm -A -t10.0.0.1:443 -p600', { cmd: 'add-service', key: tcp('10.0.0.1', 443), svc: { scheduler: 'wlc', flags: noFlags, persistent: 600, netmask: 0xffffffff, onePacket: false } }],
  ['', { cmd: 'list', what: 'services', format: fmt0 }],
  // IPv6: "[addr]:port" and bare addresses, as parse_service reads them
  ['-A -t [2001:db8::100]:80 -s rr', { cmd: 'add-service', key: tcp6(V6VIP, 80), svc: { ...svc0, scheduler: 'rr', prefix6: 128 } }],
  ['-A -t [2001:DB8:0::100]:80', { cmd: 'add-service', key: tcp6(V6VIP, 80), svc: { ...svc0, prefix6: 128 } }],
  ['-A -t 2001:db8::100 -p', { cmd: 'add-service', key: tcp6(V6VIP, 0), svc: { ...svc0, persistent: 360, prefix6: 128 } }],
  // -M after an IPv6 service is a prefix length (atoi), and only kept with persistence
  ['-A -t [2001:db8::100]:80 -p 60 -M 64', { cmd: 'add-service', key: tcp6(V6VIP, 80), svc: { ...svc0, persistent: 60, prefix6: 64 } }],
  ['-A -t [2001:db8::100]:80 -p 60 -M 48junk', { cmd: 'add-service', key: tcp6(V6VIP, 80), svc: { ...svc0, persistent: 60, prefix6: 48 } }],
  ['-A -t [2001:db8::100]:80 -M 64', { cmd: 'add-service', key: tcp6(V6VIP, 80), svc: { ...svc0, prefix6: 128 } }],
  // a -M read before the IPv6 address is an IPv4 mask, and parse_service then sets 128
  ['-A -p 60 -M 255.255.255.0 -t [2001:db8::100]:80', { cmd: 'add-service', key: tcp6(V6VIP, 80), svc: { ...svc0, persistent: 60, prefix6: 128 } }],
  ['-A -f 7 -6 -p 60 -M 56', { cmd: 'add-service', key: { proto: 0, addr: 0, port: 0, fwmark: 7, af: 10 }, svc: { ...svc0, persistent: 60, prefix6: 56 } }],
  ['-a -t [2001:db8::100]:80 -r [2001:db8::11]:8080 -m -w 3', { cmd: 'add-server', key: tcp6(V6VIP, 80), portForced: false, dest: { addr: 0, addr6: V6RS, port: 8080, fwd: FWD_MASQ, weight: 3, uThreshold: 0, lThreshold: 0 } }],
  ['-a -t [2001:db8::100]:80 -r 2001:db8::11 -g', { cmd: 'add-server', key: tcp6(V6VIP, 80), portForced: false, dest: { addr: 0, addr6: V6RS, port: 80, fwd: FWD_DR, weight: 1, uThreshold: 0, lThreshold: 0 } }],
  ['-d -f 7 -6 -r [2001:db8::11]:0', { cmd: 'delete-server', key: { proto: 0, addr: 0, port: 0, fwmark: 7, af: 10 }, dest: { addr: 0, addr6: V6RS, port: 0 } }],
  // ipvsadm looks for the port inside the brackets only: "[10.0.0.1]:80" is the address without a port
  ['-A -t [10.0.0.1]:80 -p', { cmd: 'add-service', key: tcp('10.0.0.1', 0), svc: { ...svc0, persistent: 360 } }],
  // a tunnel may cross families as far as ipvsadm is concerned (the rules refuse it in tapvs)
  ['-a -t 10.0.0.1:80 -r [2001:db8::11]:80 -i', { cmd: 'add-server', key: tcp('10.0.0.1', 80), portForced: false, dest: { addr: 0, addr6: V6RS, port: 80, fwd: FWD_TUN, weight: 1, uThreshold: 0, lThreshold: 0 } }],
];

const bad: [string, string | RegExp][] = [
  ['-A -t 10.0.0.100:80 -s rr -w 2', "Illegal 'weight' option with the 'add-service' command"],
  ['-a -t 10.0.0.100:80', "You need to supply the 'real-server' option for the 'add-server' command"],
  ['-A -s rr', "You need to supply the 'service-address' option for the 'add-service' command"],
  ['-L -c --timeout', "The option 'timeout' conflicts with the 'connection' option in the 'list' command"],
  ['-L -c --stats', 'options conflicts in the list command'],
  ['-A -D -t 10.0.0.100:80', "invalid option `-D'"],
  ['-a -t 10.0.0.1:80 -r 10.0.0.2 -m -g', "multiple 'forwarding-method' options specified"],
  ['-A -t 10.0.0.100:0 -s rr', 'Zero port specified for non-persistent service'],
  ['-A -t 10.0.0.100:80 -o', 'One-Packet Scheduling is only for UDP virtual services'],
  ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w 65536', /^illegal weight specified/],
  ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w -1', /requires an argument|illegal weight/],
  ['-a -t 10.0.0.1:80 -r 10.0.0.2 -x abc', /^illegal u_threshold specified/],
  ['-A -t www.example.com:80', /^illegal virtual server address\[:port\] specified \('www\.example\.com' is a host name; tapvs takes numeric addresses only\)$/],
  ['-A -t 10.0.0.1:http', /'http' is a service name; tapvs takes numeric ports only/],
  ['-a -t 10.0.0.1:80 -r 10.0.0.300', /^illegal real server address\[:port\] specified/],
  ['-A -f 0', "invalid fwmark value `0' specified"],
  ['-A -t 10.0.0.1:80 -p 0', "invalid timeout value `0' specified"],
  ['-A -t 10.0.0.1:80 -p -M 255.0.255.x', 'illegal virtual server persistent mask specified'],
  ['-A -t 10.0.0.1:80 -s rr -b sh-port', "incompatible scheduler flag `sh-port'"],
  ['-A -t 10.0.0.1:80 -s sh -b sh-bogus', "invalid scheduler flag `sh-bogus'"],
  ['--set 900 120', '--set option requires 3 timeout values'],
  ['-L extra', 'unexpected argument extra'],
  ['-A -t 10.0.0.1:80 --frobnicate', '--frobnicate: unknown option'],
  ['-A -t [2001:db8::100]', 'illegal virtual server address[:port] specified'],
  ['-A -t [2001:db8::100]80', 'illegal virtual server address[:port] specified'],
  ['-A -t [2001:db8::100:80', 'illegal virtual server address[:port] specified'],
  ['-A -t [2001:db8::100]:65536', 'illegal virtual server address[:port] specified'],
  ['-A -t [2001:db8::100]:http', /'http' is a service name/],
  ['-A -t [2001:db8:::1]:80', 'illegal virtual server address[:port] specified'],
  ['-A -t [fe80::1%eth0]:80', 'illegal virtual server address[:port] specified'],
  ['-A -t [2001:db8::100]:80 -p 60 -M 0', 'illegal ipv6 netmask specified'],
  ['-A -t [2001:db8::100]:80 -p 60 -M 129', 'illegal ipv6 netmask specified'],
  ['-A -t [2001:db8::100]:80 -p 60 -M ffff::', 'illegal ipv6 netmask specified'],
  ['-A -t [2001:db8::100]:80 -6', '-6 used before -f'],
  ['-A -6 -f 1', '-6 used before -f'],
  ['-a -t [2001:db8::100]:80 -r 10.0.0.2 -m', 'Different address family is allowed only for tunneling servers'],
  ['-a -t 10.0.0.1:80 -r [2001:db8::11]:80 -g', 'Different address family is allowed only for tunneling servers'],
  ['--start-daemon primary', 'illegal start-daemon parameter specified'],
  ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue', "You need to supply the 'tun-port' option for the 'gue' tunnel type"],
  ['-n', 'the command line does not start with a command'],
];

describe('parseIpvsadmArgs', () => {
  it.each(ok)('%s', (line, expected) => {
    const r = parseIpvsadmArgs(args(line));
    expect(r).toStrictEqual({ ok: true, command: expected });
  });

  it.each(bad)('refuses %s', (line, message) => {
    const r = parseIpvsadmArgs(args(line));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    if (typeof message === 'string') expect(r.error).toBe(message);
    else expect(r.error).toMatch(message);
  });
});
