import { describe, expect, it } from 'vitest';
import { getScheduler, schedulerNames } from '../../src/sched/index.js';
import { clients, makeSvc, pick, pkt } from './helpers.js';
import { ALL_NAMES } from './names.js';

const ALL = ALL_NAMES;
// Hashing schedulers without their fallback flag answer null when the
// hashed dest is unusable instead of choosing another one.
const HASHING = new Set(['dh', 'sh', 'mh']);

describe('every scheduler', () => {
  it('all 14 IPVS schedulers are registered by importing src/sched/index', () => {
    expect(schedulerNames().sort()).toEqual([...ALL].sort());
    for (const n of ALL) expect(getScheduler(n)?.name).toBe(n);
  });

  describe.each(ALL)('%s', (name) => {
    it('returns null with no dest', () => {
      const { svc } = makeSvc(name, []);
      expect(pick(svc)).toBeNull();
    });

    it('returns null when every dest has weight 0 or is overloaded', () => {
      const { svc } = makeSvc(name, [
        { name: '11', weight: 0 },
        { name: '12', weight: 5, overloaded: true },
        { name: '13', weight: 0, overloaded: true },
      ], { shFallback: true, mhFallback: true });
      for (const c of clients(50)) expect(pick(svc, pkt(c, 1000, c))).toBeNull();
    });

    it('never picks a weight-0 or overloaded dest', () => {
      const { svc, by } = makeSvc(name, [
        { name: '11', weight: 0 },
        { name: '12', weight: 9, overloaded: true },
        { name: '13', weight: 1 },
        { name: '14', weight: 0 },
      ]);
      let served = 0;
      for (const c of clients(300)) {
        const d = pick(svc, pkt(c, 1000 + (c & 0x3fff), c), 0);
        if (d !== null) {
          expect(d).toBe(by['13']);
          served++;
        }
      }
      if (HASHING.has(name)) expect(served).toBeGreaterThan(0);
      else expect(served).toBe(300);
    });
  });

  it('hashing schedulers with fallback always reach the one usable dest', () => {
    for (const name of ['sh', 'mh']) {
      const { svc, by } = makeSvc(name, [
        { name: '11', weight: 0 },
        { name: '12', weight: 9, overloaded: true },
        { name: '13', weight: 1 },
      ], { shFallback: true, mhFallback: true });
      for (const c of clients(300)) expect(pick(svc, pkt(c))).toBe(by['13']);
    }
  });
});
