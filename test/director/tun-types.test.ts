// LVS-TUN with --tun-type gue and gre, through the director: the frames
// toward the real server byte for byte, as the kernel's ipvs_gue_encap /
// ipvs_gre_encap lay them out. The expected frames are put together here from
// the RFC layouts with a checksum of this file's own; only the outer IP id
// (a counter) and the GUE source port (a flow hash, range-checked) are read
// from the output.
import { describe, expect, it } from 'vitest';
import { TUN_F_CSUM, TUN_F_NOCSUM, TUN_F_REMCSUM, TUN_GRE, TUN_GUE, type TunType } from '../../src/model/dest.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { expectFrames, Rig } from './harness.js';
import { be16, csum, sum16, tcpFrame } from './frames.js';
import { CLIENT, ip, mac, TUN, tunConfig } from './topo.js';

function cfgWith(tunType: TunType, tunFlags: number, tunPort = 0): DirectorConfig {
  const c = tunConfig({ services: [{ port: 80, dests: [{ addr: TUN.rs1, port: 80 }] }] });
  Object.assign(c.services[0]!.dests[0]!, { tunType, tunFlags, tunPort });
  return c;
}

const addr = (a: string) => a.split('.').map(Number);
const macBytes = (m: string) => { const n = mac(m); return [0, 1, 2, 3, 4, 5].map((i) => Math.floor(n / 2 ** (8 * (5 - i))) & 0xff); };

const syn = tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40000, dport: 80, flags: 'S', ttl: 64, id: 9, payload: 'hello' });
/** The client's packet as the real server gets it inside the tunnel: one TTL less, its IP checksum redone. */
const inner = (() => {
  const b = Array.from(tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40000, dport: 80, flags: 'S', ttl: 63, id: 9, payload: 'hello' }).subarray(14));
  return b;
})();

function outerIp(proto: number, payloadLen: number, id: number): number[] {
  const h = [0x45, 0x00, ...be16(20 + payloadLen), ...be16(id), 0x40, 0x00, 63, proto, 0, 0, ...addr(TUN.addr), ...addr(TUN.rs1)];
  const c = csum(h);
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return h;
}
const ethHdr = () => [...macBytes(TUN.gwMac), ...macBytes(TUN.mac), 0x08, 0x00];

function gueFrame(id: number, sport: number, withCsum: boolean): Uint8Array {
  const gue = [0x00, 0x04, 0x00, 0x00]; // version 0, C 0, hlen 0, proto 4 (IPIP), flags 0
  const ulen = 8 + gue.length + inner.length;
  const udp = [...be16(sport), ...be16(6080), ...be16(ulen), 0, 0];
  if (withCsum) {
    const pseudo = sum16([...addr(TUN.addr), ...addr(TUN.rs1), 0, 17, ...be16(ulen)]);
    let c = csum([...udp, ...gue, ...inner], pseudo);
    if (c === 0) c = 0xffff;
    udp[6] = c >>> 8;
    udp[7] = c & 0xff;
  }
  return Uint8Array.from([...ethHdr(), ...outerIp(17, ulen, id), ...udp, ...gue, ...inner]);
}

function greFrame(id: number, withCsum: boolean): Uint8Array {
  const gre = withCsum ? [0x80, 0x00, 0x08, 0x00, 0, 0, 0, 0] : [0x00, 0x00, 0x08, 0x00];
  if (withCsum) {
    const c = csum([...gre, ...inner]);
    gre[4] = c >>> 8;
    gre[5] = c & 0xff;
  }
  return Uint8Array.from([...ethHdr(), ...outerIp(47, gre.length + inner.length, id), ...gre, ...inner]);
}

const idOf = (b: Uint8Array) => (b[18]! << 8) | b[19]!;
const sportOf = (b: Uint8Array) => (b[34]! << 8) | b[35]!;

