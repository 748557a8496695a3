import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/control/config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN } from '../../../src/model/dest.js';
import { parseIpv4 } from '../../../src/control/ipvsadm-args.js';

const ip = (s: string): number => parseIpv4(s)!;
const TOPO = `
port out kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24
port in kind=memory mac=02:00:00:00:00:02 addr=192.168.10.1/24
vip 10.0.0.100 on out
route 172.16.0.0/16 via 192.168.10.254
`;
/** Lines of TOPO before the test's own text: errors' lines are reported relative to the test text. */
const OFF = TOPO.split('\n').length - 1;
const ok = (text: string) => {
  const r = parseConfig(TOPO + text, 't.conf');
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return r.config;
};
const errs = (text: string) => {
  const r = parseConfig(TOPO + text, 't.conf');
  return 'errors' in r ? r.errors.map((e) => ({ line: e.line - OFF, message: e.message })) : [];
};

const NAT = `
-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m
`;

describe('sorry directive', () => {
  it('takes the forwarding method of the service\'s real servers when none is given, and the service port', () => {
    const c = ok(`${NAT}sorry -t 10.0.0.100:80 -r 192.168.10.99\n`);
    expect(c.services[0]!.sorry).toEqual({ addr: ip('192.168.10.99'), port: 80, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
  });

  it('keeps an explicit method, port and weight; may come before its service', () => {
    const c = ok(`sorry -t 10.0.0.100:80 -r 172.16.5.5 -i -w 3\n${NAT}`);
    expect(c.services[0]!.sorry).toMatchObject({ addr: ip('172.16.5.5'), port: 80, weight: 3, fwd: FWD_TUN });
    const m = ok(`${NAT}sorry -t 10.0.0.100:80 -r 192.168.10.99:8080 -m\n`);
    expect(m.services[0]!.sorry).toMatchObject({ port: 8080, fwd: FWD_MASQ });
    const g = ok(`-A -t 10.0.0.100:80\n-a -t 10.0.0.100:80 -r 192.168.10.11\nsorry -t 10.0.0.100:80 -r 192.168.10.99\n`);
    expect(g.services[0]!.sorry).toMatchObject({ fwd: FWD_DR, port: 80 });
  });

  it('refuses what cannot work, with the line', () => {
    expect(errs(`${NAT}sorry -t 10.0.0.100:81 -r 192.168.10.99\n`)).toEqual([
      { line: 4, message: 'sorry server of an undefined service -t 10.0.0.100:81' },
    ]);
    expect(errs(`${NAT}sorry -t 10.0.0.100:80 -r 192.168.10.11\n`)[0]!.message).toBe(
      'sorry server 192.168.10.11:80 is also a real server of -t 10.0.0.100:80',
    );
    expect(errs(`${NAT}sorry -t 10.0.0.100:80 -r 192.168.10.98\nsorry -t 10.0.0.100:80 -r 192.168.10.99\n`)).toEqual([
      { line: 5, message: `-t 10.0.0.100:80 already has a sorry server (line ${4 + OFF})` },
    ]);
    expect(errs(`${NAT}sorry -t 10.0.0.100:80 -r 192.168.10.99:8080 -g\n`)[0]!.message).toMatch(/^sorry server port differs from the service port 80, but direct routing \(-g\)/);
    // the method inherited from DR real servers cannot change the port either
    const dr = errs(`-A -t 10.0.0.100:80\n-a -t 10.0.0.100:80 -r 192.168.10.11\nsorry -t 10.0.0.100:80 -r 192.168.10.99:8080\n`);
    expect(dr[0]!.message).toMatch(/direct routing \(-g\) cannot change ports .*give -m/);
    expect(errs(`${NAT}sorry -t 10.0.0.100:80 -r 172.16.0.9 -g\n`)[0]!.message).toMatch(/^sorry server 172\.16\.0\.9 uses direct routing \(-g\) but is on no network directly connected/);
    expect(errs(`${NAT}sorry -t 10.0.0.100:80 -r 8.8.8.8 -m\n`)[0]!.message).toMatch(/^no route to sorry server 8\.8\.8\.8 \(masquerading \(-m\)\)/);
    expect(errs(`${NAT}sorry -t 10.0.0.100:80 -r 192.168.10.99 -m -x 5\n`)[0]!.message).toMatch(/^sorry: unexpected '-x'/);
    expect(errs(`${NAT}sorry -t 10.0.0.100:80 -r 192.168.10.99 -m -g\n`)[0]!.message).toBe('sorry: more than one forwarding method (-m -g)');
    expect(errs(`${NAT}sorry 10.0.0.100:80\n`)[0]!.message).toMatch(/^usage: sorry /);
  });
});

describe('check netns', () => {
  it('option check_netns and a per-check netns= are parsed', () => {
    const c = ok(`option check_netns lab-rs1\n${NAT}check tcp -t 10.0.0.100:80 -r 192.168.10.11:80 netns=other interval=1s timeout=500ms\n`);
    expect(c.options.checkNetns).toBe('lab-rs1');
    expect(c.healthChecks[0]).toMatchObject({ netns: 'other', intervalMs: 1000, timeoutMs: 500 });
    const d = ok(`${NAT}check icmp -t 10.0.0.100:80 -r 192.168.10.11:80\n`);
    expect(d.options.checkNetns).toBeUndefined();
    expect(d.healthChecks[0]!.netns).toBeUndefined();
  });

  it('refuses bad names and a repeated netns=', () => {
    expect(errs(`option check_netns bad/name\n`)[0]!.message).toBe("option check_netns: illegal network namespace name 'bad/name'");
    expect(errs(`${NAT}check tcp -t 10.0.0.100:80 -r 192.168.10.11:80 netns=a netns=b\n`)[0]!.message).toBe("'netns' given twice");
    expect(errs(`${NAT}check tcp -t 10.0.0.100:80 -r 192.168.10.11:80 netns=a:b\n`)[0]!.message).toBe("check netns: illegal network namespace name 'a:b'");
  });
});
