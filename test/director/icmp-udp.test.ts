// NAT UDP both ways; ICMP echo answered for a VIP and for the director's
// address; ICMP errors about connections translated both ways (outer header,
// quoted header and quoted ports); TTL expiry on routed packets.
import { describe, expect, it } from 'vitest';
import { checksum } from '../../src/wire/checksum.js';
import { eth } from '../../src/wire/builder.js';
import { expectFrames, Rig } from './harness.js';
import { pad60, tcpFrame, udpFrame, type UdpSpec } from './frames.js';
import { CLIENT, NAT, natConfig } from './topo.js';

const cfg = natConfig({
  services: [
    { port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] },
    { proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353 }] },
  ],
});

const query = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 33333, dport: 53, ttl: 60, id: 5, payload: 'who is rs?' };
// one TTL less toward the real server too (decrement_ttl)
const queryAtRs = { ...query, smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 5353, ttl: 59 };
const answer = { smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 5353, dport: 33333, ttl: 64, id: 6, payload: 'rs1' };
const answerAtClient = { ...answer, smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, sport: 53, ttl: 63 };

/** Checks each checksum of an ICMP error frame from scratch: outer IP, ICMP, quoted IP header. */
function expectIcmpChecksumsValid(f: Uint8Array): void {
  const ip = 14;
  const ihl = (f[ip]! & 15) * 4;
  const total = (f[ip + 2]! << 8) | f[ip + 3]!;
  const icmp = ip + ihl;
  const q = icmp + 8;
  const qihl = (f[q]! & 15) * 4;
  expect([checksum(f, ip, ihl), checksum(f, icmp, total - ihl), checksum(f, q, qihl)]).toEqual([0, 0, 0]);
}

describe('NAT UDP', () => {
  it('a query goes to the real server port with TTL-1, the answer comes back from VIP:53 with TTL-1', () => {
    const rig = new Rig(cfg);
    expectFrames(rig.in(0, pad60(udpFrame(query)), 1), [{ port: 1, bytes: udpFrame(queryAtRs) }]);
    expectFrames(rig.in(1, pad60(udpFrame(answer)), 2), [{ port: 0, bytes: udpFrame(answerAtClient) }]);
    expect(rig.d.services.all[1]!.dests[0]!.stats.inpkts).toBe(1);
    expect(rig.drops()).toEqual({});
  });

  it('a UDP checksum of 0 (none) leaves computed in full, both ways, as udp_dnat_handler/udp_snat_handler do', () => {
    const rig = new Rig(cfg);
    const mk = (o: UdpSpec) => eth({ src: o.smac, dst: o.dmac })
      .ipv4({ src: o.src, dst: o.dst, ttl: o.ttl, id: o.id }).udp({ sport: o.sport, dport: o.dport, payload: o.payload, checksum: 0 }).build();
    // udpFrame computes the checksum from scratch
    expectFrames(rig.in(0, pad60(mk(query)), 1), [{ port: 1, bytes: udpFrame(queryAtRs) }]);
    expectFrames(rig.in(1, pad60(mk(answer)), 2), [{ port: 0, bytes: udpFrame(answerAtClient) }]);
  });

  it('a UDP port of the VIP with no service gets port-unreachable from the VIP', () => {
    const rig = new Rig(cfg);
    const q = { ...query, dport: 54 };
    const out = rig.in(0, pad60(udpFrame(q)), 1);
    const err = eth({ src: NAT.outMac, dst: NAT.routerMac })
      .ipv4({ src: NAT.vip, dst: CLIENT, tos: 0xc0, ttl: 64, id: 1 })
      .icmp({ type: 3, code: 3, quote: 548 })
      .payload(udpFrame(q).subarray(14))
      .build();
    expectFrames(out, [{ port: 0, bytes: err }]);
    expect(rig.drops()).toEqual({ 'no-service': 1 });
  });
});

describe('ICMP echo', () => {
  const ping = (dst: string, smac: string, dmac: string, src: string) =>
    eth({ src: smac, dst: dmac }).ipv4({ src, dst, ttl: 61, id: 42, flags: 'DF' }).icmp({ type: 8, id: 0xbeef, seq: 3, payload: 'abcdefgh' }).build();
  const pong = (src: string, smac: string, dmac: string, dst: string) =>
    eth({ src: smac, dst: dmac }).ipv4({ src, dst, ttl: 64, id: 42 }).icmp({ type: 0, id: 0xbeef, seq: 3, payload: 'abcdefgh' }).build();

  it('to the VIP: the reply comes from the VIP on the port it was asked on', () => {
    const rig = new Rig(cfg);
    const out = rig.in(0, pad60(ping(NAT.vip, NAT.routerMac, NAT.outMac, CLIENT)), 1);
    expectFrames(out, [{ port: 0, bytes: pong(NAT.vip, NAT.outMac, NAT.routerMac, CLIENT) }]);
  });

  it('to the director inside address from a real server', () => {
    const rig = new Rig(cfg);
    const out = rig.in(1, pad60(ping(NAT.inAddr, NAT.rs1Mac, NAT.inMac, NAT.rs1)), 1);
    expectFrames(out, [{ port: 1, bytes: pong(NAT.inAddr, NAT.inMac, NAT.rs1Mac, NAT.rs1) }]);
  });

  it('an echo request with a bad ICMP checksum is not answered', () => {
    const rig = new Rig(cfg);
    const bad = eth({ src: NAT.routerMac, dst: NAT.outMac }).ipv4({ src: CLIENT, dst: NAT.vip })
      .icmp({ type: 8, id: 1, seq: 1, checksum: 0x1234 }).build();
    expect(rig.in(0, pad60(bad), 1)).toEqual([]);
    expect(rig.drops()).toEqual({ 'malformed-icmp': 1 });
  });
});

