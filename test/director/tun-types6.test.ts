// LVS-TUN with --tun-type gue and gre towards IPv6 real servers, through
// the director: the outer IPv6 header of ip_vs_tunnel_xmit_v6 (traffic class
// with CE sent as ECT(0), flow label 0, the inner hop limit, next header 17
// or 47), then UDP + GUE or GRE, then the client's packet one hop less. The
// expected frames are put together here byte by byte, with this file's own
// checksum; only the GUE source port (a flow hash, range-checked) is read
// from the output.
import { describe, expect, it } from 'vitest';
import { TUN_F_CSUM, TUN_F_NOCSUM, TUN_GRE, TUN_GUE, type TunType } from '../../src/model/dest.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { be16, csum, sum16 } from './frames.js';
import { expectFrames, Rig } from './harness.js';
import { CLIENT6, ip6, ipPart, tcp6Frame, TUN6, tun6Config, type Tcp6Spec } from './topo6.js';

function cfgWith(tunType: TunType, tunFlags: number, tunPort = 0): DirectorConfig {
  const c = tun6Config({ services: [{ port: 80, dests: [{ addr: TUN6.rs1, port: 80 }] }] });
  Object.assign(c.services[0]!.dests[0]!, { tunType, tunFlags, tunPort });
  return c;
}

const addr6 = (a: string) => Array.from(ip6(a)).flatMap((w) => [w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff]);
const macBytes = (m: string) => m.split(':').map((h) => Number.parseInt(h, 16));

// traffic class 0xbb: DSCP EF with a congestion mark (CE), which the outer header must not copy
const spec = (o: Partial<Tcp6Spec> = {}): Tcp6Spec => ({
  smac: TUN6.routerMac, dmac: TUN6.mac, src: CLIENT6, dst: TUN6.vip, sport: 41000, dport: 80, flags: 'S', hopLimit: 50, tc: 0xbb, payload: 'hello', ...o,
});
const inner = (o: Partial<Tcp6Spec> = {}) => Array.from(ipPart(tcp6Frame(spec({ ...o, hopLimit: 49 }))));

/** Ethernet to the gateway, then the outer IPv6 header: version 6, traffic class 0xba (CE became ECT(0)), flow label 0. */
function outer6(nextHeader: number, payloadLen: number): number[] {
  return [
    ...macBytes(TUN6.gwMac), ...macBytes(TUN6.mac), 0x86, 0xdd,
    0x6b, 0xa0, 0x00, 0x00, ...be16(payloadLen), nextHeader, 49, ...addr6(TUN6.addr), ...addr6(TUN6.rs1),
  ];
}

function gue6Frame(sport: number, withCsum: boolean): Uint8Array {
  const pkt = inner();
  const gue = [0x00, 41, 0x00, 0x00]; // version 0, C 0, hlen 0, proto 41 (IPv6), flags 0
  const ulen = 8 + gue.length + pkt.length;
  const udp = [...be16(sport), ...be16(6080), ...be16(ulen), 0, 0];
  if (withCsum) {
    // the IPv6 pseudo-header: source, destination, 32-bit length, three zero bytes, next header 17
    const pseudo = sum16([...addr6(TUN6.addr), ...addr6(TUN6.rs1), 0, 0, ...be16(ulen), 0, 0, 0, 17]);
    let c = csum([...udp, ...gue, ...pkt], pseudo);
    if (c === 0) c = 0xffff;
    udp[6] = c >>> 8;
    udp[7] = c & 0xff;
  }
  return Uint8Array.from([...outer6(17, ulen), ...udp, ...gue, ...pkt]);
}

function gre6Frame(withCsum: boolean): Uint8Array {
  const pkt = inner();
  const gre = withCsum ? [0x80, 0x00, 0x86, 0xdd, 0, 0, 0, 0] : [0x00, 0x00, 0x86, 0xdd];
  if (withCsum) {
    const c = csum([...gre, ...pkt]);
    gre[4] = c >>> 8;
    gre[5] = c & 0xff;
  }
  return Uint8Array.from([...outer6(47, gre.length + pkt.length), ...gre, ...pkt]);
}

const sportOf = (b: Uint8Array) => (b[54]! << 8) | b[55]!;

