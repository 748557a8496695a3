// LVS-NAT for IPv6: a TCP connection from SYN to FIN both ways (destination
// address and port rewritten on the way in, source back to the VIP on the way
// out with one hop less, the checksums patched through the pseudo-header),
// UDP (a datagram without checksum gets one, as IPVS computes it), ICMPv6
// errors about a connection from either side, packet-too-big before the
// rewrite, port-unreachable when no real server is left. Every expected frame
// is built from scratch with the packet builder.
import { describe, expect, it } from 'vitest';
import { TCP_STATE_NAMES } from '../../src/conn/tcp-states.js';
import { eth } from '../../src/wire/builder.js';
import { expectDropped, expectFrames, Rig } from './harness.js';
import { pad60 } from './frames.js';
import {
  CLIENT6, CLIENT6B, ip6, ipPart, NAT6, nat6Config, tcp6Frame, udp6Frame, type Tcp6Spec, type Udp6Spec,
} from './topo6.js';

const CPORT = 40000;
type Step = { flags: string; seq: number; ack: number; payload?: string };

function fromClient(s: Step): Tcp6Spec {
  return { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: CPORT, dport: 80, hopLimit: 57, tc: 0x28, flowLabel: 0x12345, ...s };
}
function toServer(s: Step): Tcp6Spec {
  // the destination address and port change, and one hop goes (decrement_ttl, Linux 5.2+)
  return { smac: NAT6.inMac, dmac: NAT6.rs1Mac, src: CLIENT6, dst: NAT6.rs1, sport: CPORT, dport: 8080, hopLimit: 56, tc: 0x28, flowLabel: 0x12345, ...s };
}
function fromServer(s: Step): Tcp6Spec {
  return { smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 8080, dport: CPORT, hopLimit: 64, flowLabel: 0xabcde, ...s };
}
function toClient(s: Step): Tcp6Spec {
  return { smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, dst: CLIENT6, sport: 80, dport: CPORT, hopLimit: 63, flowLabel: 0xabcde, ...s };
}

const tcpCfg = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }] });
const udpCfg = nat6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT6.rs1, port: 5353 }] }] });

