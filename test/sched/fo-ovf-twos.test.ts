import { describe, expect, it } from 'vitest';
import { Service } from '../../src/model/service.js';
import { IPPROTO_TCP } from '../../src/model/proto.js';
import { twosReseed, type TwosState } from '../../src/sched/twos.js';
import { ip, makeSvc, pickName, seq, VIP } from './helpers.js';

describe('fo', () => {
  it('sends everything to the highest weight, failing over in weight order', () => {
    const { svc, by } = makeSvc('fo', [
      { name: '11', weight: 5 },
      { name: '12', weight: 10 },
      { name: '13', weight: 7 },
    ]);
    expect(seq(svc, 3)).toEqual(['12', '12', '12']);
    by['12']!.activeConns = 1000; // load does not matter to fo
    expect(pickName(svc)).toBe('12');
    by['12']!.overloaded = true;
    expect(pickName(svc)).toBe('13');
    by['13']!.weight = 0;
    expect(pickName(svc)).toBe('11');
  });

  it('on equal weights the first in list order wins', () => {
    const { svc } = makeSvc('fo', [{ name: '12', weight: 4 }, { name: '11', weight: 4 }]);
    expect(pickName(svc)).toBe('12');
  });
});

describe('ovf', () => {
  it('fills the highest weight up to `weight` active conns, then overflows to the next', () => {
    const { svc, by } = makeSvc('ovf', [
      { name: '11', weight: 2 },
      { name: '12', weight: 3 },
      { name: '13', weight: 1 },
    ]);
    const got: string[] = [];
    // the caller counts each new connection as active on the picked dest
    for (let i = 0; i < 8; i++) {
      const n = pickName(svc);
      got.push(String(n));
      if (n !== null) by[n]!.activeConns++;
    }
    // 12 takes active 0..3 (4 conns: skipped only once active > 3), then 11
    // takes 0..2 (3 conns), then 13 takes 0..1 (1 shown: 8 picks in all)
    expect(got).toEqual(['12', '12', '12', '12', '11', '11', '11', '13']);
    by['13']!.activeConns = 2;
    expect(pickName(svc)).toBeNull();
  });

  it('skips overloaded dests', () => {
    const { svc } = makeSvc('ovf', [{ name: '11', weight: 2 }, { name: '12', weight: 3, overloaded: true }]);
    expect(pickName(svc)).toBe('11');
  });
});

describe('twos', () => {
  const twoSvc = () =>
    makeSvc('twos', [
      { name: '11', weight: 1, active: 10 },
      { name: '12', weight: 1, active: 0 },
    ]);

  it('prefers the lighter of its two draws', () => {
    // 11 is only chosen when both draws land on it. With weights 1,1 the draw
    // r in [0, 2] hits 11 for r = 0 or 1 (2/3), so 11 wins (2/3)^2 = 4/9.
    const { svc } = twoSvc();
    const s = seq(svc, 3000);
    const heavy = s.filter((x) => x === '11').length / s.length;
    expect(heavy).toBeGreaterThan(0.4);
    expect(heavy).toBeLessThan(0.49);
    // by overhead/weight: 11 at weight 50 with 10 active (2560/50) is lighter
    // than 12 with weight 1 and 1 active (256/1)
    const b = makeSvc('twos', [
      { name: '11', weight: 50, active: 10 },
      { name: '12', weight: 1, active: 1 },
    ]).svc;
    expect(seq(b, 200)).not.toContain('12');
  });

  it('is deterministic per seed and differs between seeds', () => {
    const mk = () => {
      const svc = new Service({ proto: IPPROTO_TCP, addr: VIP, port: 80, scheduler: 'twos' });
      for (let i = 14; i >= 11; i--) {
        const d = svc.addDest({ addr: ip(`192.168.10.${i}`), port: 80, weight: i - 10 });
        d.activeConns = (i * 7) % 5;
      }
      return svc;
    };
    const a = mk();
    const b = mk(); // same identity -> same seed
    const sa = seq(a, 200);
    expect(seq(b, 200)).toEqual(sa);
    const c = mk();
    twosReseed(c.schedState as TwosState, 987654321);
    expect(seq(c, 200)).not.toEqual(sa);
    twosReseed(a.schedState as TwosState, 987654321);
    twosReseed(b.schedState as TwosState, 987654321);
    expect(seq(a, 100)).toEqual(seq(b, 100));
  });

  it('draws in proportion to weight when loads are equal', () => {
    // equal overhead/weight (all 0): the first draw always wins, so the
    // share is the draw probability (w + [first dest]) / (total + 1)
    const { svc } = makeSvc('twos', [{ name: '11', weight: 1 }, { name: '12', weight: 4 }]);
    const s = seq(svc, 6000);
    const a = s.filter((x) => x === '11').length / s.length;
    expect(a).toBeGreaterThan(2 / 6 - 0.03);
    expect(a).toBeLessThan(2 / 6 + 0.03);
  });
});
