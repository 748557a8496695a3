// ipvsadm -Z: a service's counters, or every service's and the totals
// (the kernel's ip_vs_zero_all zeroes its global stats too).
import { describe, expect, it } from 'vitest';
import { Rig } from './harness.js';
import { tcpFrame } from './frames.js';
import { CLIENT, NAT, natConfig } from './topo.js';

describe('Mutations.zero', () => {
  it('zeroes the totals only when every service is zeroed', () => {
    const rig = new Rig(natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 80 }] }, { port: 81, dests: [{ addr: NAT.rs2, port: 81 }] }] }));
    const syn = (dport: number) => tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 40000 + dport, dport, flags: 'S', seq: 1 });
    rig.in(0, syn(80), 1);
    rig.in(0, syn(81), 2);
    const d = rig.d;
    expect([d.totals.conns, d.totals.inpkts]).toEqual([2, 2]);
    const [a] = d.services.all;
    d.mutate.zero(a);
    expect(a!.stats.inpkts).toBe(0);
    expect(d.totals.inpkts).toBe(2);
    d.mutate.zero();
    expect([d.totals.conns, d.totals.inpkts, d.totals.inbytes]).toEqual([0, 0, 0]);
  });
});
