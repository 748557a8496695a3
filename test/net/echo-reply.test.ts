// An echo request may reach the director with the broadcast MAC as its
// destination (a host that has not resolved it yet, a ping -b on the LAN).
// The reply is unicast: to the asker's MAC, from the port's own MAC. Its
// source must never be the broadcast address the request was sent to
// (bridges drop such frames: a broadcast MAC is not a valid source).
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { expectFrames, Rig } from '../director/harness.js';
import { pad60 } from '../director/frames.js';
import { CLIENT, NAT, natConfig } from '../director/topo.js';
import { CLIENT6, DR6, dr6Config } from '../director/topo6.js';

const BCAST = 'ff:ff:ff:ff:ff:ff';

describe('echo sent to the broadcast MAC', () => {
  const cfg = natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] });
  const ping = (dst: string, dmac: string) =>
    eth({ src: NAT.routerMac, dst: dmac }).ipv4({ src: CLIENT, dst, ttl: 61, id: 42 }).icmp({ type: 8, id: 7, seq: 1, payload: 'abcdefgh' }).build();
  const pong = (src: string) =>
    eth({ src: NAT.outMac, dst: NAT.routerMac }).ipv4({ src, dst: CLIENT, ttl: 64, id: 42 }).icmp({ type: 0, id: 7, seq: 1, payload: 'abcdefgh' }).build();

  it('IPv4, to the VIP: answered from the port\'s MAC to the asker\'s', () => {
    const rig = new Rig(cfg);
    expectFrames(rig.in(0, pad60(ping(NAT.vip, BCAST)), 1), [{ port: 0, bytes: pong(NAT.vip) }]);
  });

  it('IPv4, to the port address: the same', () => {
    const rig = new Rig(cfg);
    expectFrames(rig.in(0, pad60(ping(NAT.outAddr, BCAST)), 1), [{ port: 0, bytes: pong(NAT.outAddr) }]);
  });

  it('IPv6 is not concerned: a unicast echo in a broadcast frame is not for us, as Linux has it', () => {
    const rig = new Rig(dr6Config({ services: [{ port: 80, dests: [{ addr: DR6.rs1, port: 80 }] }] }));
    const req = eth({ src: DR6.routerMac, dst: BCAST }).ipv6({ src: CLIENT6, dst: DR6.vip, hopLimit: 33 }).icmpv6({ type: 128, id: 9, seq: 1, payload: 'hi' }).build();
    expect(rig.in(0, req, 1)).toEqual([]);
    expect(rig.drops()).toEqual({ 'not-for-us': 1 });
  });
});