describe('--tun-type gue', () => {
  for (const [flag, name, withCsum] of [[TUN_F_NOCSUM, '--tun-nocsum', false], [TUN_F_CSUM, '--tun-csum', true], [TUN_F_REMCSUM, '--tun-remcsum', true]] as const) {
    it(`${name}: outer IPv4 proto 17, UDP to the tun-port from a flow-hash port${withCsum ? ', checksummed' : ', checksum 0'}, 4-byte GUE, the packet`, () => {
      const rig = new Rig(cfgWith(TUN_GUE, flag, 6080), { trace: true });
      const out = rig.in(0, syn, 1);
      expect(out.length).toBe(1);
      const b = out[0]!.bytes;
      const sport = sportOf(b);
      expect(sport).toBeGreaterThanOrEqual(32768);
      expect(sport).toBeLessThanOrEqual(60999);
      expectFrames(out, [{ port: 0, bytes: gueFrame(idOf(b), sport, withCsum) }]);
      // the same flow keeps its source port (the receiver's flow steering sees one flow)
      expect(sportOf(rig.in(0, syn, 2)[0]!.bytes)).toBe(sport);
      // the trace shows the outer headers, then the inner packet
      const t = rig.trace.join('\n');
      expect(t).toContain(`ip ${TUN.addr} > ${TUN.rs1}`);
      expect(t).toMatch(/gue v0 proto IPIP hlen 0/);
    });
  }

  it('another client port: another source port, the same layout', () => {
    const rig = new Rig(cfgWith(TUN_GUE, TUN_F_NOCSUM, 6080));
    const a = sportOf(rig.in(0, syn, 1)[0]!.bytes);
    const other = tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40001, dport: 80, flags: 'S' });
    expect(sportOf(rig.in(0, other, 2)[0]!.bytes)).not.toBe(a);
  });

  it('the MTU check counts the UDP and GUE headers: 1500 - 32 = 1468', () => {
    const rig = new Rig(cfgWith(TUN_GUE, TUN_F_NOCSUM, 6080));
    const big = tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40000, dport: 80, flags: 'S', payload: new Uint8Array(1469 - 40) });
    const o = rig.in(0, big, 1);
    expect(o.map((f) => [f.bytes[23], f.bytes[34], f.bytes[35], (f.bytes[40]! << 8) | f.bytes[41]!])).toEqual([[1, 3, 4, 1468]]);
  });
});

describe('--tun-type gre', () => {
  for (const [flag, name, withCsum] of [[TUN_F_NOCSUM, '--tun-nocsum', false], [TUN_F_CSUM, '--tun-csum', true]] as const) {
    it(`${name}: outer IPv4 proto 47, GRE ${withCsum ? 'with C and its checksum (8 bytes)' : 'of 4 bytes'} protocol 0x0800, the packet`, () => {
      const rig = new Rig(cfgWith(TUN_GRE, flag), { trace: true });
      const out = rig.in(0, syn, 1);
      expect(out.length).toBe(1);
      expectFrames(out, [{ port: 0, bytes: greFrame(idOf(out[0]!.bytes), withCsum) }]);
      expect(rig.trace.join('\n')).toMatch(/gre/i);
    });
  }

  it('the MTU check counts the GRE header: 1500 - 24 = 1476 without a checksum, 1472 with one', () => {
    for (const [flag, mtu] of [[TUN_F_NOCSUM, 1476], [TUN_F_CSUM, 1472]] as const) {
      const rig = new Rig(cfgWith(TUN_GRE, flag));
      const big = tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40000, dport: 80, flags: 'S', payload: new Uint8Array(mtu + 1 - 40) });
      const o = rig.in(0, big, 1);
      expect(o.map((f) => (f.bytes[40]! << 8) | f.bytes[41]!)).toEqual([mtu]);
    }
  });
});

it('ip() and the frames agree on the addresses used', () => {
  expect(ip(TUN.rs1)).toBe((10 << 24 | 20 << 16 | 1 << 8 | 5) >>> 0);
});
