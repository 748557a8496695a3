// LVS-DR and LVS-TUN for IPv6: the director sees only the client's half of
// each connection. DR changes nothing but the MAC addresses (the real
// server's found by neighbour discovery); TUN puts an outer IPv6 header
// (next header 41) from the director to the real server in front of the
// client packet, copying its traffic class and hop limit, flow label 0, as
// ip_vs_tunnel_xmit_v6. Both take one hop off the client's packet first
// (decrement_ttl, Linux 5.2+: hop limit 1 gets time exceeded from the VIP);
// a packet that does not fit gets
// packet-too-big from the VIP with the room inside the tunnel (egress MTU
// less 40). Every expected frame is built from scratch.
import { describe, expect, it } from 'vitest';
import { TCP_STATE_NAMES } from '../../src/conn/tcp-states.js';
import { Director } from '../../src/director/director.js';
import { eth } from '../../src/wire/builder.js';
import { expectFrames, Rig } from './harness.js';
import { CLIENT6, DR6, dr6Config, ip6, ipPart, tcp6Frame, TUN6, tun6Config, udp6Frame, type Tcp6Spec } from './topo6.js';

const CPORT = 41000;
type Step = { flags: string; seq: number; ack: number; payload?: string };

const steps: [Step, string, number[]][] = [
  [{ flags: 'S', seq: 10, ack: 0 }, 'SYN_RECV', [1, 0]],
  [{ flags: 'A', seq: 11, ack: 501 }, 'ESTABLISHED', [1, 0]],
  [{ flags: 'PA', seq: 11, ack: 501, payload: 'GET /\r\n' }, 'ESTABLISHED', [1, 0]],
  // input-only table: the client's FIN moves the conn to FIN_WAIT, inactive
  [{ flags: 'FA', seq: 18, ack: 600 }, 'FIN_WAIT', [0, 1]],
  [{ flags: 'A', seq: 19, ack: 601 }, 'FIN_WAIT', [0, 1]],
];