describe('--tun-type gue to an IPv6 real server', () => {
  for (const [flag, name, withCsum] of [[TUN_F_CSUM, '--tun-csum', true], [TUN_F_NOCSUM, '--tun-nocsum', false]] as const) {
    it(`${name}: outer IPv6 next header 17, UDP to the tun-port${withCsum ? ' with the IPv6 pseudo-header checksum' : ', checksum 0 as udp6_set_csum leaves it'}, GUE proto 41, the packet`, () => {
      const rig = new Rig(cfgWith(TUN_GUE, flag, 6080), { trace: true });
      const out = rig.in(0, tcp6Frame(spec()), 1);
      expect(out.length).toBe(1);
      const sport = sportOf(out[0]!.bytes);
      expect(sport).toBeGreaterThanOrEqual(32768);
      expect(sport).toBeLessThanOrEqual(60999);
      expectFrames(out, [{ port: 0, bytes: gue6Frame(sport, withCsum) }]);
      expect(rig.drops()).toEqual({});
      // the trace shows the outer headers, then the inner packet
      const t = rig.trace.join('\n');
      expect(t).toContain(`ip6 ${TUN6.addr} > ${TUN6.rs1} hlim 49 tc 0xba UDP`);
      expect(t).toMatch(/gue v0 proto IPv6 hlen 0/);
      expect(t).toContain(`ip6 ${CLIENT6} > ${TUN6.vip} hlim 49`);
    });
  }

  it('the room inside is the MTU less 40 + 8 + 4: 1448 fits, 1449 gets packet too big (1448) from the VIP', () => {
    const rig = new Rig(cfgWith(TUN_GUE, TUN_F_CSUM, 6080));
    rig.in(0, tcp6Frame(spec()), 1);
    const fits = tcp6Frame(spec({ flags: 'PA', payload: 'a'.repeat(1448 - 40 - 20) }));
    expect(rig.in(0, fits, 2).map((f) => f.bytes.length)).toEqual([14 + 40 + 8 + 4 + 1448]);
    const big = tcp6Frame(spec({ flags: 'PA', payload: 'b'.repeat(1448 - 40 - 20 + 1) }));
    const o = rig.in(0, big, 3);
    // ICMPv6 type 2 from the VIP, its MTU field after type, code and checksum
    expect(o.map((f) => [f.bytes[54], (f.bytes[58]! << 24) | (f.bytes[59]! << 16) | (f.bytes[60]! << 8) | f.bytes[61]!])).toEqual([[2, 1448]]);
    expect(rig.drops()).toEqual({ 'frag-needed': 1 });
  });
});

describe('--tun-type gre to an IPv6 real server', () => {
  for (const [flag, name, withCsum] of [[TUN_F_NOCSUM, '--tun-nocsum', false], [TUN_F_CSUM, '--tun-csum', true]] as const) {
    it(`${name}: outer IPv6 next header 47, GRE ${withCsum ? 'with C and its checksum' : 'of 4 bytes'} protocol 0x86DD, the packet`, () => {
      const rig = new Rig(cfgWith(TUN_GRE, flag), { trace: true });
      expectFrames(rig.in(0, tcp6Frame(spec()), 1), [{ port: 0, bytes: gre6Frame(withCsum) }]);
      expect(rig.drops()).toEqual({});
      const t = rig.trace.join('\n');
      expect(t).toMatch(new RegExp(`gre proto IPv6 len \\d+${withCsum ? ' cksum ok' : ''}`));
      expect(t).toContain(`ip6 ${CLIENT6} > ${TUN6.vip} hlim 49`);
    });
  }

  it('the room inside counts the GRE header: 1456 without a checksum, 1452 with one', () => {
    for (const [flag, mtu] of [[TUN_F_NOCSUM, 1456], [TUN_F_CSUM, 1452]] as const) {
      const rig = new Rig(cfgWith(TUN_GRE, flag));
      rig.in(0, tcp6Frame(spec()), 1);
      const o = rig.in(0, tcp6Frame(spec({ flags: 'PA', payload: 'b'.repeat(mtu - 40 - 20 + 1) })), 2);
      expect(o.map((f) => (f.bytes[58]! << 24) | (f.bytes[59]! << 16) | (f.bytes[60]! << 8) | f.bytes[61]!)).toEqual([mtu]);
    }
  });
});
