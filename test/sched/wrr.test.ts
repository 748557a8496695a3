import { describe, expect, it } from 'vitest';
import { Service } from '../../src/model/service.js';
import { IPPROTO_TCP } from '../../src/model/proto.js';
import { ip, makeSvc, seq, VIP } from './helpers.js';

// Weights A=4, B=3, C=2 in list order A, B, C. gcd di = 1, max weight mw = 4.
// ip_vs_wrr_schedule scans from the dest after the current one for a dest
// with weight >= cw; reaching the end of the list lowers cw by di, and cw <= 0
// restarts at mw. One full cycle from cw = 4 at the head:
//   cw=4: A(4)                -> A
//   B(3), C(2) fail; cw=3: A  -> A
//   B(3)                      -> B
//   C fails; cw=2: A          -> A
//   B                         -> B
//   C(2)                      -> C
//   end; cw=1: A, B, C        -> A, B, C
//   end; cw=0 -> cw=4: A      -> A (next cycle)
const CYCLE = ['A', 'A', 'B', 'A', 'B', 'C', 'A', 'B', 'C'];
const NAMES: Record<string, string> = { '11': 'A', '12': 'B', '13': 'C' };

describe('wrr', () => {
  it('weights 4,3,2 with the scheduler set on an existing list: A A B A B C A B C, repeating', () => {
    const svc = new Service({ proto: IPPROTO_TCP, addr: VIP, port: 80, scheduler: 'rr' });
    svc.addDest({ addr: ip('192.168.10.13'), port: 80, weight: 2 });
    svc.addDest({ addr: ip('192.168.10.12'), port: 80, weight: 3 });
    svc.addDest({ addr: ip('192.168.10.11'), port: 80, weight: 4 });
    svc.setScheduler('wrr'); // init_service with the three dests: cw = mw = 4
    expect(seq(svc, 18).map((n) => NAMES[n!])).toEqual([...CYCLE, ...CYCLE]);
  });

  it('weights 4,3,2 added one by one: the first pass runs at cw = 1, as in the kernel', () => {
    // Adding C(2) to an empty service: di = 2, mw = 2 - (2 - 1) = 1 and cw 0
    // becomes 1. Adding B(3), then A(4): di = 1, mw grows to 3, 4, but cw = 1
    // stays (ip_vs_wrr_dest_changed keeps cw when 0 < cw <= mw). So the first
    // pass serves every dest once (A B C), then the steady cycle starts.
    const { svc } = makeSvc('wrr', [
      { name: '11', weight: 4 },
      { name: '12', weight: 3 },
      { name: '13', weight: 2 },
    ]);
    expect(seq(svc, 12).map((n) => NAMES[n!])).toEqual(['A', 'B', 'C', ...CYCLE]);
  });

  it('steps by the gcd: weights 6,4 behave as 3,2', () => {
    const { svc } = makeSvc('rr', [{ name: '11', weight: 6 }, { name: '12', weight: 4 }]);
    svc.setScheduler('wrr');
    // di = 2, mw = 6 - 1 = 5; cw = 5: A; cw = 3: A, B; cw = 1: A, B
    expect(seq(svc, 10)).toEqual(['11', '11', '12', '11', '12', '11', '11', '12', '11', '12']);
  });

  it('an overloaded dest is skipped and the rest keep their ratio', () => {
    const { svc, by } = makeSvc('rr', [{ name: '11', weight: 4 }, { name: '12', weight: 3 }, { name: '13', weight: 2 }]);
    svc.setScheduler('wrr');
    by['11']!.overloaded = true;
    const s = seq(svc, 50);
    expect(s).not.toContain('11');
    const b = s.filter((x) => x === '12').length;
    const c = s.filter((x) => x === '13').length;
    expect(b / c).toBeCloseTo(3 / 2, 0);
  });

  it('all overloaded: null, and it still works once they recover', () => {
    const { svc, by } = makeSvc('rr', [{ name: '11', weight: 2 }, { name: '12', weight: 1 }]);
    svc.setScheduler('wrr');
    expect(seq(svc, 1)).toEqual(['11']);
    by['11']!.overloaded = true;
    by['12']!.overloaded = true;
    expect(seq(svc, 3)).toEqual([null, null, null]);
    by['11']!.overloaded = false;
    by['12']!.overloaded = false;
    const s = seq(svc, 6);
    expect(s.filter((x) => x === '11').length).toBe(4);
    expect(s.filter((x) => x === '12').length).toBe(2);
  });
});