describe('DR6: only MAC addresses change', () => {
  const cfg = dr6Config({ services: [{ port: 80, dests: [{ addr: DR6.rs1, port: 80 }] }] });
  const client = (s: Step): Tcp6Spec => ({
    smac: DR6.routerMac, dmac: DR6.mac, src: CLIENT6, dst: DR6.vip, sport: CPORT, dport: 80, hopLimit: 50, tc: 0x10, flowLabel: 0x777, ...s,
  });

  it('forwards every client segment to the real server\'s MAC, bytes otherwise untouched', () => {
    const rig = new Rig(cfg);
    const dest = rig.d.services.all[0]!.dests[0]!;
    let t = 0;
    for (const [seg, st, c] of steps) {
      const out = rig.in(0, tcp6Frame(client(seg)), (t += 5));
      expectFrames(out, [{ port: 0, bytes: tcp6Frame({ ...client(seg), smac: DR6.mac, dmac: DR6.rs1Mac, hopLimit: 49 }) }]);
      const slot = rig.d.conns.lookupIn6(6, ip6(CLIENT6), 0, CPORT, ip6(DR6.vip), 0, 80, t);
      expect([seg.flags, TCP_STATE_NAMES[rig.d.conns.state[slot]!], dest.activeConns, dest.inactConns]).toEqual([seg.flags, st, ...c]);
    }
    expect(rig.drops()).toEqual({});
  });

  it('UDP goes the same way', () => {
    const rig = new Rig(dr6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: DR6.rs2, port: 53 }] }] }));
    const q = { smac: DR6.routerMac, dmac: DR6.mac, src: CLIENT6, dst: DR6.vip, sport: 5353, dport: 53, hopLimit: 60, payload: 'query' };
    expectFrames(rig.in(0, udp6Frame(q), 1), [{ port: 0, bytes: udp6Frame({ ...q, smac: DR6.mac, dmac: DR6.rs2Mac, hopLimit: 59 }) }]);
  });

  it('the real server\'s MAC comes from neighbour discovery, solicited from the LAN address\'s link-local', () => {
    const rig = new Rig(dr6Config({ services: [{ port: 80, dests: [{ addr: DR6.rs1, port: 80 }] }], staticNeighbours: false }));
    const syn = client({ flags: 'S', seq: 1, ack: 0 });
    const ns = eth({ src: DR6.mac, dst: '33:33:ff:00:00:11' }).ipv6({ src: DR6.ll, dst: 'ff02::1:ff00:11', hopLimit: 255 })
      .icmpv6({ type: 135, target: DR6.rs1, options: [{ sll: DR6.mac }] }).build();
    expectFrames(rig.in(0, tcp6Frame(syn), 1), [{ port: 0, bytes: ns }]);
    const na = eth({ src: DR6.rs1Mac, dst: DR6.mac }).ipv6({ src: DR6.rs1, dst: DR6.ll, hopLimit: 255 })
      .icmpv6({ type: 136, target: DR6.rs1, flags: 'SO', options: [{ tll: DR6.rs1Mac }] }).build();
    expectFrames(rig.in(0, na, 2), [{ port: 0, bytes: tcp6Frame({ ...syn, smac: DR6.mac, dmac: DR6.rs1Mac, hopLimit: 49 }) }]);
  });

  it('an ICMPv6 error from the client side about the connection goes to the real server as it is', () => {
    const rig = new Rig(cfg);
    rig.in(0, tcp6Frame(client({ flags: 'S', seq: 1, ack: 0 })), 1);
    // what the real server sent the client (from the VIP, straight)
    const sent = tcp6Frame({ smac: DR6.rs1Mac, dmac: DR6.routerMac, src: DR6.vip, dst: CLIENT6, sport: 80, dport: CPORT, flags: 'SA', seq: 500, ack: 2, hopLimit: 63 });
    const err = (smac: string, dmac: string, hopLimit = 55) => eth({ src: smac, dst: dmac }).ipv6({ src: CLIENT6, dst: DR6.vip, hopLimit })
      .icmpv6({ type: 1, code: 4 }).payload(ipPart(sent)).build();
    expectFrames(rig.in(0, err(DR6.routerMac, DR6.mac), 2), [{ port: 0, bytes: err(DR6.mac, DR6.rs1Mac, 54) }]);
  });

  it('echo to the VIP is answered by the director', () => {
    const rig = new Rig(cfg);
    const req = eth({ src: DR6.routerMac, dst: DR6.mac }).ipv6({ src: CLIENT6, dst: DR6.vip, hopLimit: 33 }).icmpv6({ type: 128, id: 9, seq: 1, payload: 'hi' }).build();
    const rep = eth({ src: DR6.mac, dst: DR6.routerMac }).ipv6({ src: DR6.vip, dst: CLIENT6, hopLimit: 64 }).icmpv6({ type: 129, id: 9, seq: 1, payload: 'hi' }).build();
    expectFrames(rig.in(0, req, 1), [{ port: 0, bytes: rep }]);
  });
});

