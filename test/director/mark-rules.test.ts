// Mark rules replaced in place: what changed is entered, what went is taken
// out, kept rules stay; two lines marking ports of one address into one
// mark are two rules.
import { describe, expect, it } from 'vitest';
import { ServiceTable } from '../../src/model/services.js';

const VIP = 0x0a000064;

describe('ServiceTable.setMarkRules', () => {
  it('classifies by the rules in force after each change', () => {
    const t = new ServiceTable();
    t.setMarkRules([
      { proto: 6, addr: VIP, ports: [80], mark: 1 },
      { proto: 6, addr: VIP, ports: [443], mark: 1 },
      { proto: 17, addr: VIP, ports: [], mark: 2 },
    ]);
    expect([t.classify(6, VIP, 80), t.classify(6, VIP, 443), t.classify(17, VIP, 53), t.classify(6, VIP, 22)]).toEqual([1, 1, 2, 0]);
    const kept = t.markRules[0];
    // the second line's ports change, the UDP rule goes, a new one comes
    t.setMarkRules([
      { proto: 6, addr: VIP, ports: [80], mark: 1 },
      { proto: 6, addr: VIP, ports: [8443], mark: 1 },
      { proto: 6, addr: VIP, ports: [22], mark: 3 },
    ]);
    expect([t.classify(6, VIP, 80), t.classify(6, VIP, 443), t.classify(6, VIP, 8443), t.classify(17, VIP, 53), t.classify(6, VIP, 22)])
      .toEqual([1, 0, 1, 0, 3]);
    expect(t.markRules[0]).toBe(kept);
    expect(t.markRules.map((r) => r.ports)).toEqual([[80], [8443], [22]]);
    t.setMarkRules([]);
    expect([t.classify(6, VIP, 80), t.classify(6, VIP, 22)]).toEqual([0, 0]);
  });
});
