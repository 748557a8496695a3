// IPv6 in keepalived.conf: virtual servers, real and sorry servers, fwmark
// services with ip_family inet6, group ranges in IPv6 and fwmark ... inet6,
// persistence_granularity as a prefix length, connect_ip / bindto in IPv6;
// and the family mismatches keepalived reports. Each file that should load
// is also checked with Debian's keepalived --config-test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeServices, loadKeepalived } from '../../../src/control/keepalived/index.js';
import { FWD_DR, FWD_MASQ } from '../../../src/model/dest.js';

const FIX = join(__dirname, '../../../fixtures/keepalived-conf');
// addresses as their four words, written independently of the parser
const w = (...x: number[]): Uint32Array => Uint32Array.of(...x);
const dir = mkdtempSync(join(tmpdir(), 'tapvs-ka6-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const p = join(dir, `k${n++}.conf`);
  writeFileSync(p, text);
  return p;
}
function keepalivedTest(path: string): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('keepalived', ['--config-test', '-f', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const x = e as { status: number; stderr: string; stdout: string };
    return { code: x.status, out: `${x.stdout}${x.stderr}` };
  }
}
function errorsOf(text: string): string[] {
  const r = loadKeepalived(file(text));
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('keepalived.conf: IPv6 (fixtures/keepalived-conf/ipv6.conf)', () => {
  const path = join(FIX, 'ipv6.conf');
  it('passes Debian keepalived --config-test', () => {
    expect(keepalivedTest(path)).toEqual({ code: 0, out: '' });
  });

  it('becomes IPv6 services, real servers, sorry server and checks as the tapvs config has them', () => {
    const r = loadKeepalived(path);
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    const [web, fwm, g200, g201, g202, g7, v4] = r.config.services;
    expect(r.config.services).toHaveLength(7);
    expect(web).toMatchObject({ proto: 6, af: 10, addr: 0, addr6: w(0x20010db8, 0, 0, 0x100), port: 80, scheduler: 'rr', persistent: 300, prefix6: 64 });
    expect(web!.dests).toStrictEqual([
      { addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x11), port: 8080, weight: 2, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 },
      { addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x12), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 },
    ]);
    expect(web!.sorry).toStrictEqual({ addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x99), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
    // fwmark with ip_family inet6: an IPv6 fwmark service (no VIP), DR real server port 0
    expect(fwm).toMatchObject({ proto: 0, fwmark: 6, af: 10, prefix6: 128, scheduler: 'sh' });
    expect(fwm!.addr6).toBeUndefined();
    expect(fwm!.dests).toStrictEqual([{ addr: 0, addr6: w(0x20010db8, 0x10000, 0, 0x21), port: 0, weight: 1, fwd: FWD_DR, uThreshold: 0, lThreshold: 0 }]);
    // 2001:db8::200-202: the last 16-bit group as hex, three services; fwmark 7 inet6
    expect([g200, g201, g202].map((s) => [s!.af, s!.addr6, s!.port])).toStrictEqual([
      [10, w(0x20010db8, 0, 0, 0x200), 443], [10, w(0x20010db8, 0, 0, 0x201), 443], [10, w(0x20010db8, 0, 0, 0x202), 443],
    ]);
    expect(g7).toMatchObject({ fwmark: 7, af: 10 });
    expect(v4).toMatchObject({ proto: 6, addr: (10 << 24 | 100) >>> 0, port: 80 });
    expect(v4!.af).toBeUndefined();
    const hc = r.config.healthChecks;
    expect(hc.map((h) => [h.service, h.kind, h.dest])).toStrictEqual([
      ['-t [2001:db8::100]:80', 'http', { addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x11), port: 8080 }],
      ['-t [2001:db8::100]:80', 'tcp', { addr: 0, addr6: w(0x20010db8, 0x100000, 0, 0x12), port: 8080 }],
      ['-f 6 -6', 'tcp', { addr: 0, addr6: w(0x20010db8, 0x10000, 0, 0x21), port: 0 }],
    ]);
    expect(hc[0]).toMatchObject({ connectPort: 9000, timeoutMs: 1000, probe: { connectIp: '2001:db8:20::11', urls: [{ path: '/health', status: [[200, 200]] }] } });
    expect(hc[2]).toMatchObject({ connectPort: 53, probe: { bindto: '2001:db8:1::2' } });
    expect(describeServices(r.config)[0]).toBe('-t [2001:db8::100]:80 -s rr: 2 real servers, 2 checks, sorry [2001:db8:10::99]:8080');
  });
});

