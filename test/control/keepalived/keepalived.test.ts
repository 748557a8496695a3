import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeepalived, readKeepalived } from '../../../src/control/keepalived/index.js';
import { readHex, splitCommand } from '../../../src/control/keepalived/interpret.js';
import { FWD_DR, FWD_MASQ, TUN_F_CSUM, TUN_GRE, TUN_GUE } from '../../../src/model/dest.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../../src/model/proto.js';
import { parseIpv4 } from '../../../src/control/ipvsadm-args.js';

const FIX = join(__dirname, '../../../fixtures/keepalived-conf');
const ip = (s: string): number => parseIpv4(s)!;
const dir = mkdtempSync(join(tmpdir(), 'tapvs-ka-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string, name = `k${n++}.conf`): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Debian's keepalived --config-test: exit status and what it printed. */
function keepalivedTest(path: string): { code: number; out: string } {
  try {
    const out = execFileSync('keepalived', ['--config-test', '-f', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, out };
  } catch (e) {
    const x = e as { status: number; stderr: string; stdout: string };
    return { code: x.status, out: `${x.stdout}${x.stderr}` };
  }
}

describe('keepalived.conf: the lab file', () => {
  const r = loadKeepalived(join(FIX, 'lab.conf'));
  it('becomes two services with keepalived\'s inheritance and defaults', () => {
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    const [nat, dr] = r.config.services;
    expect(nat).toMatchObject({ proto: IPPROTO_TCP, addr: ip('10.0.0.100'), port: 8080, scheduler: 'rr', persistent: 0 });
    // NAT keeps the real server's own port; the sorry server forwards as its virtual server (lb_kind NAT), weight 1
    expect(nat!.dests).toEqual([{ addr: ip('192.168.10.11'), port: 8081, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 }]);
    expect(nat!.sorry).toEqual({ addr: ip('192.168.10.12'), port: 80, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
    expect(nat!.pool).toMatchObject({ quorum: 1, hysteresis: 0, omega: false, sorryInhibit: false, scriptUser: { uid: 0, gid: 0 } });
    expect(dr).toMatchObject({ addr: ip('10.0.0.101'), port: 80, scheduler: 'wlc' });
    expect(dr!.dests.map((d) => [d.port, d.weight, d.fwd])).toEqual([[80, 2, FWD_DR], [80, 1, FWD_DR]]);
    const [http, tcp, misc] = r.config.healthChecks;
    expect(http).toMatchObject({
      service: '-t 10.0.0.100:8080', kind: 'http', intervalMs: 1000, timeoutMs: 1000, retry: 2, delayBeforeRetryMs: 500, warmupMs: 0, startDelayMs: 1000,
      probe: { urls: [{ path: '/health', status: [[200, 299], [302, 302]], virtualhost: 'health.lab.example' }] },
    });
    expect(tcp).toMatchObject({ service: '-t 10.0.0.101:80', kind: 'tcp', retry: 3, delayBeforeRetryMs: 400, connectPort: 8082, timeoutMs: 1000 });
    // MISC_CHECK: retry 0 and delay_before_retry 1 s by default, misc_timeout, argv as keepalived splits it
    expect(misc).toMatchObject({ kind: 'misc', retry: 0, delayBeforeRetryMs: 1000, timeoutMs: 2000 });
    expect(misc!.probe).toMatchObject({ miscDynamic: true, argv: ['/bin/sh', '-c', 'exit $(cat /tmp/tapvs-ka-misc-status 2>/dev/null || echo 0)'] });
  });

  it('passes Debian keepalived --config-test', () => {
    expect(keepalivedTest(join(FIX, 'lab.conf'))).toEqual({ code: 0, out: '' });
  });
});

describe('keepalived.conf: lb_kind TUN type gue|gre (keepalived 2.x, Linux 5.2/5.3)', () => {
  it('the tunnel reaches the real servers: the virtual server\'s lb_kind, or a real server\'s own lvs_method', () => {
    const p = file(`virtual_server 10.1.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind TUN type gue port 6080 remcsum csum\n real_server 10.2.0.1 80 {\n }\n real_server 10.2.0.2 80 {\n  lvs_method TUN type gre\n }\n real_server 10.2.0.3 80 {\n  lvs_method TUN type ipip\n }\n}\n`);
    const r = loadKeepalived(p);
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    const ds = r.config.services[0]!.dests;
    expect(ds.map((d) => [d.tunType, d.tunPort, d.tunFlags])).toEqual([[TUN_GUE, 6080, TUN_F_CSUM], [TUN_GRE, 0, 0], [undefined, undefined, undefined]]);
  });
});

describe('keepalived.conf: every checker kind (fixtures/keepalived-conf/checkers.conf)', () => {
  const path = join(FIX, 'checkers.conf');
  it('passes Debian keepalived --config-test', () => {
    expect(keepalivedTest(path)).toEqual({ code: 0, out: '' });
  });

  it('becomes one service per group address, fwmark, UDP and TUN services, with the checkers read as keepalived reads them', () => {
    const r = loadKeepalived(path);
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    const keys = r.config.services.map((s) => (s.fwmark ? `f${s.fwmark}` : `${s.proto}/${s.addr}/${s.port}`));
    expect(keys).toEqual([
      `6/${ip('10.20.0.10')}/80`, `6/${ip('10.20.0.11')}/80`, `6/${ip('10.20.0.12')}/80`, `6/${ip('10.20.0.20')}/80`, 'f5', `17/${ip('10.20.0.30')}/53`, `6/${ip('10.20.0.40')}/25`,
    ]);
    expect(r.config.timeouts).toEqual({ tcp: 7200, tcpfin: 120, udp: 300 });
    const grp = r.config.services[0]!;
    expect(grp.pool).toMatchObject({ quorum: 2, hysteresis: 1, quorumUp: ['/bin/logger', 'quorum-up'], quorumDown: ['/bin/logger', 'quorum-down'] });
    const fw = r.config.services[4]!;
    expect(fw).toMatchObject({ scheduler: 'sh', persistent: 600, netmask: 0xffffff00, flags: { shPort: true, shFallback: false } });
    // a fwmark NAT real server keeps its port
    expect(fw.dests[0]!.port).toBe(443);
    expect(r.config.services[5]).toMatchObject({ onePacket: true, proto: IPPROTO_UDP });
    const byKind = (service: string, kind: string) => r.config.healthChecks.find((h) => h.service === service && h.kind === kind)!;
    const http = byKind('-t 10.20.0.10:80', 'http');
    expect(http).toMatchObject({ retry: 3, delayBeforeRetryMs: 2000, timeoutMs: 3000, intervalMs: 10000, inhibitOnFailure: true });
    expect(http.probe!.httpProtocol).toBe('1.1');
    expect(http.probe!.urls).toEqual([
      { path: '/index.html', status: [[200, 299]], digest: '9b3a0c85a887a256d6939da88aabd8cd' },
      { path: '/status', status: [[200, 200], [204, 204], [300, 399]], regex: 'ok|ready', regexFlags: 'i' },
    ]);
    expect(byKind('-t 10.20.0.10:80', 'file').probe!.file).toBe('/run/tapvs-maintenance');
    expect(byKind('-t 10.20.0.10:80', 'icmp')).toMatchObject({ retry: 2, notifyUp: ['/bin/logger', 'rs2-up'], notifyDown: ['/bin/logger', 'rs2-down'] });
    expect(byKind('-f 5', 'ssl').probe).toMatchObject({ sni: true, urls: [{ path: '/', virtualhost: 'secure.example', status: [[200, 299]] }] });
    expect(byKind('-u 10.20.0.30:53', 'dns')).toMatchObject({ retry: 3, delayBeforeRetryMs: 4000, probe: { dnsType: 6, dnsName: 'example.org' } });
    expect(byKind('-u 10.20.0.30:53', 'udp')).toMatchObject({ connectPort: 5353, probe: { udpPayload: '00fe01', udpRequireReply: true, udpReply: '0100', udpReplyMask: '00ff' } });
    expect(byKind('-t 10.20.0.40:25', 'smtp')).toMatchObject({ alpha: true, timeoutMs: 10000, probe: { heloName: 'tapvs.example' } });
    expect(byKind('-t 10.20.0.40:25', 'tcp')).toMatchObject({ connectPort: 587, alpha: true, probe: { bindto: '10.30.0.254' } });
    expect(r.config.services[6]).toMatchObject({ pool: { omega: true } });
  });
});

describe('keepalived.conf: defaults when left out', () => {
  it("delay_loop 60 s, connect_timeout 5 s, warmup = delay_loop, retry 1 and delay_before_retry 3 s for HTTP_GET; NAT, UDP and wlc with keepalived's warnings", () => {
    const p = file(`virtual_server 10.1.0.1 80 {
  real_server 10.2.0.1 80 {
    HTTP_GET {
      url { path / }
    }
  }
}
`);
    const r = loadKeepalived(p);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([
      `${p}:1: Virtual server [10.1.0.1]:none:80: no protocol set - defaulting to UDP`,
      `${p}:1: Virtual server [10.1.0.1]:none:80: no scheduler set, setting default 'wlc'`,
      `${p}:1: Virtual server [10.1.0.1]:none:80: no forwarding method set, setting default NAT`,
    ]);
    expect(r.config.services[0]).toMatchObject({ proto: IPPROTO_UDP, scheduler: 'wlc' });
    expect(r.config.services[0]!.dests[0]!.fwd).toBe(FWD_MASQ);
    expect(r.config.healthChecks[0]).toMatchObject({
      intervalMs: 60000, timeoutMs: 5000, warmupMs: 60000, retry: 1, delayBeforeRetryMs: 3000, inhibitOnFailure: false,
      probe: { urls: [{ path: '/', status: [[200, 299]] }] },
    });
    // keepalived's config test reports the same three
    const k = keepalivedTest(p);
    expect(k.code).not.toBe(0);
    expect(k.out).toMatch(/no protocol set - defaulting to UDP/);
  });

  it('inherits retry, delay_before_retry, connect_timeout and inhibit_on_failure from real_server and virtual_server; DNS_CHECK retries 3 times a delay_loop apart', () => {
    const p = file(`virtual_server 10.1.0.1 53 {
  protocol UDP
  lb_algo rr
  lb_kind DR
  delay_loop 7
  connect_timeout 2
  inhibit_on_failure
  real_server 10.1.0.9 53 {
    retry 4
    DNS_CHECK { type A
      name example.test
    }
    TCP_CHECK {
      delay_before_retry 2
    }
  }
}
`);
    const r = loadKeepalived(p);
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    const [dns, tcp] = r.config.healthChecks;
    expect(dns).toMatchObject({ kind: 'dns', retry: 4, delayBeforeRetryMs: 7000, timeoutMs: 2000, intervalMs: 7000, inhibitOnFailure: true, probe: { dnsType: 1, dnsName: 'example.test' } });
    expect(tcp).toMatchObject({ kind: 'tcp', retry: 4, delayBeforeRetryMs: 2000 });
  });
});

describe('keepalived.conf: errors with file and line, and what tapvs refuses by name', () => {
  const errorsOf = (text: string): string[] => {
    const r = loadKeepalived(file(text, 'e.conf'));
    return r.ok ? [] : r.errors.map((e) => e.replace(`${dir}/`, ''));
  };
  const VS = (body: string, rs = ''): string => `virtual_server 10.1.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n${body}\n real_server 10.2.0.1 80 {\n${rs}\n  TCP_CHECK {\n  }\n }\n}\n`;
  it.each([
    [VS(' bogus 1'), 'e.conf:5: Unknown keyword \'bogus\''],
    [VS(' smtp_alert'), "e.conf:5: 'smtp_alert' is not supported by tapvs: tapvs sends no e-mail alerts (it logs every transition)"],
    [VS(' ha_suspend'), /^e\.conf:5: 'ha_suspend' is not supported by tapvs: .*backup director too/],
    [VS(' lb_algo rrr'), "e.conf:5: Invalid lvs_scheduler 'rrr'"],
    [VS('', '  weight -1'), "e.conf:7: weight '-1' must be a whole number in [0, 2147483647]"],
    [VS(' persistence_engine sip'), /persistence engines/],
    ['virtual_server 2001:db8::1 80 {\n protocol TCP\n real_server 10.0.0.2 80 {\n }\n}\n', "e.conf:3: Address family of virtual server and real server 10.0.0.2 don't match"],
    ['vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n track_script {\n  chk\n }\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n', /^e\.conf:5: 'track_script' is not supported by tapvs: tapvs's VRRP tracks nothing/],
    ['global_defs {\n lvs_sync_daemon eth0 VI_1\n}\n', 'e.conf:2: lvs_sync_daemon: vrrp_instance VI_1 is not defined (the daemon follows its state)'],
    ['global_defs {\n process_names\n}\n', "e.conf:2: 'process_names' is not supported by tapvs: a keepalived process setting with no counterpart in tapvs"],
    ['global_defs {\n no_such_global 1\n}\n', "e.conf:2: Unknown keyword 'no_such_global'"],
    ['vrrp_sync_group G {\n group {\n  VI_1\n }\n}\n', /^e\.conf:1: 'vrrp_sync_group' is not supported by tapvs: .*a sync group is not supported/],
    ['include nothing-here-*.conf\n', 'e.conf:1: include nothing-here-*.conf: no file matches'],
    ['$X=1\n', /^e\.conf:1: parameter definitions/],
    [VS(' sorry_server_inhibit'), 'e.conf:5: sorry_server_inhibit used before or without sorry_server'],
    ['virtual_server 10.1.0.1 80 {\n protocol TCP\n', "e.conf:1: block of 'virtual_server' is never closed (missing '}')"],
    [VS('', '  HTTP_GET {\n   url {\n    path /\n    regex_stack 10 20\n   }\n  }'), /^e\.conf:10: 'regex_stack' is not supported by tapvs/],
    // keepalived 2.2.7's own messages for these (checked with its --config-test)
    [VS(' lb_kind TUN type gue'), 'e.conf:5: gue tunnels require port, otherwise cannot have port.'],
    [VS(' lb_kind TUN type gre port 5'), 'e.conf:5: gue tunnels require port, otherwise cannot have port.'],
    [VS(' lb_kind TUN type gre remcsum'), 'e.conf:5: gre tunnels do not support remote checksum option.'],
    [VS(' lb_kind TUN type vxlan'), 'e.conf:5: Unknown tunnel type vxlan for virtual server.'],
    [VS(' lb_kind TUN type gue port 0'), 'e.conf:5: Invalid gue tunnel port 0 for virtual server.'],
  ])('%#', (text, want) => {
    const errs = errorsOf(text);
    if (typeof want === 'string') expect(errs).toContain(want);
    else expect(errs.some((e) => want.test(e)), errs.join('\n')).toBe(true);
  });

  it('reads a vrrp_instance into a structure (the HA tests translate it: keepalived-ha.test.ts)', () => {
    const r = readKeepalived(file('vrrp_instance VI_1 {\n state BACKUP\n interface eth1\n virtual_router_id 51\n priority 90\n advert_int 1\n virtual_ipaddress {\n  10.0.0.100/24\n  10.0.0.101\n }\n}\n'));
    expect(r.conf.vrrpInstances[0]).toMatchObject({ name: 'VI_1', state: 'BACKUP', interface: 'eth1', virtualRouterId: 51, priority: 90, advertIntS: 1, virtualIpaddress: ['10.0.0.100/24', '10.0.0.101'] });
    expect(r.conf.vrrpInstances[0]!.vips.map((v) => [v.addr.text, v.prefix, v.line])).toEqual([['10.0.0.100', 24, 8], ['10.0.0.101', undefined, 9]]);
  });

  it("reads comments ('!' and '#'), quoted words and one-line blocks as keepalived does", () => {
    const p = file(`! a comment
virtual_server 10.1.0.1 80 { # here too
  protocol TCP
  lb_algo rr ! and here
  lb_kind NAT
  real_server 10.2.0.1 80 { weight 3
    MISC_CHECK { misc_path "/bin/echo a\\#b 'c d'" }
  }
}
`);
    const r = loadKeepalived(p);
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    expect(r.config.services[0]!.dests[0]!.weight).toBe(3);
    expect(r.config.healthChecks[0]!.probe!.argv).toEqual(['/bin/echo', 'a#b', 'c d']);
    expect(splitCommand(`/x "a b" c\\ d`)).toEqual(['/x', 'a b', 'c d']);
    // read_hex_str: bytes of one or two digits, blanks between them, x for don't-care nibbles
    expect(readHex('0 1f a')).toEqual({ data: '001f0a' });
    expect(readHex('01xx x2')).toEqual({ data: '010002', mask: '00fff0' });
    expect(readHex('0g')).toBeNull();
  });
});
