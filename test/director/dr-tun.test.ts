// LVS-DR and LVS-TUN: the director sees only the client's half of each
// connection. DR changes nothing but the MAC addresses; TUN puts an outer
// IPv4 header (protocol 4) from the director to the real server in front of
// the client packet, copying the inner TOS, DF and TTL. Both take one TTL off
// the client's packet first, as the kernel's decrement_ttl does (Linux 5.2+).
import { describe, expect, it } from 'vitest';
import { TCP_STATE_NAMES } from '../../src/conn/tcp-states.js';
import { eth } from '../../src/wire/builder.js';
import { expectFrames, Rig } from './harness.js';
import { pad60, tcpFrame, udpFrame, type TcpSpec } from './frames.js';
import { CLIENT, DR, drConfig, ip, TUN, tunConfig } from './topo.js';

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

describe('DR: only MAC addresses change', () => {
  const cfg = drConfig({ services: [{ port: 80, dests: [{ addr: DR.rs1, port: 80 }] }] });
  const client = (s: Step): TcpSpec => ({
    smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport: CPORT, dport: 80, ttl: 50, id: 77, tos: 0x10, ...s,
  });

  it('forwards every client segment to the real server MAC, bytes otherwise untouched', () => {
    const rig = new Rig(cfg);
    const dest = rig.d.services.all[0]!.dests[0]!;
    let t = 0;
    for (const [seg, st, c] of steps) {
      const out = rig.in(0, pad60(tcpFrame(client(seg))), (t += 5));
      expectFrames(out, [{ port: 0, bytes: tcpFrame({ ...client(seg), smac: DR.mac, dmac: DR.rs1Mac, ttl: 49 }) }]);
      const slot = rig.d.conns.lookupIn(6, ip(CLIENT), CPORT, ip(DR.vip), 80, t);
      expect([seg.flags, TCP_STATE_NAMES[rig.d.conns.state[slot]!], dest.activeConns, dest.inactConns])
        .toEqual([seg.flags, st, ...c]);
    }
    expect(rig.drops()).toEqual({});
  });

  it('UDP goes the same way', () => {
    const cfgU = drConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: DR.rs2, port: 53 }] }] });
    const rig = new Rig(cfgU);
    const q = { smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport: 5353, dport: 53, ttl: 60, payload: 'query' };
    expectFrames(rig.in(0, pad60(udpFrame(q)), 1), [{ port: 0, bytes: udpFrame({ ...q, smac: DR.mac, dmac: DR.rs2Mac, ttl: 59 }) }]);
  });
});

describe('TUN: IPIP to the real server', () => {
  const cfg = tunConfig({ services: [{ port: 80, dests: [{ addr: TUN.rs1, port: 80 }] }] });
  const client = (s: Step, df = true): TcpSpec => ({
    smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: CPORT, dport: 80, ttl: 50, id: 99, tos: 0x28, df, ...s,
  });
  /** The client's IP packet, as it must appear inside the tunnel: one TTL less. */
  const inner = (s: Step, df = true) => tcpFrame({ ...client(s, df), ttl: 49 }).subarray(14);
  // the director numbers the outer headers it makes 1, 2, 3, ...
  const tunnelled = (s: Step, outerId: number, df = true) =>
    eth({ src: TUN.mac, dst: TUN.gwMac })
      .ipip({ src: TUN.addr, dst: TUN.rs1, ttl: 49, tos: 0x28, id: outerId, flags: df ? 'DF' : 0 })
      .payload(inner(s, df))
      .build();

  it('encapsulates each client segment, through the gateway to the real servers network', () => {
    const rig = new Rig(cfg);
    const dest = rig.d.services.all[0]!.dests[0]!;
    let t = 0;
    let id = 0;
    for (const [seg, st, c] of steps) {
      const out = rig.in(0, pad60(tcpFrame(client(seg))), (t += 5));
      expectFrames(out, [{ port: 0, bytes: tunnelled(seg, ++id) }]);
      const slot = rig.d.conns.lookupIn(6, ip(CLIENT), CPORT, ip(TUN.vip), 80, t);
      expect([seg.flags, TCP_STATE_NAMES[rig.d.conns.state[slot]!], dest.activeConns, dest.inactConns])
        .toEqual([seg.flags, st, ...c]);
    }
    expect(rig.drops()).toEqual({});
  });

  it('the outer header copies DF only when the client set it', () => {
    const rig = new Rig(cfg);
    const syn = { flags: 'S', seq: 1, ack: 0 };
    expectFrames(rig.in(0, pad60(tcpFrame(client(syn, false))), 1), [{ port: 0, bytes: tunnelled(syn, 1, false) }]);
  });

  it('DF and too big for the egress MTU: frag-needed to the client from the VIP, MTU = egress MTU - 20', () => {
    const rig = new Rig(cfg);
    rig.in(0, pad60(tcpFrame(client({ flags: 'S', seq: 1, ack: 0 }))), 1); // outer id 1
    const big = { flags: 'PA', seq: 2, ack: 1, payload: 'x'.repeat(1500 - 40) }; // IP total 1500: fits the link, not the tunnel
    const bigFrame = tcpFrame(client(big));
    const out = rig.in(0, bigFrame, 2);
    const icmp = eth({ src: TUN.mac, dst: TUN.routerMac })
      // id 2: the SYN's outer header took 1; the refused packet takes none (the kernel numbers the outer header after the MTU check)
      .ipv4({ src: TUN.vip, dst: CLIENT, tos: 0xc0, ttl: 64, id: 2 })
      .icmp({ type: 3, code: 4, mtu: 1480, quote: 548 })
      // quoting the packet with its TTL already taken down, as decrement_ttl runs before the MTU check
      .payload(inner(big))
      .build();
    expectFrames(out, [{ port: 0, bytes: icmp }]);
    expect(rig.drops()).toEqual({ 'frag-needed': 1 });
  });

  it('without DF the outer packet is fragmented to the egress MTU', () => {
    const rig = new Rig(cfg);
    rig.in(0, pad60(tcpFrame(client({ flags: 'S', seq: 1, ack: 0 }, false))), 1); // outer id 1
    const big = { flags: 'PA', seq: 2, ack: 1, payload: 'y'.repeat(1500 - 40) };
    const out = rig.in(0, tcpFrame(client(big, false)), 2);
    const whole = inner(big, false); // 1500 bytes inside a 1520-byte outer packet
    const outer = { src: TUN.addr, dst: TUN.rs1, ttl: 49, tos: 0x28, id: 2, protocol: 4 };
    const f1 = eth({ src: TUN.mac, dst: TUN.gwMac }).ipv4({ ...outer, flags: 'MF' }).payload(whole.subarray(0, 1480)).build();
    const f2 = eth({ src: TUN.mac, dst: TUN.gwMac }).ipv4({ ...outer, fragOffset: 1480 / 8 }).payload(whole.subarray(1480)).build();
    expectFrames(out, [{ port: 0, bytes: f1 }, { port: 0, bytes: f2 }]);
    expect(rig.drops()).toEqual({});
  });
});

