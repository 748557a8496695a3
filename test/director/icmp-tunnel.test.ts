// ICMP as the kernel does it around tunnels: frag-needed is never
// rate-limited (icmpv4_mask_allow: "don't limit PMTU discovery"); an error
// about one of the director's own IPIP/GUE/GRE packets (a router between the
// director and the real server saying need-to-frag, or the real server saying
// protocol unreachable) is relayed to the client about its own packet, a
// need-to-frag with the learned path MTU less 20 whatever the tunnel type
// (ip_vs_in_icmp after ipv4_update_pmtu), and the director's own MTU check
// toward that real server uses the learned path MTU until it expires;
// tapvs_frames_forwarded counts frames forwarded through a connection.
import { describe, expect, it } from 'vitest';
import { TUN_F_NOCSUM, TUN_GRE, TUN_GUE, TUN_IPIP, type TunType } from '../../src/model/dest.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { eth } from '../../src/wire/builder.js';
import { Rig } from './harness.js';
import { pad60, tcpFrame, udpFrame } from './frames.js';
import { CLIENT, NAT, natConfig, TUN, tunConfig } from './topo.js';

function cfgWith(tunType: TunType, tunPort = 0): DirectorConfig {
  const c = tunConfig({ services: [{ port: 80, dests: [{ addr: TUN.rs1, port: 80 }] }] });
  Object.assign(c.services[0]!.dests[0]!, { tunType, tunFlags: TUN_F_NOCSUM, tunPort });
  return c;
}

const syn = (df = true) => tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40000, dport: 80, flags: 'S', id: 77, df, payload: 'x'.repeat(100) });

/** What a Linux router on the way sends back: outer IP (router -> director), ICMP, then as much of the tunnel packet as fits 576 bytes. */
function routerError(tunnelPkt: Uint8Array, type: number, code: number, mtu: number): Uint8Array {
  const quote = tunnelPkt.subarray(14, 14 + Math.min(tunnelPkt.length - 14, 576 - 28));
  return eth({ src: TUN.gwMac, dst: TUN.mac }).ipv4({ src: TUN.gw, dst: TUN.addr, ttl: 64 })
    .icmp({ type, code, rest: type === 3 && code === 4 ? mtu & 0xffff : 0, payload: quote }).build();
}

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