describe('keepalived.conf: IPv6 with a dual-stack ports config', () => {
  const ports = (mark6: string): string => file(`port outside kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24 addr=2001:db8::1/64
port inside kind=memory mac=02:00:00:00:00:02 addr=192.168.10.1/24 addr=2001:db8:10::1/64 addr=2001:db8:1::2/64
vip 2001:db8::100 on outside
vip 2001:db8::200 on outside
vip 2001:db8::201 on outside
vip 2001:db8::202 on outside
vip 10.0.0.100 on outside
route default via 2001:db8::fe
mark 6 udp ${mark6} ports 53
mark 7 tcp 2001:db8::100 ports 8443
`);
  it('loads with IPv6 VIPs and IPv6 mark lines, the IPv6 real servers on connected networks', () => {
    const r = loadKeepalived(join(FIX, 'ipv6.conf'), ports('2001:db8::100'));
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
  });
  it('an IPv6 fwmark service whose mark classifies only IPv4 traffic would receive nothing: refused', () => {
    const r = loadKeepalived(join(FIX, 'ipv6.conf'), ports('10.0.0.100'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([expect.stringMatching(/ipv6\.conf:30: fwmark service 6 \(IPv6\) would receive nothing: add 'mark 6 tcp\|udp ADDR6/)]);
  });
});

describe('keepalived.conf: IPv6 families as keepalived decides them', () => {
  it('a fwmark service without ip_family takes its first real server\'s family', () => {
    const r = loadKeepalived(file(`virtual_server fwmark 9 {
  lb_algo rr
  lb_kind DR
  real_server 2001:db8:1::21 {
  }
}
virtual_server fwmark 10 {
  lb_algo rr
  lb_kind DR
  real_server 10.1.0.21 {
  }
}
`));
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    expect(r.config.services.map((s) => [s.fwmark, s.af])).toStrictEqual([[9, 10], [10, undefined]]);
  });

  it('refuses a real server or sorry server of the other family, with keepalived\'s message', () => {
    const text = `virtual_server 2001:db8::100 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  sorry_server 10.0.0.99 80
  real_server 10.0.0.11 80 {
  }
  real_server 2001:db8:10::11 80 {
  }
}
`;
    const path = file(text);
    expect(keepalivedTest(path).out).toContain("Address family of virtual server and real server 10.0.0.11 don't match");
    const e = errorsOf(text);
    expect(e).toHaveLength(2);
    expect(e[0]).toMatch(/:6: Address family of virtual server and real server 10\.0\.0\.11 don't match/);
    expect(e[1]).toMatch(/:5: Address family of virtual server and sorry server 10\.0\.0\.99 don't match/);
  });

  it('refuses an IPv4 TUN real server of an IPv6 service (keepalived would tunnel across families; tapvs does not)', () => {
    const e = errorsOf(`virtual_server 2001:db8::100 80 {
  lb_algo rr
  lb_kind TUN
  protocol TCP
  real_server 10.0.0.11 80 {
  }
}
`);
    expect(e.join('\n')).toMatch(/real server 10\.0\.0\.11: an IPv4 real server of an IPv6 service: tapvs tunnels within one address family/);
  });

  it('ip_family conflicting with the address, and a granularity of the wrong form, are errors', () => {
    const e = errorsOf(`virtual_server 2001:db8::100 80 {
  ip_family inet
  lb_algo rr
  lb_kind NAT
  protocol TCP
  persistence_granularity 255.255.255.0
  real_server 2001:db8:10::11 80 {
  }
}
`);
    expect(e.join('\n')).toMatch(/:2: Virtual server specified family inet conflicts with server family/);
    expect(e.join('\n')).toMatch(/:6: Invalid IPv6 persistence_granularity specified - 255\.255\.255\.0/);
  });

  it('an IPv6 group range wider than 256 addresses, or backwards, is refused', () => {
    const e = errorsOf(`virtual_server_group g {
  2001:db8::100-2ff 80
  2001:db8::300-2001:db8::2ff 80
}
virtual_server group g {
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 2001:db8:1::11 {
  }
}
`);
    expect(e.join('\n')).toMatch(/:2: address range 2001:db8::100-2001:db8::2ff spans more than 256 addresses/);
    expect(e.join('\n')).toMatch(/:3: Address range end is less than address range start/);
  });
});
