import { describe, expect, it } from 'vitest';
import { makeSvc, pickName, type D } from './helpers.js';

// overhead = active*256 + inactive (ip_vs_dest_conn_overhead)
//   A: w=1,  active 0, inactive 100 -> overhead 100,  /w = 100,   sed (0+1)/1  = 1
//   B: w=3,  active 1, inactive 0   -> overhead 256,  /w = 85.3,  sed (1+1)/3  = 0.67
//   C: w=10, active 5, inactive 0   -> overhead 1280, /w = 128,   sed (5+1)/10 = 0.6
// lc takes the lowest overhead (A), wlc the lowest overhead/weight (B),
// sed the lowest (active+1)/weight (C).
const THREE: D[] = [
  { name: '11', weight: 1, active: 0, inact: 100 },
  { name: '12', weight: 3, active: 1, inact: 0 },
  { name: '13', weight: 10, active: 5, inact: 0 },
];

describe('lc, wlc, sed, nq', () => {
  it('lc ranks by active*256 + inactive, ignoring weight', () => {
    expect(pickName(makeSvc('lc', THREE).svc)).toBe('11');
  });

  it('wlc ranks by overhead / weight', () => {
    expect(pickName(makeSvc('wlc', THREE).svc)).toBe('12');
  });

  it('sed ranks by (active + 1) / weight, ignoring inactive', () => {
    expect(pickName(makeSvc('sed', THREE).svc)).toBe('13');
  });

  it('an active connection weighs 256 inactive ones in lc', () => {
    const { svc } = makeSvc('lc', [
      { name: '11', active: 1, inact: 0 },
      { name: '12', active: 0, inact: 255 },
    ]);
    expect(pickName(svc)).toBe('12');
    svc.dests[1]!.inactConns = 257; // dests[1] is 12
    expect(pickName(svc)).toBe('11');
  });

  it('ties go to the first dest in list order', () => {
    for (const s of ['lc', 'wlc', 'sed']) {
      const { svc } = makeSvc(s, [
        { name: '12', weight: 2, active: 2 },
        { name: '11', weight: 2, active: 2 },
      ]);
      expect(pickName(svc)).toBe('12');
    }
  });

  it('nq sends to an idle server even when another has a lower expected delay', () => {
    //   E: w=10, active 1 -> sed 2/10 = 0.2 (sed's choice)
    //   D: w=1,  active 0, inactive 50 -> sed 1/1, but idle
    const ds: D[] = [
      { name: '15', weight: 10, active: 1 },
      { name: '14', weight: 1, active: 0, inact: 50 },
    ];
    expect(pickName(makeSvc('sed', ds).svc)).toBe('15');
    expect(pickName(makeSvc('nq', ds).svc)).toBe('14');
  });

  it('nq without an idle server chooses as sed does', () => {
    expect(pickName(makeSvc('nq', THREE.map((d) => ({ ...d, active: (d.active ?? 0) + 1 }))).svc)).toBe(
      pickName(makeSvc('sed', THREE.map((d) => ({ ...d, active: (d.active ?? 0) + 1 }))).svc),
    );
    // with one more active each: A 2/1, B 3/3, C 7/10 -> C
    expect(pickName(makeSvc('nq', THREE.map((d) => ({ ...d, active: (d.active ?? 0) + 1 }))).svc)).toBe('13');
  });

  it('nq skips an idle server that is overloaded or has weight 0', () => {
    const { svc } = makeSvc('nq', [
      { name: '11', weight: 0, active: 0 },
      { name: '12', weight: 1, active: 0, overloaded: true },
      { name: '13', weight: 1, active: 3 },
      { name: '14', weight: 1, active: 2 },
    ]);
    expect(pickName(svc)).toBe('14');
  });

  it('wlc: a weight-0 dest never wins even with zero overhead', () => {
    const { svc } = makeSvc('wlc', [
      { name: '11', weight: 1, active: 50 },
      { name: '12', weight: 0, active: 0 },
    ]);
    expect(pickName(svc)).toBe('11');
  });
});
