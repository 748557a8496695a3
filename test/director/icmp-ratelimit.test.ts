// ICMP errors are rate-limited like Linux's icmp_msgs_per_sec (1000/s) with
// a burst of 50, on the frames' own clock: a flood to a service with no
// usable real server cannot become a flood of port-unreachables.
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { TokenBucket } from '../../src/net/token-bucket.js';
import { Rig } from './harness.js';
import { CLIENT, NAT, natConfig } from './topo.js';

function query(sport: number): Uint8Array {
  return eth({ src: NAT.routerMac, dst: NAT.outMac })
    .ipv4({ src: CLIENT, dst: NAT.vip, ttl: 60 })
    .udp({ sport, dport: 53, payload: 'q' })
    .build();
}

describe('ICMP error rate limit', () => {
  it('sends 50 port-unreachables at once, then one per ms of the frames\' clock', () => {
    // the only real server has weight 0: every query finds no real server
    const rig = new Rig(natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 53, weight: 0 }] }] }));
    let sent = 0;
    for (let i = 0; i < 60; i++) sent += rig.in(0, query(2000 + i), 1000).length;
    expect(sent).toBe(50);
    expect(rig.d.counters.icmpRateLimited).toBe(10);
    expect(rig.drops()).toEqual({ 'no-real-server': 60 });
    // 5 ms later, 5 tokens have come back
    let later = 0;
    for (let i = 0; i < 10; i++) later += rig.in(0, query(3000 + i), 1005).length;
    expect(later).toBe(5);
  });

  it('refills at the given rate and never above the burst', () => {
    const b = new TokenBucket(1000, 3);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect([b.take(1), b.take(1)]).toEqual([true, false]);
    expect([b.take(1000), b.take(1000), b.take(1000), b.take(1000)]).toEqual([true, true, true, false]);
  });
});
