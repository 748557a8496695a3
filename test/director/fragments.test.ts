// Fragments follow their first fragment (src/director/fragments.ts): the
// first carries the ports and is scheduled; later ones go to the same real
// server, rewritten at the IP layer only; later ones that arrive first are
// held and released behind it. Each loses one TTL on the way, as every packet
// the kernel's IPVS sends toward a real server.
import { describe, expect, it } from 'vitest';
import { eth, packet } from '../../src/wire/builder.js';
import { expectFrames, Rig } from './harness.js';
import { CLIENT, DR, drConfig, NAT, natConfig } from './topo.js';

interface Dgram {
  smac: string;
  dmac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  id: number;
  ttl: number;
}

const PAYLOAD = Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 3) & 0xff);

/**
 * A UDP datagram (8 + 100 bytes) cut into fragments of 56 and 52 data bytes:
 * the first holds the UDP header, whose checksum covers the whole datagram.
 */
function fragments(d: Dgram): Uint8Array[] {
  const whole = packet().ipv4({ src: d.src, dst: d.dst, id: d.id, ttl: d.ttl }).udp({ sport: d.sport, dport: d.dport, payload: PAYLOAD }).build();
  const data = whole.subarray(20);
  const ip = { src: d.src, dst: d.dst, id: d.id, ttl: d.ttl, protocol: 17 };
  return [
    eth({ src: d.smac, dst: d.dmac }).ipv4({ ...ip, flags: 'MF' }).payload(data.subarray(0, 56)).build(),
    eth({ src: d.smac, dst: d.dmac }).ipv4({ ...ip, fragOffset: 7 }).payload(data.subarray(56)).build(),
  ];
}

describe('NAT fragments', () => {
  const cfg = natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353 }] }] });
  const fromClient: Dgram = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 1111, dport: 53, id: 0x77, ttl: 60 };
  const atRs: Dgram = { ...fromClient, smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 5353, ttl: 59 };

  it('first then later: each rewritten, the transport checksum (in the first) covers the rewritten datagram', () => {
    const rig = new Rig(cfg);
    const [f1, f2] = fragments(fromClient);
    const [w1, w2] = fragments(atRs);
    expectFrames(rig.in(0, f1!, 1), [{ port: 1, bytes: w1! }]);
    expectFrames(rig.in(0, f2!, 2), [{ port: 1, bytes: w2! }]);
    expect(rig.drops()).toEqual({});
  });

  it('later before first: held, then released right after the first', () => {
    const rig = new Rig(cfg);
    const [f1, f2] = fragments(fromClient);
    const [w1, w2] = fragments(atRs);
    expect(rig.in(0, f2!, 1)).toEqual([]);
    expect(rig.d.frags.heldCount).toBe(1);
    expectFrames(rig.in(0, f1!, 2), [{ port: 1, bytes: w1! }, { port: 1, bytes: w2! }]);
    expect(rig.d.frags.heldCount).toBe(0);
    expect(rig.drops()).toEqual({});
  });

  it('a held fragment whose first never comes is dropped on timeout', () => {
    const rig = new Rig(cfg);
    const [, f2] = fragments(fromClient);
    rig.in(0, f2!, 1000);
    rig.tick(1000 + 29_000);
    expect(rig.drops()).toEqual({});
    rig.tick(1000 + 30_000);
    expect(rig.drops()).toEqual({ 'fragment-timeout': 1 });
  });

  it('when the first fragment is dropped, its later fragments are dropped with it (held ones at once, later ones on arrival)', () => {
    // a service whose only real server has weight 0: the first fragment finds no real server
    const rig = new Rig(natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353, weight: 0 }] }] }));
    const a = fragments(fromClient);
    const b = fragments({ ...fromClient, id: 0x78 });
    expect(rig.in(0, a[1]!, 1)).toEqual([]); // held, waiting for its first
    rig.in(0, a[0]!, 2); // dropped: no real server (the client is told port unreachable)
    expect(rig.d.frags.heldCount).toBe(0);
    expect(rig.drops()).toEqual({ 'no-real-server': 1, 'fragment-first-dropped': 1 });
    rig.in(0, b[0]!, 3);
    expect(rig.in(0, b[1]!, 4)).toEqual([]);
    expect(rig.drops()).toEqual({ 'no-real-server': 2, 'fragment-first-dropped': 2 });
  });

  it('a fragmented reply goes back to the client from VIP:53, TTL-1, counted once per frame', () => {
    const rig = new Rig(cfg);
    const q = fragments(fromClient);
    rig.in(0, q[0]!, 1);
    rig.in(0, q[1]!, 2);
    const reply: Dgram = { smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 5353, dport: 1111, id: 0x99, ttl: 64 };
    const atClient: Dgram = { ...reply, smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, sport: 53, ttl: 63 };
    const [r1, r2] = fragments(reply);
    const [w1, w2] = fragments(atClient);
    // the later fragment first, to cover the held path on the way out too
    expect(rig.in(1, r2!, 3)).toEqual([]);
    expectFrames(rig.in(1, r1!, 4), [{ port: 0, bytes: w1! }, { port: 0, bytes: w2! }]);
    const dest = rig.d.services.all[0]!.dests[0]!;
    expect([dest.stats.inpkts, dest.stats.outpkts]).toEqual([2, 2]);
  });
});

describe('DR fragments', () => {
  const cfg = drConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: DR.rs1, port: 53 }, { addr: DR.rs2, port: 53 }] }] });
  const from = (sport: number, id: number): Dgram =>
    ({ smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport, dport: 53, id, ttl: 60 });

  it('all fragments of a datagram reach the real server its first fragment was scheduled to', () => {
    const rig = new Rig(cfg);
    // rr starts at the head of the list, and the kernel adds each dest at the head: rs2 first
    const a = fragments(from(2001, 1));
    const aOut = fragments({ ...from(2001, 1), smac: DR.mac, dmac: DR.rs2Mac, ttl: 59 });
    expectFrames(rig.in(0, a[0]!, 1), [{ port: 0, bytes: aOut[0]! }]);
    expectFrames(rig.in(0, a[1]!, 2), [{ port: 0, bytes: aOut[1]! }]);
    // a new conn goes to rs1, and so do its fragments, even the one that came before its first
    const b = fragments(from(2002, 2));
    const bOut = fragments({ ...from(2002, 2), smac: DR.mac, dmac: DR.rs1Mac, ttl: 59 });
    expect(rig.in(0, b[1]!, 3)).toEqual([]);
    expectFrames(rig.in(0, b[0]!, 4), [{ port: 0, bytes: bOut[0]! }, { port: 0, bytes: bOut[1]! }]);
    expect(rig.drops()).toEqual({});
  });
});