describe('errors about the director\'s own tunnel packets', () => {
  for (const [type, port] of [[TUN_IPIP, 0], [TUN_GUE, 6080], [TUN_GRE, 0]] as const) {
    const name = ['ipip', 'gue', 'gre'][type];
    it(`${name}: need-to-frag with MTU 1400 reaches the client from the VIP as need-to-frag with MTU 1380 (IPVS takes 20 for every type), quoting its own packet`, () => {
      const rig = new Rig(cfgWith(type, port));
      const [tunnelled] = rig.in(0, syn(), 1);
      expect(tunnelled).toBeDefined();
      const out = rig.in(0, routerError(tunnelled!.bytes, 3, 4, 1400), 2);
      expect(out.length).toBe(1);
      const b = out[0]!.bytes;
      // to the router towards the client, from the VIP the client talked to
      expect([...b.subarray(0, 6)]).toEqual([2, 0, 0, 0, 2, 0xfe]);
      expect([b[23], b[34], b[35], u16(b, 40)]).toEqual([1, 3, 4, 1380]);
      expect([...b.subarray(26, 34)]).toEqual([172, 16, 0, 100, 203, 0, 113, 7]);
      // the quote is the client's packet as the real server got it (src client, dst VIP, id 77, TCP 40000 -> 80)
      const q = 42;
      expect([b[q]! >>> 4, b[q + 9], u16(b, q + 4), u16(b, q + 20), u16(b, q + 22)]).toEqual([4, 6, 77, 40000, 80]);
      expect([...b.subarray(q + 12, q + 20)]).toEqual([203, 0, 113, 7, 172, 16, 0, 100]);
      expect(rig.drops()).toEqual({});
    });
  }

  for (const [type, port, over] of [[TUN_IPIP, 0, 20], [TUN_GUE, 6080, 32], [TUN_GRE, 0, 24]] as const) {
    const name = ['ipip', 'gue', 'gre'][type];
    it(`${name}: the learned path MTU (1400) is the tunnel's from then on: ${1400 - over} goes, ${1400 - over + 1} gets need-to-frag ${1400 - over} from the director, until it expires after 10 minutes`, () => {
      const rig = new Rig(cfgWith(type, port));
      const [tunnelled] = rig.in(0, syn(), 1);
      rig.in(0, routerError(tunnelled!.bytes, 3, 4, 1400), 2);
      const sized = (n: number) => tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40000, dport: 80, flags: 'A', df: true, payload: 'y'.repeat(n - 40) });
      const fits = rig.in(0, sized(1400 - over), 3);
      expect(fits.map((f) => f.bytes.length)).toEqual([14 + 1400]);
      const big = rig.in(0, sized(1400 - over + 1), 4);
      // from the director itself (the VIP), to the client's router: its own check, not a relay
      expect(big.map((f) => [f.bytes[23], f.bytes[34], f.bytes[35], u16(f.bytes, 40)])).toEqual([[1, 3, 4, 1400 - over]]);
      expect(rig.drops()).toEqual({ 'frag-needed': 1 });
      // ip_rt_mtu_expires: 10 minutes later the link's MTU (1500) is the path's again
      const later = rig.in(0, sized(1400 - over + 1), 2 + 600_000 + 1);
      expect(later.map((f) => f.bytes.length)).toEqual([14 + 1400 + 1]);
    });
  }

  it('a reported MTU is only ever a lower one, and never under 552 (ip_rt_min_pmtu)', () => {
    const rig = new Rig(cfgWith(TUN_IPIP));
    const [tunnelled] = rig.in(0, syn(), 1);
    const relayed = (mtu: number, t: number) => u16(rig.in(0, routerError(tunnelled!.bytes, 3, 4, mtu), t)[0]!.bytes, 40);
    expect(relayed(1400, 2)).toBe(1380);
    expect(relayed(1450, 3)).toBe(1380); // higher than what was learned: the path keeps 1400
    expect(relayed(300, 4)).toBe(552 - 20);
  });

  it('protocol unreachable from the real server about an IPIP packet is relayed as it is (code 2)', () => {
    const rig = new Rig(cfgWith(TUN_IPIP));
    const [tunnelled] = rig.in(0, syn(), 1);
    const err = eth({ src: TUN.gwMac, dst: TUN.mac }).ipv4({ src: TUN.rs1, dst: TUN.addr, ttl: 62 })
      .icmp({ type: 3, code: 2, payload: tunnelled!.bytes.subarray(14, 14 + 20 + 28) }).build();
    const out = rig.in(0, err, 2);
    expect(out.map((f) => [f.bytes[23], f.bytes[34], f.bytes[35]])).toEqual([[1, 3, 2]]);
  });

  it('a need-to-frag about a client packet without DF is taken and not relayed', () => {
    const rig = new Rig(cfgWith(TUN_IPIP));
    const [tunnelled] = rig.in(0, syn(false), 1);
    expect(rig.in(0, routerError(tunnelled!.bytes, 3, 4, 1400), 2)).toEqual([]);
    expect(rig.drops()).toEqual({});
  });

  it('an error about a tunnel packet of no conn here, or of another tunnel type, is not relayed', () => {
    const rig = new Rig(cfgWith(TUN_GUE, 6080));
    const [tunnelled] = rig.in(0, syn(), 1);
    const b = tunnelled!.bytes.slice();
    b[36] ^= 1; // another GUE port than the real server's
    expect(rig.in(0, routerError(b, 3, 4, 1400), 2)).toEqual([]);
    expect(rig.drops()).toEqual({ 'icmp-error-no-conn': 1 });
  });
});

describe('ICMP rate limit', () => {
  it('frag-needed is never limited: 200 too-big DF packets through a TUN service draw 200 answers; port unreachables stay limited', () => {
    const rig = new Rig(cfgWith(TUN_IPIP));
    let answers = 0;
    for (let i = 0; i < 200; i++) {
      const big = tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 30000 + i, dport: 80, flags: 'S', payload: new Uint8Array(1481 - 40) });
      answers += rig.in(0, big, 1000).filter((f) => f.bytes[34] === 3 && f.bytes[35] === 4).length;
    }
    expect(answers).toBe(200);
    expect(rig.d.counters.icmpRateLimited).toBe(0);
  });
});

describe('tapvs_frames_forwarded_total', () => {
  it('counts frames forwarded through a connection, both ways, and routed ones', () => {
    const rig = new Rig(natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353 }] }] }));
    const q = udpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 33333, dport: 53, payload: 'q' });
    const a = udpFrame({ smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 5353, dport: 33333, payload: 'a' });
    const routed = udpFrame({ smac: NAT.otherMac, dmac: NAT.inMac, src: NAT.other, dst: CLIENT, sport: 1, dport: 2, payload: 'r' });
    rig.in(0, pad60(q), 1);
    rig.in(1, pad60(a), 2);
    rig.in(1, pad60(a), 3);
    rig.in(1, pad60(routed), 4);
    expect(rig.d.counters.forwarded).toBe(4);
  });
});