describe('ICMP errors about NAT connections', () => {
  it('client-side port-unreachable about a reply: outer destination and quoted source become the real server', () => {
    const rig = new Rig(cfg);
    rig.in(0, pad60(udpFrame(query)), 1);
    rig.in(1, udpFrame(answer), 2);
    // the client's host says "port 33333 unreachable", quoting the answer as it received it
    const quotedAtClient = udpFrame({ ...answerAtClient, ttl: 58 }).subarray(14);
    const quotedAtRs = udpFrame({ ...answer, ttl: 58 }).subarray(14);
    for (const quote of [undefined, 28]) {
      const err = eth({ src: NAT.routerMac, dst: NAT.outMac })
        .ipv4({ src: CLIENT, dst: NAT.vip, ttl: 55, id: 900, tos: 0xc0 })
        .icmp({ type: 3, code: 3, ...(quote ? { quote } : {}) }).payload(quotedAtClient).build();
      const want = eth({ src: NAT.inMac, dst: NAT.rs1Mac })
        .ipv4({ src: CLIENT, dst: NAT.rs1, ttl: 54, id: 900, tos: 0xc0 })
        .icmp({ type: 3, code: 3, ...(quote ? { quote } : {}) }).payload(quotedAtRs).build();
      const out = rig.in(0, pad60(err), 3);
      expectFrames(out, [{ port: 1, bytes: want }]);
      expectIcmpChecksumsValid(out[0]!.bytes);
    }
    expect(rig.drops()).toEqual({});
  });

  it('real-server-side frag-needed about a client packet: to the client, from the VIP, quoting VIP:vport', () => {
    const rig = new Rig(cfg);
    const syn = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 40001, dport: 80, flags: 'S', seq: 7, ttl: 57, id: 11 };
    rig.in(0, pad60(tcpFrame(syn)), 1);
    const seg = { ...syn, flags: 'PA', seq: 8, ack: 1, payload: 'z'.repeat(100) };
    rig.in(0, tcpFrame(seg), 2);
    // a router on the inside (here the real server itself) cannot pass the packet as the director sent it
    const asSent = tcpFrame({ ...seg, smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 8080 }).subarray(14);
    const asClientSentIt = tcpFrame(seg).subarray(14);
    const err = eth({ src: NAT.rs1Mac, dst: NAT.inMac })
      .ipv4({ src: NAT.rs1, dst: CLIENT, ttl: 64, id: 300, tos: 0xc0 })
      .icmp({ type: 3, code: 4, mtu: 1400, quote: 28 }).payload(asSent).build();
    const want = eth({ src: NAT.outMac, dst: NAT.routerMac })
      .ipv4({ src: NAT.vip, dst: CLIENT, ttl: 63, id: 300, tos: 0xc0 })
      .icmp({ type: 3, code: 4, mtu: 1400, quote: 28 }).payload(asClientSentIt).build();
    const out = rig.in(1, err, 3);
    expectFrames(out, [{ port: 0, bytes: want }]);
    expectIcmpChecksumsValid(out[0]!.bytes);
    expect(rig.drops()).toEqual({});
  });

  it('an error about no known connection, sent to the VIP, is dropped and counted', () => {
    const rig = new Rig(cfg);
    const stray = eth({ src: NAT.routerMac, dst: NAT.outMac }).ipv4({ src: CLIENT, dst: NAT.vip })
      .icmp({ type: 3, code: 3 }).payload(udpFrame({ ...answerAtClient, dport: 1 }).subarray(14)).build();
    expect(rig.in(0, stray, 1)).toEqual([]);
    expect(rig.drops()).toEqual({ 'icmp-error-no-conn': 1 });
  });
});

describe('TTL expiry', () => {
  it('a routed packet with TTL 1 gets time-exceeded from the ingress port address, quoting it as received', () => {
    const rig = new Rig(cfg);
    const p = udpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.other, sport: 1, dport: 33434, ttl: 1, id: 8, payload: 'traceroute' });
    const want = eth({ src: NAT.outMac, dst: NAT.routerMac })
      .ipv4({ src: NAT.outAddr, dst: CLIENT, tos: 0xc0, ttl: 64, id: 1 })
      .icmp({ type: 11, code: 0, quote: 548 }).payload(p.subarray(14)).build();
    expectFrames(rig.in(0, pad60(p), 1), [{ port: 0, bytes: want }]);
    expect(rig.drops()).toEqual({ 'ttl-exceeded': 1 });
  });

  it('with TTL 2 the same packet is routed to the inside host, TTL 1', () => {
    const rig = new Rig(cfg);
    const spec = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.other, sport: 1, dport: 33434, ttl: 2, id: 8, payload: 'traceroute' };
    expectFrames(rig.in(0, pad60(udpFrame(spec)), 1), [{ port: 1, bytes: udpFrame({ ...spec, smac: NAT.inMac, dmac: NAT.otherMac, ttl: 1 }) }]);
  });

  it('a NAT reply with TTL 1: time-exceeded back to the real server, from the inside address', () => {
    const rig = new Rig(cfg);
    rig.in(0, pad60(udpFrame(query)), 1);
    const r = udpFrame({ ...answer, ttl: 1 });
    const want = eth({ src: NAT.inMac, dst: NAT.rs1Mac })
      .ipv4({ src: NAT.inAddr, dst: NAT.rs1, tos: 0xc0, ttl: 64, id: 1 })
      .icmp({ type: 11, code: 0, quote: 548 }).payload(r.subarray(14)).build();
    expectFrames(rig.in(1, r, 2), [{ port: 1, bytes: want }]);
    expect(rig.drops()).toEqual({ 'ttl-exceeded': 1 });
  });
});