describe('TUN6: IPv6-in-IPv6 to the real server', () => {
  const cfg = tun6Config({ services: [{ port: 80, dests: [{ addr: TUN6.rs1, port: 80 }] }] });
  const client = (s: Step): Tcp6Spec => ({
    smac: TUN6.routerMac, dmac: TUN6.mac, src: CLIENT6, dst: TUN6.vip, sport: CPORT, dport: 80, hopLimit: 50, tc: 0xb8, flowLabel: 0xfedcb, ...s,
  });
  /** The client's packet (one hop less) inside an outer header from the director's address, via the gateway: traffic class and hop limit copied, flow label 0. */
  const tunnelled = (inner: Uint8Array, hopLimit = 49, tc = 0xb8) =>
    eth({ src: TUN6.mac, dst: TUN6.gwMac }).ip6ip6({ src: TUN6.addr, dst: TUN6.rs1, hopLimit, tc }).payload(ipPart(inner)).build();

  it('encapsulates every client segment, the inner packet untouched', () => {
    const rig = new Rig(cfg);
    let t = 0;
    for (const [seg, st] of steps) {
      expectFrames(rig.in(0, tcp6Frame(client(seg)), (t += 5)), [{ port: 0, bytes: tunnelled(tcp6Frame({ ...client(seg), hopLimit: 49 })) }]);
      const slot = rig.d.conns.lookupIn6(6, ip6(CLIENT6), 0, CPORT, ip6(TUN6.vip), 0, 80, t);
      expect([seg.flags, TCP_STATE_NAMES[rig.d.conns.state[slot]!]]).toEqual([seg.flags, st]);
    }
    expect(rig.drops()).toEqual({});
  });

  it('UDP too, to a real server on another network behind the gateway', () => {
    const rig = new Rig(tun6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: TUN6.rs2, port: 53 }] }] }));
    const qs = { smac: TUN6.routerMac, dmac: TUN6.mac, src: CLIENT6, dst: TUN6.vip, sport: 7, dport: 53, hopLimit: 9, payload: 'q' };
    const q = udp6Frame(qs);
    const want = eth({ src: TUN6.mac, dst: TUN6.gwMac }).ip6ip6({ src: TUN6.addr, dst: TUN6.rs2, hopLimit: 8 }).payload(ipPart(udp6Frame({ ...qs, hopLimit: 8 }))).build();
    expectFrames(rig.in(0, q, 1), [{ port: 0, bytes: want }]);
  });

  it('a packet that fits the tunnel exactly (1460 of 1500) goes; one byte more gets packet too big (1460) from the VIP', () => {
    const rig = new Rig(cfg);
    rig.in(0, tcp6Frame(client({ flags: 'S', seq: 1, ack: 0 })), 1);
    const fitsSpec = client({ flags: 'PA', seq: 2, ack: 1, payload: 'a'.repeat(1460 - 40 - 20) });
    const fits = tcp6Frame(fitsSpec);
    expect(fits.length).toBe(14 + 1460);
    expectFrames(rig.in(0, fits, 2), [{ port: 0, bytes: tunnelled(tcp6Frame({ ...fitsSpec, hopLimit: 49 })) }]);
    const bigSpec = client({ flags: 'PA', seq: 2, ack: 1, payload: 'b'.repeat(1460 - 40 - 20 + 1) });
    const big = tcp6Frame(bigSpec);
    // routed back to the client (through the default router); it quotes as much as fits in 1280 bytes, of the
    // packet with its hop already taken (decrement_ttl runs before the MTU check)
    const ptb = eth({ src: TUN6.mac, dst: TUN6.routerMac }).ipv6({ src: TUN6.vip, dst: CLIENT6, hopLimit: 64 })
      .icmpv6({ type: 2, mtu: 1460 }).payload(ipPart(tcp6Frame({ ...bigSpec, hopLimit: 49 })).subarray(0, 1232)).build();
    expectFrames(rig.in(0, big, 3), [{ port: 0, bytes: ptb }]);
    expect(rig.drops()).toEqual({ 'frag-needed': 1 });
  });

  it('packet too big is never below 1280: a link whose MTU leaves less inside is refused by the topology check, as the kernel refuses to tunnel', () => {
    expect(() => new Director(tun6Config({ services: [{ port: 80, dests: [{ addr: TUN6.rs1, port: 80 }] }], mtu: 1300 }), { send() {} }))
      .toThrow(/real server 2001:db8:20:1::5 uses tunnelling \(-i\) through port 'uplink', whose MTU 1300 leaves 1260 bytes inside an IPv6-in-IPv6 packet: below the IPv6 minimum of 1280/);
    // at 1320 the room is exactly 1280: accepted, and a 1281-byte packet is told 1280
    const rig = new Rig(tun6Config({ services: [{ port: 80, dests: [{ addr: TUN6.rs1, port: 80 }] }], mtu: 1320 }));
    rig.in(0, tcp6Frame(client({ flags: 'S', seq: 1, ack: 0 })), 1);
    const big = tcp6Frame(client({ flags: 'PA', seq: 2, ack: 1, payload: 'c'.repeat(1281 - 60) }));
    const out = rig.in(0, big, 2);
    expect(out.length).toBe(1);
    expect(Array.from(out[0]!.bytes.subarray(14 + 40, 14 + 40 + 8))).toEqual([2, 0, out[0]!.bytes[56], out[0]!.bytes[57], 0, 0, 0x05, 0x00]);
  });

  it('a later fragment too big for the tunnel is dropped without a word (the first one was told)', () => {
    const rig = new Rig(tun6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: TUN6.rs1, port: 53 }] }] }));
    const first = eth({ src: TUN6.routerMac, dst: TUN6.mac }).ipv6({ src: CLIENT6, dst: TUN6.vip }).frag({ offset: 0, m: true, id: 1, nextHeader: 17 })
      .payload(Uint8Array.of(0, 7, 0, 53, 0x05, 0xc8, 0, 0, ...new Uint8Array(8))).build();
    const later = eth({ src: TUN6.routerMac, dst: TUN6.mac }).ipv6({ src: CLIENT6, dst: TUN6.vip }).frag({ offset: 2, m: false, id: 1, nextHeader: 17 })
      .payload(new Uint8Array(1440)).build();
    expect(rig.in(0, first, 1).length).toBe(1);
    expect(rig.in(0, later, 2)).toEqual([]);
    expect(rig.drops()).toEqual({ 'frag-needed': 1 });
  });

  it('an ICMPv6 error from the client side about the connection is tunnelled to the real server as it is; echo to the VIP is answered', () => {
    const rig = new Rig(cfg);
    rig.in(0, tcp6Frame(client({ flags: 'S', seq: 1, ack: 0 })), 1);
    const sent = tcp6Frame({ smac: '02:00:00:00:09:09', dmac: TUN6.routerMac, src: TUN6.vip, dst: CLIENT6, sport: 80, dport: CPORT, flags: 'SA', seq: 7, ack: 2 });
    const err = (hopLimit: number) => eth({ src: TUN6.routerMac, dst: TUN6.mac }).ipv6({ src: CLIENT6, dst: TUN6.vip, hopLimit })
      .icmpv6({ type: 1, code: 1 }).payload(ipPart(sent)).build();
    expectFrames(rig.in(0, err(61), 2), [{ port: 0, bytes: tunnelled(err(60), 60, 0) }]);
    const req = eth({ src: TUN6.routerMac, dst: TUN6.mac }).ipv6({ src: CLIENT6, dst: TUN6.vip }).icmpv6({ type: 128, id: 2, seq: 2, payload: 'x' }).build();
    const rep = eth({ src: TUN6.mac, dst: TUN6.routerMac }).ipv6({ src: TUN6.vip, dst: CLIENT6 }).icmpv6({ type: 129, id: 2, seq: 2, payload: 'x' }).build();
    expectFrames(rig.in(0, req, 3), [{ port: 0, bytes: rep }]);
  });

  it('persistence by IPv6 prefix: clients of one /64 keep their real server', () => {
    const rig = new Rig(tun6Config({ services: [{ port: 80, persistent: 300, prefix6: 64, dests: [{ addr: TUN6.rs1, port: 80 }, { addr: TUN6.rs2, port: 80 }] }] }));
    const to = (out: { bytes: Uint8Array }[]) => Array.from(out[0]!.bytes.subarray(14 + 24, 14 + 40)).map((b) => b.toString(16).padStart(2, '0')).join('');
    const a = to(rig.in(0, tcp6Frame({ ...client({ flags: 'S', seq: 1, ack: 0 }), src: '2001:db8:ff::7' }), 1));
    const b = to(rig.in(0, tcp6Frame({ ...client({ flags: 'S', seq: 1, ack: 0 }), src: '2001:db8:ff::8', sport: 5 }), 2));
    const c = to(rig.in(0, tcp6Frame({ ...client({ flags: 'S', seq: 1, ack: 0 }), src: '2001:db8:ff:1::7', sport: 6 }), 3));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('hop limit 1 does not reach the real server: time exceeded from the VIP, as decrement_ttl (Linux 5.2+)', () => {
    const rig = new Rig(cfg);
    const f = tcp6Frame({ ...client({ flags: 'S', seq: 1, ack: 0 }), hopLimit: 1 });
    const te = eth({ src: TUN6.mac, dst: TUN6.routerMac }).ipv6({ src: TUN6.vip, dst: CLIENT6, hopLimit: 64 })
      .icmpv6({ type: 3, code: 0 }).payload(ipPart(f)).build();
    expectFrames(rig.in(0, f, 1), [{ port: 0, bytes: te }]);
    expect(rig.drops()).toEqual({ 'ttl-exceeded': 1 });
  });
});
