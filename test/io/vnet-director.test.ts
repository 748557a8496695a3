// The director and GSO super-frames (marked in the FrameMeta a port with
// offload hands over with each frame): a super-frame is rewritten and sent whole, whatever the
// egress MTU, because the sending port cuts it to fit; the same bytes without
// the mark are an ordinary oversized DF packet and draw frag-needed.
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { VNET_GSO_TCPV4 } from '../../src/wire/virtio-net.js';
import { expectFrames, Rig } from '../director/harness.js';
import { tcpFrame, type TcpSpec } from '../director/frames.js';
import { CLIENT, NAT, TUN, natConfig, tunConfig } from '../director/topo.js';

const CPORT = 40000;
/** A TCP/IPv4 super-frame as a TAP with offload marks it. */
const SUPER = { gsoType: VNET_GSO_TCPV4, gsoSize: 1448, csumStart: 0, csumOffset: 0 };
const PAYLOAD = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 31) & 0xff);

function nat(spec: Partial<TcpSpec> & { flags: string }): TcpSpec {
  return { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: CPORT, dport: 80, ttl: 57, id: 0x1234, ...spec };
}

describe('director: GSO super-frames', () => {
  it('NAT: rewritten and sent whole to the real server when marked; frag-needed when not', () => {
    const cfg = natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] });
    const rig = new Rig(cfg);
    rig.in(0, tcpFrame(nat({ flags: 'S', seq: 1000 })), 1);
    rig.in(0, tcpFrame(nat({ flags: 'A', seq: 1001, ack: 5001 })), 2);
    const big = nat({ flags: 'PA', seq: 1001, ack: 5001, payload: PAYLOAD });

    const out = rig.in(0, tcpFrame(big), 3, SUPER);
    const toServer = tcpFrame({ ...big, smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 8080, ttl: 56 });
    expectFrames(out, [{ port: 1, bytes: toServer }]);
    expect(rig.drops()).toEqual({});
    // the real server's stats count the super-frame as the one packet it is
    expect(rig.d.services.all[0]!.dests[0]!.stats.inbytes).toBe(40 + 40 + 40 + PAYLOAD.length);

    const again = rig.in(0, tcpFrame({ ...big, seq: 1001 + PAYLOAD.length }), 4);
    expect(again.map((f) => [f.port, f.bytes[23], f.bytes[34]])).toEqual([[0, 1, 3]]); // ICMP type 3 back to the client
    expect(rig.drops()).toEqual({ 'frag-needed': 1 });
  });

  it('TUN: encapsulated whole (no IP fragments, no frag-needed) when marked', () => {
    const cfg = tunConfig({ services: [{ port: 80, dests: [{ addr: TUN.rs1, port: 80 }] }] });
    const rig = new Rig(cfg);
    const client = (s: Partial<TcpSpec> & { flags: string }): TcpSpec => ({
      smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: CPORT, dport: 80, ttl: 50, id: 99, ...s,
    });
    rig.in(0, tcpFrame(client({ flags: 'S', seq: 10 })), 1); // outer id 1
    const big = client({ flags: 'PA', seq: 11, ack: 1, payload: PAYLOAD });
    const out = rig.in(0, tcpFrame(big), 2, SUPER);
    const tunnelled = eth({ src: TUN.mac, dst: TUN.gwMac })
      .ipip({ src: TUN.addr, dst: TUN.rs1, ttl: 49, id: 2, flags: 'DF' })
      .payload(tcpFrame({ ...big, ttl: 49 }).subarray(14))
      .build();
    expectFrames(out, [{ port: 0, bytes: tunnelled }]);
    expect(rig.drops()).toEqual({});
  });
});
