import { describe, expect, it } from 'vitest';
import { ALL_NAMES } from './names.js';
import { ip, makeSvc, pick, pkt } from './helpers.js';
import { AF_INET6, IPPROTO_TCP } from '../../src/model/proto.js';
import type { SchedPacket } from '../../src/model/scheduler.js';
import { Service, type SchedFlags } from '../../src/model/service.js';
import { ip6Fold, ip6ToString, parseIp6 } from '../../src/wire/addr6.js';

describe('explain', () => {
  it('wlc names the dest, its overhead and weight', () => {
    const { svc } = makeSvc('wlc', [
      { name: '11', weight: 1, active: 1 },
      { name: '12', weight: 3, active: 0, inact: 1 },
    ]);
    const d = pick(svc)!;
    expect(svc.sched.explain!(svc, svc.schedState, d, pkt())).toBe('wlc: 192.168.10.12:80 overhead 1/weight 3 (lowest)');
  });

  it('rr names the dest it followed', () => {
    const { svc } = makeSvc('rr', [{ name: '11' }, { name: '12' }]);
    pick(svc);
    const d = pick(svc)!;
    expect(svc.sched.explain!(svc, svc.schedState, d, pkt())).toBe('rr: 192.168.10.12:80 next after 192.168.10.11:80');
  });

  it('sh names the client address and its bucket', () => {
    const { svc } = makeSvc('sh', [{ name: '11' }]);
    const p = pkt(ip('10.0.0.5'));
    const d = pick(svc, p)!;
    expect(svc.sched.explain!(svc, svc.schedState, d, p)).toMatch(/^sh: hash\(10\.0\.0\.5\) -> bucket \d+ -> 192\.168\.10\.11:80$/);
  });

  it.each(ALL_NAMES)('%s explains every pick with its own name and the dest', (name) => {
    const { svc } = makeSvc(name, [{ name: '11', weight: 2 }, { name: '12', weight: 1 }]);
    const p = pkt();
    const d = pick(svc, p)!;
    const text = svc.sched.explain!(svc, svc.schedState, d, p);
    expect(text.startsWith(`${name}: `)).toBe(true);
    expect(text).toContain(`192.168.10.${d.addr & 255}:80`);
  });
});

describe('explain for IPv6 clients and real servers', () => {
  const a6 = (s: string) => parseIp6(s);
  const VIP6 = '2001:db8:0:1::100';
  const CLIENT6 = '2001:db8:ff::7';
  function svc6(scheduler: string, flags: Partial<SchedFlags> = {}): Service {
    const svc = new Service({ proto: IPPROTO_TCP, addr: 0, addr6: a6(VIP6), port: 80, scheduler, flags });
    for (const n of ['12', '11']) svc.addDest({ addr: 0, addr6: a6(`2001:db8:0:10::${n}`), port: 8080, weight: 1 });
    return svc;
  }
  function pkt6(): SchedPacket {
    const c = a6(CLIENT6);
    const v = a6(VIP6);
    return { af: AF_INET6, proto: IPPROTO_TCP, caddr: ip6Fold(c), cport: 45000, vaddr: ip6Fold(v), vport: 80, caddr6: c, vaddr6: v };
  }
  const fold = (s: string) => '0x' + ip6Fold(a6(s)).toString(16).padStart(8, '0');

  it('sh, mh and dh name the IPv6 address they hashed and its folded words, never a dotted fold', () => {
    const p = pkt6();
    const cases: [string, Partial<SchedFlags>, RegExp][] = [
      ['sh', {}, new RegExp(`^sh: hash\\(${CLIENT6}, words XORed ${fold(CLIENT6)}\\) -> bucket \\d+ -> \\[2001:db8:0:10::1[12]\\]:8080$`)],
      ['sh', { shPort: true }, new RegExp(`^sh: hash\\(\\[${CLIENT6}\\]:45000, words XORed ${fold(CLIENT6)}\\) -> bucket \\d+ -> \\[2001:db8:0:10::1[12]\\]:8080$`)],
      ['mh', { mhPort: true }, new RegExp(`^mh: hash\\(\\[${CLIENT6}\\]:45000, words XORed ${fold(CLIENT6)}\\) -> slot \\d+/\\d+ -> \\[2001:db8:0:10::1[12]\\]:8080$`)],
      ['dh', {}, new RegExp(`^dh: hash\\(${VIP6}, words XORed ${fold(VIP6)}\\) -> bucket \\d+ -> \\[2001:db8:0:10::1[12]\\]:8080$`)],
    ];
    for (const [name, flags, want] of cases) {
      const svc = svc6(name, flags);
      const d = svc.sched.pick(svc, svc.schedState, p, 0)!;
      expect(svc.sched.explain!(svc, svc.schedState, d, p)).toMatch(want);
    }
  });

  it('lblc and lblcr name the destination address as IPv6', () => {
    for (const name of ['lblc', 'lblcr']) {
      const svc = svc6(name);
      const p = pkt6();
      const d = svc.sched.pick(svc, svc.schedState, p, 0)!;
      expect(svc.sched.explain!(svc, svc.schedState, d, p)).toMatch(new RegExp(`^${name}: ${VIP6} -> \\[2001:db8:0:10::1[12]\\]:8080 \\(new`));
    }
  });

  it.each(ALL_NAMES)('%s: an IPv6 pick explained with [addr]:port and no dotted quad', (name) => {
    const svc = svc6(name);
    const p = pkt6();
    const d = svc.sched.pick(svc, svc.schedState, p, 0)!;
    const text = svc.sched.explain!(svc, svc.schedState, d, p);
    expect(text.startsWith(`${name}: `)).toBe(true);
    expect(text).toContain(`[${ip6ToString(d.addr6)}]:8080`);
    expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
  });
});