describe('NAT6: a TCP connection from SYN to FIN', () => {
  it('rewrites each segment both ways and walks the state table', () => {
    const rig = new Rig(tcpCfg);
    const dest = rig.d.services.all[0]!.dests[0]!;
    const state = () => {
      const slot = rig.d.conns.lookupIn6(6, ip6(CLIENT6), 0, CPORT, ip6(NAT6.vip), 0, 80, 0);
      return slot < 0 ? 'none' : TCP_STATE_NAMES[rig.d.conns.state[slot]!];
    };
    const steps: ['in' | 'out', Step, string, number[]][] = [
      ['in', { flags: 'S', seq: 1000, ack: 0 }, 'SYN_RECV', [1, 0]],
      ['out', { flags: 'SA', seq: 5000, ack: 1001 }, 'SYN_RECV', [1, 0]],
      ['in', { flags: 'A', seq: 1001, ack: 5001 }, 'ESTABLISHED', [1, 0]],
      ['in', { flags: 'PA', seq: 1001, ack: 5001, payload: 'GET / HTTP/1.0\r\n\r\n' }, 'ESTABLISHED', [1, 0]],
      ['out', { flags: 'PA', seq: 5001, ack: 1019, payload: 'HTTP/1.0 200 OK\r\n\r\nrs1' }, 'ESTABLISHED', [1, 0]],
      ['in', { flags: 'FA', seq: 1019, ack: 5024 }, 'CLOSE_WAIT', [0, 1]],
      ['out', { flags: 'FA', seq: 5024, ack: 1020 }, 'TIME_WAIT', [0, 1]],
      ['in', { flags: 'A', seq: 1020, ack: 5025 }, 'TIME_WAIT', [0, 1]],
    ];
    let t = 1000;
    let inBytes = 0;
    let outBytes = 0;
    for (const [dir, seg, st, c] of steps) {
      t += 10;
      if (dir === 'in') {
        const f = tcp6Frame(fromClient(seg));
        inBytes += f.length - 14;
        expectFrames(rig.in(0, f, t), [{ port: 1, bytes: tcp6Frame(toServer(seg)) }]);
      } else {
        const f = tcp6Frame(fromServer(seg));
        outBytes += f.length - 14;
        expectFrames(rig.in(1, f, t), [{ port: 0, bytes: tcp6Frame(toClient(seg)) }]);
      }
      expect([seg.flags, state(), dest.activeConns, dest.inactConns]).toEqual([seg.flags, st, ...c]);
    }
    expect(rig.drops()).toEqual({});
    // IPVS counts the IP length: 40 + payload length
    expect([dest.stats.inpkts, dest.stats.outpkts, dest.stats.inbytes, dest.stats.outbytes]).toEqual([5, 3, inBytes, outBytes]);
  });

  it('keeps TCP options and odd-length payloads, with checksums as a from-scratch computation gives them', () => {
    const rig = new Rig(tcpCfg);
    const opts = [2, 4, 0x05, 0xa0, 1, 3, 3, 7, 4, 2, 1, 1]; // MSS 1440, NOP, wscale 7, SACK-permitted, NOP, NOP
    const syn = { flags: 'S', seq: 0xfffffff0, ack: 0 };
    expectFrames(rig.in(0, tcp6Frame({ ...fromClient(syn), options: opts }), 1), [{ port: 1, bytes: tcp6Frame({ ...toServer(syn), options: opts }) }]);
    const seg = { flags: 'PA', seq: 7, ack: 0xfffffff1, payload: 'odd' };
    expectFrames(rig.in(1, tcp6Frame(fromServer(seg)), 2), [{ port: 0, bytes: tcp6Frame(toClient(seg)) }]);
  });

  it('a segment that is not a SYN opens nothing; two clients get two conns', () => {
    const rig = new Rig(nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }, { addr: NAT6.rs2, port: 8080 }] }] }));
    expectDropped(rig, rig.in(0, tcp6Frame(fromClient({ flags: 'A', seq: 1, ack: 1 })), 1), 'no-conn-not-syn');
    // rr over the newest-first list: rs2, then rs1
    const syn = { flags: 'S', seq: 1, ack: 0 };
    expectFrames(rig.in(0, tcp6Frame(fromClient(syn)), 2), [{ port: 1, bytes: tcp6Frame({ ...toServer(syn), dst: NAT6.rs2, dmac: NAT6.rs2Mac }) }]);
    expectFrames(rig.in(0, tcp6Frame({ ...fromClient(syn), src: CLIENT6B }), 3), [{ port: 1, bytes: tcp6Frame({ ...toServer(syn), src: CLIENT6B }) }]);
  });

  it('a reply with hop limit 1 is not forwarded: time exceeded goes back to the real server from the inside address', () => {
    const rig = new Rig(tcpCfg);
    rig.in(0, tcp6Frame(fromClient({ flags: 'S', seq: 1, ack: 0 })), 1);
    const reply = tcp6Frame({ ...fromServer({ flags: 'SA', seq: 9, ack: 2 }), hopLimit: 1 });
    const out = rig.in(1, reply, 2);
    const te = eth({ src: NAT6.inMac, dst: NAT6.rs1Mac }).ipv6({ src: NAT6.inAddr, dst: NAT6.rs1, hopLimit: 64 })
      .icmpv6({ type: 3, code: 0 }).payload(ipPart(reply)).build();
    expectFrames(out, [{ port: 1, bytes: te }]);
    expect(rig.drops()).toEqual({ 'ttl-exceeded': 1 });
  });

  it('packet too big for the inside link: told to the client from the VIP, about its packet before any rewrite but the hop taken', () => {
    const rig = new Rig(nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }], insideMtu: 1280 }));
    const syn = { flags: 'S', seq: 1, ack: 0 };
    rig.in(0, tcp6Frame(fromClient(syn)), 1);
    const big = { flags: 'PA', seq: 2, ack: 1, payload: 'x'.repeat(1280 - 40 - 20 + 1) };
    const f = tcp6Frame(fromClient(big));
    // decrement_ttl runs before the MTU check: the quote has one hop less
    const ptb = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.vip, dst: CLIENT6, hopLimit: 64 })
      .icmpv6({ type: 2, mtu: 1280 }).payload(ipPart(tcp6Frame({ ...fromClient(big), hopLimit: 56 })).subarray(0, 1232)).build();
    expectFrames(rig.in(0, f, 2), [{ port: 0, bytes: ptb }]);
    expect(rig.drops()).toEqual({ 'frag-needed': 1 });
    // one that fits goes through
    const fits = { ...big, payload: 'y'.repeat(1280 - 40 - 20) };
    expectFrames(rig.in(0, tcp6Frame(fromClient(fits)), 3), [{ port: 1, bytes: tcp6Frame(toServer(fits)) }]);
  });
});

