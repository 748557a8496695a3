import { describe, expect, it } from 'vitest';
import { IPPROTO_ICMP, IPPROTO_UDP } from '../../src/model/proto.js';
import { shBucket } from '../../src/sched/sh.js';
import { clients, ip, makeSvc, pick, pickName, pkt } from './helpers.js';

describe('dh', () => {
  it('hashes the destination address: same VIP -> same dest whatever the client', () => {
    const { svc } = makeSvc('dh', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    for (const v of clients(50, 7)) {
      const first = pickName(svc, pkt(ip('172.16.0.1'), 1, v));
      for (const c of clients(5, v)) expect(pickName(svc, pkt(c, c & 0xffff, v))).toBe(first);
    }
  });

  it('spreads destination addresses over all dests', () => {
    const { svc } = makeSvc('dh', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    const seen = new Set(clients(200, 3).map((v) => pickName(svc, pkt(1, 1, v))));
    expect(seen).toEqual(new Set(['11', '12', '13']));
  });

  it('ignores weights: a weight change elsewhere moves nothing', () => {
    const { svc, by } = makeSvc('dh', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    const vs = clients(500, 11);
    const before = vs.map((v) => pickName(svc, pkt(1, 1, v)));
    svc.editDest(by['12']!, { weight: 7 });
    expect(vs.map((v) => pickName(svc, pkt(1, 1, v)))).toEqual(before);
  });

  it('no fallback: an address hashed to an overloaded dest gets null', () => {
    const { svc, by } = makeSvc('dh', [{ name: '11' }, { name: '12' }]);
    by['12']!.overloaded = true;
    const res = clients(200, 5).map((v) => pickName(svc, pkt(1, 1, v)));
    expect(res).toContain(null);
    expect(res).toContain('11');
    expect(res).not.toContain('12');
  });
});

describe('sh', () => {
  it('hashes the client address: same client -> same dest, across calls and destination ports', () => {
    const { svc } = makeSvc('sh', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    for (const c of clients(200)) {
      const d = pickName(svc, pkt(c, 1000));
      expect(pickName(svc, pkt(c, 2000))).toBe(d);
      expect(pickName(svc, pkt(c, 1000))).toBe(d);
    }
  });

  it('gives each dest `weight` buckets: the share of clients follows the weights', () => {
    const { svc } = makeSvc('sh', [{ name: '11', weight: 1 }, { name: '12', weight: 3 }]);
    const cs = clients(20000);
    const n12 = cs.filter((c) => pickName(svc, pkt(c)) === '12').length;
    // buckets: 64 blocks of (11, 12, 12, 12) -> 75 % of buckets
    expect(n12 / cs.length).toBeGreaterThan(0.72);
    expect(n12 / cs.length).toBeLessThan(0.78);
  });

  it('a weight change keeps the clients whose bucket lies before the changed block', () => {
    // list 11(200), 12(10), 13(10): buckets 0-199 -> 11, 200-209 -> 12,
    // 210-219 -> 13, 220-255 -> 11. Raising 13 to 20 refills 210-229 with 13
    // and 230-255 with 11: buckets 0-209 are untouched.
    const { svc, by } = makeSvc('sh', [
      { name: '11', weight: 200 },
      { name: '12', weight: 10 },
      { name: '13', weight: 10 },
    ]);
    const cs = clients(5000);
    const before = cs.map((c) => pickName(svc, pkt(c)));
    svc.editDest(by['13']!, { weight: 20 });
    let moved = 0;
    cs.forEach((c, i) => {
      const now = pickName(svc, pkt(c));
      if (shBucket(c, 0, 0) < 210) expect(now).toBe(before[i]);
      else if (now !== before[i]) moved++;
    });
    expect(moved).toBeGreaterThan(0); // buckets 220-229 went from 11 to 13
  });

  it('without sh-fallback, clients of an overloaded dest get null; with it, another dest, always the same', () => {
    const ds = [{ name: '11' }, { name: '12' }, { name: '13' }];
    const plain = makeSvc('sh', ds);
    const fb = makeSvc('sh', ds, { shFallback: true });
    plain.by['12']!.overloaded = true;
    fb.by['12']!.overloaded = true;
    let rerouted = 0;
    for (const c of clients(1000)) {
      const home = shBucket(c, 0, 0) % 3; // buckets go 11, 12, 13, 11, ...
      const p = pickName(plain.svc, pkt(c));
      const f = pickName(fb.svc, pkt(c));
      if (home === 1) {
        expect(p).toBeNull();
        expect(f === '11' || f === '13').toBe(true);
        expect(pickName(fb.svc, pkt(c))).toBe(f);
        rerouted++;
      } else {
        expect(p).toBe(home === 0 ? '11' : '13');
        expect(f).toBe(p); // fallback does not touch clients of usable dests
      }
    }
    expect(rerouted).toBeGreaterThan(200);
  });

  it('sh-fallback probes as the kernel does, from bucket 2*home onwards, not home+1', () => {
    // Five weight-1 dests: bucket i belongs to dest i % 5 (11..15). 13 (index
    // 2) is overloaded. The kernel's probe k looks at hash(addr, port, k +
    // home) = k + 2*home. For home < 128 with home % 5 == 2, 2*home % 5 == 4,
    // so the first probe already lands on 15; walking home+1 would find 14.
    const { svc, by } = makeSvc('sh', ['11', '12', '13', '14', '15'].map((name) => ({ name })), { shFallback: true });
    by['13']!.overloaded = true;
    let checked = 0;
    for (const c of clients(3000, 77)) {
      const home = shBucket(c, 0, 0);
      if (home >= 128 || home % 5 !== 2) continue;
      expect(pickName(svc, pkt(c))).toBe('15');
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('sh-port hashes client address + port for TCP/UDP, and only the address otherwise', () => {
    const ds = [{ name: '11' }, { name: '12' }, { name: '13' }, { name: '14' }];
    const plain = makeSvc('sh', ds).svc;
    const port = makeSvc('sh', ds, { shPort: true }).svc;
    const c = ip('172.16.3.4');
    const byPort = new Set<string | null>();
    const byPlain = new Set<string | null>();
    for (let p = 1024; p < 1124; p++) {
      byPort.add(pickName(port, pkt(c, p)));
      byPort.add(pickName(port, pkt(c, p, undefined, IPPROTO_UDP)));
      byPlain.add(pickName(plain, pkt(c, p)));
    }
    expect(byPlain.size).toBe(1);
    expect(byPort.size).toBe(4);
    // same port, same dest
    expect(pickName(port, pkt(c, 5555))).toBe(pickName(port, pkt(c, 5555)));
    // ICMP has no port: every "port" lands where port 0 does
    const icmp = new Set<string | null>();
    for (let p = 1024; p < 1124; p++) icmp.add(pickName(port, pkt(c, p, undefined, IPPROTO_ICMP)));
    expect(icmp).toEqual(new Set([pickName(plain, pkt(c))]));
  });

  it('a removed dest gives its buckets to the others', () => {
    const { svc, by } = makeSvc('sh', [{ name: '11' }, { name: '12' }]);
    svc.removeDest(by['11']!);
    for (const c of clients(100)) expect(pick(svc, pkt(c))).toBe(by['12']);
  });
});
