// schedule_icmp and nat_icmp_send for IPv6: one sysctl each for both
// families in the kernel (ip_vs_in_icmp_v6, ip_vs_out_hook), so the IPv6 data
// path must change with them as the IPv4 one does (sysctls.test.ts): the
// same frames in, different frames out, off and on.
import { describe, expect, it } from 'vitest';
import type { ConnSettings } from '../../src/conn/table.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { eth } from '../../src/wire/builder.js';
import { describe1, Rig } from './harness.js';
import { CLIENT6, ip6, ipPart, NAT6, nat6Config, tcp6Frame, udp6Frame } from './topo6.js';

function rigWith(cfg: DirectorConfig, s: Partial<ConnSettings>): Rig {
  const rig = new Rig(cfg);
  rig.d.mutate.setConnSettings(s);
  return rig;
}

const nat2 = () => nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }, { addr: NAT6.rs2, port: 8080 }] }] });

describe('schedule_icmp (IPv6)', () => {
  // the client says "port unreachable" about a packet from [VIP]:80 (a reply of a conn this director does not know)
  const quoted = ipPart(tcp6Frame({ smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, dst: CLIENT6, sport: 80, dport: 40000, flags: 'A', hopLimit: 60 }));
  const error = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip, hopLimit: 64 })
    .icmpv6({ type: 1, code: 4 }).payload(quoted).build();

  it('0: dropped as an error about no conn; 1: scheduled, a conn made, the error sent on to the real server NAT-translated', () => {
    const off = new Rig(nat2());
    expect(off.in(0, error, 1)).toEqual([]);
    expect(off.drops()).toEqual({ 'icmp-error-no-conn': 1 });

    const on = rigWith(nat2(), { scheduleIcmp: true });
    const out = on.in(0, error, 1);
    expect(out.map((f) => f.port)).toEqual([1]);
    expect(describe1(out[0]!)).toContain(`${CLIENT6} > ${NAT6.rs2}`);
    const slot = on.d.conns.lookupIn6(6, ip6(CLIENT6), 0, 40000, ip6(NAT6.vip), 0, 80, 1);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(on.drops()).toEqual({});
  });

  it('1: an error quoting a packet from an address that is not a VIP is still no conn\'s', () => {
    const q = ipPart(tcp6Frame({ smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.outAddr, dst: CLIENT6, sport: 80, dport: 40000, flags: 'A' }));
    const e = eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.outAddr, hopLimit: 64 })
      .icmpv6({ type: 1, code: 4 }).payload(q).build();
    const on = rigWith(nat2(), { scheduleIcmp: true });
    expect(on.in(0, e, 1)).toEqual([]);
    expect(on.drops()).toEqual({ 'icmp-error-no-conn': 1 });
  });
});

describe('nat_icmp_send (IPv6)', () => {
  const stray = udp6Frame({ smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 5353, dport: 33333, payload: 'late' });
  const cfg = () => nat6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT6.rs1, port: 5353 }] }] });

  it('0: a real server\'s packet of no conn is routed on as it is; 1: answered with port unreachable to the real server and dropped', () => {
    const off = new Rig(cfg());
    expect(off.in(1, stray, 1).map((f) => f.port)).toEqual([0]);

    const on = rigWith(cfg(), { natIcmpSend: true });
    const out = on.in(1, stray, 1);
    expect(out.map((f) => f.port)).toEqual([1]);
    const b = out[0]!.bytes;
    expect([b[20], b[54], b[55]]).toEqual([58, 1, 4]); // ICMPv6, destination unreachable, port unreachable
    expect(describe1(out[0]!)).toContain(`${NAT6.inAddr} > ${NAT6.rs1}`);
    expect(on.drops()).toEqual({ 'unmatched-from-real-server': 1 });
  });

  it('1: a TCP RST of no conn is not answered, nor a packet from another port of the real server', () => {
    const on = rigWith(nat2(), { natIcmpSend: true });
    const rst = tcp6Frame({ smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 8080, dport: 40000, flags: 'R' });
    expect(on.in(1, rst, 1).map((f) => f.port)).toEqual([0]);
    const other = udp6Frame({ smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 9999, dport: 33333, payload: 'x' });
    const on2 = rigWith(cfg(), { natIcmpSend: true });
    expect(on2.in(1, other, 1).map((f) => f.port)).toEqual([0]);
  });
});