describe('NAT6: UDP', () => {
  const q: Udp6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 1111, dport: 53, hopLimit: 60, payload: 'query?' };
  const atRs: Udp6Spec = { ...q, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 5353, hopLimit: 59 };
  const r: Udp6Spec = { smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 5353, dport: 1111, hopLimit: 64, payload: 'answer!' };
  const atClient: Udp6Spec = { ...r, smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, sport: 53, hopLimit: 63 };

  it('query and answer, rewritten both ways', () => {
    const rig = new Rig(udpCfg);
    expectFrames(rig.in(0, udp6Frame(q), 1), [{ port: 1, bytes: udp6Frame(atRs) }]);
    expectFrames(rig.in(1, udp6Frame(r), 2), [{ port: 0, bytes: udp6Frame(atClient) }]);
    expect(rig.drops()).toEqual({});
  });

  it('a datagram without checksum (invalid over IPv6) gets a full one on the way through, as IPVS computes it', () => {
    const rig = new Rig(udpCfg);
    expectFrames(rig.in(0, udp6Frame({ ...q, checksum: 0 }), 1), [{ port: 1, bytes: udp6Frame(atRs) }]);
    expectFrames(rig.in(1, udp6Frame({ ...r, checksum: 0 }), 2), [{ port: 0, bytes: udp6Frame(atClient) }]);
  });

  it('a checksum that a rewrite makes 0 goes out as 0xffff', () => {
    // a two-byte payload whose datagram to the real server sums to 0x0000 (a field of 0xffff): one exists
    let payload: Uint8Array | undefined;
    for (let w = 0; w < 0x10000 && payload === undefined; w++) {
      const p = Uint8Array.of(w >>> 8, w & 0xff);
      const f = udp6Frame({ ...atRs, payload: p });
      if (f[14 + 40 + 6] === 0xff && f[14 + 40 + 7] === 0xff) payload = p;
    }
    expect(payload).toBeDefined();
    const rig = new Rig(udpCfg);
    const out = rig.in(0, udp6Frame({ ...q, payload: payload! }), 1);
    expectFrames(out, [{ port: 1, bytes: udp6Frame({ ...atRs, payload: payload! }) }]);
    expect(Array.from(out[0]!.bytes.subarray(14 + 40 + 6, 14 + 40 + 8))).toEqual([0xff, 0xff]);
  });

  it('no real server left: port unreachable from the VIP (ip_vs_leave), quoting the datagram', () => {
    const rig = new Rig(nat6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT6.rs1, port: 5353, weight: 0 }] }] }));
    const f = udp6Frame(q);
    const unreach = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.vip, dst: CLIENT6, hopLimit: 64 })
      .icmpv6({ type: 1, code: 4 }).payload(ipPart(f)).build();
    expectFrames(rig.in(0, f, 1), [{ port: 0, bytes: unreach }]);
    expect(rig.drops()).toEqual({ 'no-real-server': 1 });
  });

  it('a VIP port with no service answers UDP with port unreachable; TCP is dropped', () => {
    const rig = new Rig(udpCfg);
    const f = udp6Frame({ ...q, dport: 54 });
    const unreach = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.vip, dst: CLIENT6, hopLimit: 64 })
      .icmpv6({ type: 1, code: 4 }).payload(ipPart(f)).build();
    expectFrames(rig.in(0, f, 1), [{ port: 0, bytes: unreach }]);
    expect(rig.drops()).toEqual({ 'no-service': 1 });
  });
});

