// ARP: the director answers who-has for a VIP only on the VIP's port and for
// its own addresses; announces its addresses at start; holds frames while a
// next hop resolves and releases them on the reply; gives up after retries.
import { describe, expect, it } from 'vitest';
import { expectFrames, Rig } from './harness.js';
import { arpReply, arpRequest, arpRequestFrom, pad60, tcpFrame } from './frames.js';
import { CLIENT, NAT, natConfig } from './topo.js';

const services = [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }];

describe('ARP', () => {
  it('who-has VIP on the VIP port is answered with the port MAC', () => {
    const rig = new Rig(natConfig({ services }));
    const out = rig.in(0, arpRequest({ smac: NAT.routerMac, sip: NAT.router, tip: NAT.vip }), 1);
    expectFrames(out, [{ port: 0, bytes: arpReply({ smac: NAT.outMac, sip: NAT.vip, dmac: NAT.routerMac, dip: NAT.router }) }]);
    expect(rig.d.counters.arpReplies).toBe(1);
  });

  it('who-has VIP on the other port is not answered', () => {
    const rig = new Rig(natConfig({ services }));
    expect(rig.in(1, arpRequest({ smac: NAT.rs1Mac, sip: NAT.rs1, tip: NAT.vip }), 1)).toEqual([]);
    expect(rig.d.counters.arpReplies).toBe(0);
  });

  it('who-has the director address is answered on its port', () => {
    const rig = new Rig(natConfig({ services }));
    const out = rig.in(1, arpRequest({ smac: NAT.rs2Mac, sip: NAT.rs2, tip: NAT.inAddr }), 1);
    expectFrames(out, [{ port: 1, bytes: arpReply({ smac: NAT.inMac, sip: NAT.inAddr, dmac: NAT.rs2Mac, dip: NAT.rs2 }) }]);
  });

  it('who-has some other host is ignored', () => {
    const rig = new Rig(natConfig({ services }));
    expect(rig.in(1, arpRequest({ smac: NAT.rs2Mac, sip: NAT.rs2, tip: NAT.rs1 }), 1)).toEqual([]);
  });

  it('start announces every port address and VIP with gratuitous ARP', () => {
    const rig = new Rig(natConfig({ services }));
    expectFrames(rig.start(0), [
      { port: 0, bytes: arpRequestFrom({ smac: NAT.outMac, sip: NAT.outAddr, tip: NAT.outAddr }) },
      { port: 0, bytes: arpRequestFrom({ smac: NAT.outMac, sip: NAT.vip, tip: NAT.vip }) },
      { port: 1, bytes: arpRequestFrom({ smac: NAT.inMac, sip: NAT.inAddr, tip: NAT.inAddr }) },
    ]);
  });

  const syn = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 40000, dport: 80, flags: 'S', seq: 1, ttl: 60 };
  const synAtRs = { ...syn, smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 8080, ttl: 59 };
  const whoHasRs1 = arpRequestFrom({ smac: NAT.inMac, sip: NAT.inAddr, tip: NAT.rs1 });

  it('a frame to an unresolved next hop waits for the ARP reply, then goes out', () => {
    const rig = new Rig(natConfig({ services, staticNeighbours: false }));
    expectFrames(rig.in(0, pad60(tcpFrame(syn)), 1000), [{ port: 1, bytes: whoHasRs1 }]);
    // a second frame for the same next hop is held without a second request
    const syn2 = { ...syn, sport: 40001 };
    expect(rig.in(0, pad60(tcpFrame(syn2)), 1001)).toEqual([]);
    const reply = pad60(arpReply({ smac: NAT.rs1Mac, sip: NAT.rs1, dmac: NAT.inMac, dip: NAT.inAddr }));
    expectFrames(rig.in(1, reply, 1002), [
      { port: 1, bytes: tcpFrame(synAtRs) },
      { port: 1, bytes: tcpFrame({ ...synAtRs, sport: 40001 }) },
    ]);
    // now known: the next frame goes straight out
    const syn3 = { ...syn, sport: 40002 };
    expectFrames(rig.in(0, pad60(tcpFrame(syn3)), 1003), [{ port: 1, bytes: tcpFrame({ ...synAtRs, sport: 40002 }) }]);
    expect(rig.drops()).toEqual({});
  });

  it('an unanswered next hop is asked again each retry interval, then its frames are dropped and counted', () => {
    const cfg = natConfig({ services, staticNeighbours: false });
    expect([cfg.options.arpRetries, cfg.options.arpRetryMs]).toEqual([3, 1000]);
    const rig = new Rig(cfg);
    expectFrames(rig.in(0, pad60(tcpFrame(syn)), 1000), [{ port: 1, bytes: whoHasRs1 }]);
    expect(rig.tick(1500)).toEqual([]);
    expectFrames(rig.tick(2000), [{ port: 1, bytes: whoHasRs1 }]);
    expectFrames(rig.tick(3000), [{ port: 1, bytes: whoHasRs1 }]);
    expect(rig.drops()).toEqual({});
    expect(rig.tick(4000)).toEqual([]);
    expect(rig.drops()).toEqual({ 'unresolved-neighbour': 1 });
    // a late reply releases nothing
    const reply = pad60(arpReply({ smac: NAT.rs1Mac, sip: NAT.rs1, dmac: NAT.inMac, dip: NAT.inAddr }));
    expect(rig.in(1, reply, 4100)).toEqual([]);
  });

  it('the hold queue per next hop is bounded and overflow is counted', () => {
    const cfg = natConfig({ services, staticNeighbours: false });
    cfg.options.neighbourQueue = 2;
    const rig = new Rig(cfg);
    for (let i = 0; i < 3; i++) rig.in(0, pad60(tcpFrame({ ...syn, sport: 50000 + i })), 1000 + i);
    expect(rig.drops()).toEqual({ 'neighbour-queue-full': 1 });
    const reply = pad60(arpReply({ smac: NAT.rs1Mac, sip: NAT.rs1, dmac: NAT.inMac, dip: NAT.inAddr }));
    expect(rig.in(1, reply, 1010).length).toBe(2);
  });

  it('an ARP reply from outside the port subnets teaches nothing', () => {
    const rig = new Rig(natConfig({ services, staticNeighbours: false }));
    rig.in(0, pad60(tcpFrame(syn)), 1000);
    // claims rs1's address, but arrives on the outside port whose subnet is 10.0.0.0/24
    const spoof = pad60(arpReply({ smac: '02:66:66:66:66:66', sip: NAT.rs1, dmac: NAT.outMac, dip: NAT.outAddr }));
    expect(rig.in(0, spoof, 1001)).toEqual([]);
    const real = pad60(arpReply({ smac: NAT.rs1Mac, sip: NAT.rs1, dmac: NAT.inMac, dip: NAT.inAddr }));
    expectFrames(rig.in(1, real, 1002), [{ port: 1, bytes: tcpFrame(synAtRs) }]);
  });
});
