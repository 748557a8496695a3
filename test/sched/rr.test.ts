import { describe, expect, it } from 'vitest';
import { makeSvc, pickName, seq } from './helpers.js';

describe('rr', () => {
  it('walks svc.dests in list order from the head, wrapping', () => {
    const { svc } = makeSvc('rr', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    expect(seq(svc, 7)).toEqual(['11', '12', '13', '11', '12', '13', '11']);
  });

  it('a newly added dest goes to the head of the list, as list_add_rcu does', () => {
    const { svc } = makeSvc('rr', [{ name: '11' }, { name: '12' }]);
    expect(seq(svc, 1)).toEqual(['11']);
    svc.addDest({ addr: (192 << 24) | (168 << 16) | (10 << 8) | 14, port: 80 });
    // list is now 14, 11, 12 and the pointer is still on 11
    expect(seq(svc, 4)).toEqual(['12', '14', '11', '12']);
  });

  it('skips weight 0 and overloaded dests without losing its place', () => {
    const { svc, by } = makeSvc('rr', [{ name: '11' }, { name: '12', weight: 0 }, { name: '13' }, { name: '14' }]);
    by['14']!.overloaded = true;
    expect(seq(svc, 4)).toEqual(['11', '13', '11', '13']);
    by['14']!.overloaded = false;
    expect(seq(svc, 3)).toEqual(['14', '11', '13']);
  });

  it('removing the last-picked dest continues with the one after it (ip_vs_rr_del_dest)', () => {
    const { svc, by } = makeSvc('rr', [{ name: '11' }, { name: '12' }, { name: '13' }, { name: '14' }]);
    expect(seq(svc, 2)).toEqual(['11', '12']);
    svc.removeDest(by['12']!);
    // a naive reset to the head would give 11 here
    expect(pickName(svc)).toBe('13');
  });

  it('removing the first dest while it was last picked wraps from the head', () => {
    const { svc, by } = makeSvc('rr', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    expect(seq(svc, 1)).toEqual(['11']);
    svc.removeDest(by['11']!);
    expect(seq(svc, 3)).toEqual(['12', '13', '12']);
  });

  it('only the last-picked dest usable: it is picked again', () => {
    const { svc, by } = makeSvc('rr', [{ name: '11' }, { name: '12' }]);
    expect(seq(svc, 1)).toEqual(['11']);
    by['12']!.weight = 0;
    expect(seq(svc, 2)).toEqual(['11', '11']);
  });
});