describe('NAT6: ICMPv6 errors about a connection', () => {
  it('from the client side (about VIP -> client): to the real server, quoted source and port back to the real server', () => {
    const rig = new Rig(tcpCfg);
    rig.in(0, tcp6Frame(fromClient({ flags: 'S', seq: 1, ack: 0 })), 1);
    const sent = tcp6Frame(toClient({ flags: 'SA', seq: 9, ack: 2 }));
    // the quoted packet as the client got it (one hop less), its addresses and port the real server's again
    const quotedAtRs = tcp6Frame({ ...fromServer({ flags: 'SA', seq: 9, ack: 2 }), hopLimit: 63 });
    const err = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip, hopLimit: 58 })
      .icmpv6({ type: 1, code: 4 }).payload(ipPart(sent)).build();
    const want = eth({ src: NAT6.inMac, dst: NAT6.rs1Mac }).ipv6({ src: CLIENT6, dst: NAT6.rs1, hopLimit: 57 })
      .icmpv6({ type: 1, code: 4 }).payload(ipPart(quotedAtRs)).build();
    expectFrames(rig.in(0, err, 2), [{ port: 1, bytes: want }]);
    expect(rig.drops()).toEqual({});
  });

  it('from the real server side (about client -> real server): to the client from the VIP, quoted destination back to VIP:port', () => {
    const rig = new Rig(udpCfg);
    const q: Udp6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 1111, dport: 53, hopLimit: 60, payload: 'query?' };
    rig.in(0, udp6Frame(q), 1);
    const atRs = udp6Frame({ ...q, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 5353 });
    const err = eth({ src: NAT6.rs1Mac, dst: NAT6.inMac }).ipv6({ src: NAT6.rs1, dst: CLIENT6, hopLimit: 64 })
      .icmpv6({ type: 1, code: 4 }).payload(ipPart(atRs)).build();
    const want = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.vip, dst: CLIENT6, hopLimit: 63 })
      .icmpv6({ type: 1, code: 4 }).payload(ipPart(udp6Frame(q))).build();
    expectFrames(rig.in(1, err, 2), [{ port: 0, bytes: want }]);
    expect(rig.drops()).toEqual({});
  });

  it('a quote cut before the transport checksum: only the port changes there', () => {
    const rig = new Rig(tcpCfg);
    rig.in(0, tcp6Frame(fromClient({ flags: 'S', seq: 1, ack: 0 })), 1);
    const sent = ipPart(tcp6Frame(toClient({ flags: 'SA', seq: 9, ack: 2 }))).subarray(0, 40 + 8);
    const atRs = ipPart(tcp6Frame({ ...fromServer({ flags: 'SA', seq: 9, ack: 2 }), hopLimit: 63 })).subarray(0, 40 + 8);
    const err = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip }).icmpv6({ type: 1, code: 3 }).payload(sent).build();
    const want = eth({ src: NAT6.inMac, dst: NAT6.rs1Mac }).ipv6({ src: CLIENT6, dst: NAT6.rs1, hopLimit: 63 }).icmpv6({ type: 1, code: 3 }).payload(atRs).build();
    expectFrames(rig.in(0, err, 2), [{ port: 1, bytes: want }]);
  });

  it('an error with a bad ICMPv6 checksum is not made whole', () => {
    const rig = new Rig(tcpCfg);
    rig.in(0, tcp6Frame(fromClient({ flags: 'S', seq: 1, ack: 0 })), 1);
    const sent = tcp6Frame(toClient({ flags: 'SA', seq: 9, ack: 2 }));
    const err = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip })
      .icmpv6({ type: 1, code: 4, checksum: 0x1234 }).payload(ipPart(sent)).build();
    expectDropped(rig, rig.in(0, err, 2), 'malformed-icmp');
  });

  it('an error about no connection, sent to the VIP, is dropped as such', () => {
    const rig = new Rig(tcpCfg);
    const sent = tcp6Frame(toClient({ flags: 'SA', seq: 9, ack: 2 }));
    const err = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip }).icmpv6({ type: 1, code: 4 }).payload(ipPart(sent)).build();
    expectDropped(rig, rig.in(0, err, 2), 'icmp-error-no-conn');
  });
});