describe('DR and TUN: ICMP', () => {
  const ping = (smac: string, dmac: string, dst: string) =>
    eth({ src: smac, dst: dmac }).ipv4({ src: CLIENT, dst, ttl: 50, id: 4 }).icmp({ type: 8, id: 7, seq: 1, payload: 'ping' }).build();
  const pong = (smac: string, dmac: string, src: string) =>
    eth({ src: smac, dst: dmac }).ipv4({ src, dst: CLIENT, ttl: 64, id: 4 }).icmp({ type: 0, id: 7, seq: 1, payload: 'ping' }).build();

  it('DR: echo to the VIP is answered by the director, from the VIP', () => {
    const rig = new Rig(drConfig({ services: [{ port: 80, dests: [{ addr: DR.rs1, port: 80 }] }] }));
    expectFrames(rig.in(0, pad60(ping(DR.routerMac, DR.mac, DR.vip)), 1), [{ port: 0, bytes: pong(DR.mac, DR.routerMac, DR.vip) }]);
  });

  // a router on the client's side cannot pass a reply the real server sent straight to the client from VIP:80
  const fragNeededAboutReply = (smac: string, dmac: string, vip: string, ttl = 60) => {
    const reply = tcpFrame({ smac, dmac, src: vip, dst: CLIENT, sport: 80, dport: CPORT, flags: 'PA', seq: 1, ack: 1, payload: 'q'.repeat(64) });
    return eth({ src: smac, dst: dmac })
      .ipv4({ src: '192.0.2.1', dst: vip, ttl, id: 5, tos: 0xc0 })
      .icmp({ type: 3, code: 4, mtu: 1280, quote: 28 }).payload(reply.subarray(14)).build();
  };

  it('DR: a client-side ICMP error about a conn goes to its real server unchanged but for the MACs', () => {
    const rig = new Rig(drConfig({ services: [{ port: 80, dests: [{ addr: DR.rs1, port: 80 }] }] }));
    rig.in(0, pad60(tcpFrame({ smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport: CPORT, dport: 80, flags: 'S', seq: 0 })), 1);
    const err = fragNeededAboutReply(DR.routerMac, DR.mac, DR.vip);
    // only the outer MACs and TTL differ (the quoted reply is not addressed by MAC)
    const want = fragNeededAboutReply(DR.mac, DR.rs1Mac, DR.vip, 59);
    const w = want.slice();
    w.set(err.subarray(34), 34);
    expectFrames(rig.in(0, err, 2), [{ port: 0, bytes: w }]);
  });

  it('TUN: a client-side ICMP error about a conn is tunnelled to its real server', () => {
    const rig = new Rig(tunConfig({ services: [{ port: 80, dests: [{ addr: TUN.rs1, port: 80 }] }] }));
    rig.in(0, pad60(tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: CPORT, dport: 80, flags: 'S', seq: 0 })), 1);
    const err = fragNeededAboutReply(TUN.routerMac, TUN.mac, TUN.vip);
    const want = eth({ src: TUN.mac, dst: TUN.gwMac })
      .ipip({ src: TUN.addr, dst: TUN.rs1, ttl: 59, tos: 0xc0, id: 2 })
      .payload(fragNeededAboutReply(TUN.routerMac, TUN.mac, TUN.vip, 59).subarray(14))
      .build();
    expectFrames(rig.in(0, err, 2), [{ port: 0, bytes: want }]);
  });
});
