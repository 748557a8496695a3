// Martian packets, dropped as Linux's ip_route_input drops them before any
// routing or balancing: sources that are multicast, the limited broadcast,
// 0.0.0.0/8 or loopback; destinations in 0.0.0.0/8 or loopback.
import { describe, expect, it } from 'vitest';
import { Rig } from './harness.js';
import { pad60, udpFrame } from './frames.js';
import { CLIENT, NAT, natConfig } from './topo.js';

const cfg = () => natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353 }] }] });
const q = (src: string, dst: string = NAT.vip) => pad60(udpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src, dst, sport: 1000, dport: 53, payload: 'q' }));

describe('martians', () => {
  it.each(['127.0.0.1', '127.9.9.9', '0.0.0.0', '0.1.2.3', '224.0.0.5', '239.255.255.250', '255.255.255.255'])('source %s: dropped, never balanced', (src) => {
    const rig = new Rig(cfg());
    expect(rig.in(0, q(src), 1)).toEqual([]);
    expect(rig.drops()).toEqual({ 'martian-source': 1 });
    expect(rig.d.conns.size).toBe(0);
  });

  it.each(['127.0.0.1', '0.0.0.9'])('destination %s: dropped, never routed', (dst) => {
    const rig = new Rig(cfg());
    expect(rig.in(0, q(CLIENT, dst), 1)).toEqual([]);
    expect(rig.drops()).toEqual({ 'martian-destination': 1 });
  });

  it('an ordinary client (and 240/4, which Linux does not count as martian) goes through', () => {
    const rig = new Rig(cfg());
    expect(rig.in(0, q(CLIENT), 1).length).toBe(1);
    expect(rig.in(0, q('240.0.0.1'), 2).length).toBe(1);
    expect(rig.drops()).toEqual({});
  });
});