describe('NAT6: routed traffic', () => {
  const toOther: Tcp6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.other, sport: 5, dport: 22, flags: 'S', hopLimit: 9 };

  it('a packet for no service is routed with one hop less', () => {
    const rig = new Rig(tcpCfg);
    expectFrames(rig.in(0, tcp6Frame(toOther), 1), [{ port: 1, bytes: tcp6Frame({ ...toOther, smac: NAT6.inMac, dmac: NAT6.otherMac, hopLimit: 8 }) }]);
  });

  it('hop limit 1: time exceeded to the sender, from the ingress port\'s address', () => {
    const rig = new Rig(tcpCfg);
    const f = tcp6Frame({ ...toOther, hopLimit: 1 });
    const te = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.outAddr, dst: CLIENT6 }).icmpv6({ type: 3, code: 0 }).payload(ipPart(f)).build();
    expectFrames(rig.in(0, f, 1), [{ port: 0, bytes: te }]);
    expect(rig.drops()).toEqual({ 'ttl-exceeded': 1 });
  });

  it('too big for the inside link: packet too big with that link\'s MTU, from the outside address', () => {
    const rig = new Rig(nat6Config({ services: [], insideMtu: 1280 }));
    const f = tcp6Frame({ ...toOther, payload: 'z'.repeat(1300) });
    const ptb = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.outAddr, dst: CLIENT6 })
      .icmpv6({ type: 2, mtu: 1280 }).payload(ipPart(f).subarray(0, 1232)).build();
    expectFrames(rig.in(0, f, 1), [{ port: 0, bytes: ptb }]);
    expect(rig.drops()).toEqual({ 'frag-needed': 1 });
  });

  it('link-local addresses are not routed', () => {
    const rig = new Rig(tcpCfg);
    expectDropped(rig, rig.in(0, tcp6Frame({ ...toOther, dst: 'fe80::99' }), 1), 'ipv6-link-local-not-routed');
  });

  it('a martian source (one of ours, multicast) is dropped', () => {
    const rig = new Rig(tcpCfg);
    expectDropped(rig, rig.in(0, tcp6Frame({ ...toOther, src: NAT6.vip }), 1), 'martian-source');
    const before = rig.drops();
    expectDropped(rig, rig.in(0, tcp6Frame({ ...toOther, src: 'ff02::1' }), 2), 'martian-source', before);
  });

  it('Ethernet padding is not forwarded', () => {
    const rig = new Rig(tcpCfg);
    const syn = { flags: 'S', seq: 1, ack: 0 };
    const f = tcp6Frame(fromClient(syn));
    const padded = new Uint8Array(f.length + 6);
    padded.set(f);
    expectFrames(rig.in(0, padded, 1), [{ port: 1, bytes: tcp6Frame(toServer(syn)) }]);
    expect(pad60(f)).toBe(f); // an IPv6 TCP frame is over 60 bytes anyway
  });
});

describe('NAT6: ICMPv6 echo', () => {
  const req = (dst: string, src = CLIENT6, smac = NAT6.routerMac) =>
    eth({ src: smac, dst: NAT6.outMac }).ipv6({ src, dst, hopLimit: 50, tc: 0x10 }).icmpv6({ type: 128, id: 0x77, seq: 3, payload: 'ping!' }).build();
  const rep = (src: string, dst = CLIENT6, dmac = NAT6.routerMac) =>
    eth({ src: NAT6.outMac, dst: dmac }).ipv6({ src, dst, hopLimit: 64, tc: 0x10 }).icmpv6({ type: 129, id: 0x77, seq: 3, payload: 'ping!' }).build();

  it('to the VIP, to the port address and to its link-local address: answered from the address asked', () => {
    const rig = new Rig(tcpCfg);
    expectFrames(rig.in(0, req(NAT6.vip), 1), [{ port: 0, bytes: rep(NAT6.vip) }]);
    expectFrames(rig.in(0, req(NAT6.outAddr), 2), [{ port: 0, bytes: rep(NAT6.outAddr) }]);
    expectFrames(rig.in(0, req(NAT6.outLl, 'fe80::fe'), 3), [{ port: 0, bytes: rep(NAT6.outLl, 'fe80::fe') }]);
    expect(rig.drops()).toEqual({});
    expect(rig.d.counters.icmpSent).toBe(3);
  });

  it('a request with a destination options header: the reply carries none', () => {
    const rig = new Rig(tcpCfg);
    const f = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip, hopLimit: 50, tc: 0x10 })
      .destOpts({ options: [1, 4, 0, 0, 0, 0] }).icmpv6({ type: 128, id: 0x77, seq: 3, payload: 'ping!' }).build();
    expectFrames(rig.in(0, f, 1), [{ port: 0, bytes: rep(NAT6.vip) }]);
  });

  it('a request with a bad checksum is dropped', () => {
    const rig = new Rig(tcpCfg);
    const f = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip }).icmpv6({ type: 128, id: 1, seq: 1, checksum: 0xbeef }).build();
    expectDropped(rig, rig.in(0, f, 1), 'malformed-icmp');
  });
});
