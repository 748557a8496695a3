// Oversized packets through LVS-NAT without DF leave in fragments that fit
// (ip_fragment), with DF they draw frag-needed: toward the real server
// (ip_vs_nat_xmit's MTU check) and on the way back (ip_forward after
// handle_response). Never one frame larger than the port's MTU.
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { Rig } from './harness.js';
import { CLIENT, NAT, natConfig } from './topo.js';

function cfg(outMtu: number, inMtu: number) {
  const c = natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353 }] }] });
  c.ports[0]!.mtu = outMtu;
  c.ports[1]!.mtu = inMtu;
  return c;
}
const big = (o: { smac: string; dmac: string; src: string; dst: string; sport: number; dport: number; df: boolean }) =>
  eth({ src: o.smac, dst: o.dmac }).ipv4({ src: o.src, dst: o.dst, ttl: 64, id: 42, flags: o.df ? 'DF' : 0 })
    .udp({ sport: o.sport, dport: o.dport, payload: new Uint8Array(1450 - 28).fill(7) }).build();
const query = (df: boolean) => big({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 33333, dport: 53, df });
const answer = (df: boolean) => big({ smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 5353, dport: 33333, df });
const ipLen = (b: Uint8Array) => (b[16]! << 8) | b[17]!;
const fragField = (b: Uint8Array) => (b[20]! << 8) | b[21]!;

describe('NAT and the MTU', () => {
  it('a 1450-byte reply without DF to a 1400-MTU outside leaves in two fragments from the VIP, each within the MTU', () => {
    const rig = new Rig(cfg(1400, 1500));
    rig.in(0, query(false), 1);
    const out = rig.in(1, answer(false), 2);
    expect(out.map((f) => f.port)).toEqual([0, 0]);
    for (const f of out) expect(ipLen(f.bytes)).toBeLessThanOrEqual(1400);
    expect(out.map((f) => fragField(f.bytes) & 0x2000)).toEqual([0x2000, 0]); // MF, then the last
    expect([...out[0]!.bytes.subarray(26, 30)]).toEqual([10, 0, 0, 100]);
    expect(out.reduce((n, f) => n + ipLen(f.bytes) - 20, 0)).toBe(1450 - 20);
  });

  it('with DF the reply draws frag-needed (MTU 1400) to the real server and is dropped', () => {
    const rig = new Rig(cfg(1400, 1500));
    rig.in(0, query(false), 1);
    const out = rig.in(1, answer(true), 2);
    expect(out.map((f) => [f.port, f.bytes[23], f.bytes[34], f.bytes[35], (f.bytes[40]! << 8) | f.bytes[41]!])).toEqual([[1, 1, 3, 4, 1400]]);
  });

  it('a 1450-byte query without DF to a 1400-MTU inside reaches the real server in fragments', () => {
    const rig = new Rig(cfg(1500, 1400));
    const out = rig.in(0, query(false), 1);
    expect(out.map((f) => f.port)).toEqual([1, 1]);
    for (const f of out) expect(ipLen(f.bytes)).toBeLessThanOrEqual(1400);
  });
});
