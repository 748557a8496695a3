// LVS-NAT, one TCP connection from SYN to the last ACK, both directions:
// client packets get the real server's address and port, replies get the
// VIP and virtual port back and lose one TTL; the connection's state and the
// real server's active/inactive counts follow the kernel's state table. Both
// directions lose one TTL.
import { describe, expect, it } from 'vitest';
import { TCP_STATE_NAMES } from '../../src/conn/tcp-states.js';
import { expectFrames, Rig, type Frame } from './harness.js';
import { pad60, tcpFrame, type TcpSpec } from './frames.js';
import { CLIENT, ip, NAT, natConfig } from './topo.js';

const CPORT = 40000;

type Step = { flags: string; seq: number; ack: number; payload?: string };

function fromClient(s: Step): TcpSpec {
  return { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: CPORT, dport: 80, ttl: 57, id: 0x1234, ...s };
}
function toServer(s: Step): TcpSpec {
  // the destination address and port change, and one TTL goes (decrement_ttl, since Linux 5.2)
  return { smac: NAT.inMac, dmac: NAT.rs1Mac, src: CLIENT, dst: NAT.rs1, sport: CPORT, dport: 8080, ttl: 56, id: 0x1234, ...s };
}
function fromServer(s: Step): TcpSpec {
  return { smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 8080, dport: CPORT, ttl: 64, id: 0x4321, ...s };
}
function toClient(s: Step): TcpSpec {
  return { smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, dst: CLIENT, sport: 80, dport: CPORT, ttl: 63, id: 0x4321, ...s };
}

describe('NAT: a TCP connection from SYN to FIN', () => {
  const cfg = natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] });

  it('rewrites each segment both ways and walks the state table', () => {
    const rig = new Rig(cfg);
    const dest = rig.d.services.all[0]!.dests[0]!;
    const state = () => {
      const slot = rig.d.conns.lookupIn(6, ip(CLIENT), CPORT, ip(NAT.vip), 80, 0);
      return slot < 0 ? 'none' : TCP_STATE_NAMES[rig.d.conns.state[slot]!];
    };
    const counts = () => [dest.activeConns, dest.inactConns];

    // [direction, segment, expected state after, expected [active, inactive]]
    const steps: [ 'in' | 'out', Step, string, number[] ][] = [
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
    for (const [dir, seg, st, c] of steps) {
      t += 10;
      let out: Frame[];
      if (dir === 'in') {
        out = rig.in(0, pad60(tcpFrame(fromClient(seg))), t);
        expectFrames(out, [{ port: 1, bytes: tcpFrame(toServer(seg)) }]);
      } else {
        out = rig.in(1, pad60(tcpFrame(fromServer(seg))), t);
        expectFrames(out, [{ port: 0, bytes: tcpFrame(toClient(seg)) }]);
      }
      expect([seg.flags, state()]).toEqual([seg.flags, st]);
      expect([seg.flags, ...counts()]).toEqual([seg.flags, ...c]);
    }
    expect(rig.drops()).toEqual({});
    expect(dest.stats.inpkts).toBe(5);
    expect(dest.stats.outpkts).toBe(3);
  });

  it('keeps TCP options and odd-length payloads intact, with a checksum computed from scratch', () => {
    const rig = new Rig(cfg);
    const mss = [2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1]; // MSS 1460, NOP, wscale 7, SACK-permitted, NOP, NOP
    const syn = { flags: 'S', seq: 0xfffffff0, ack: 0 };
    const out = rig.in(0, pad60(tcpFrame({ ...fromClient(syn), options: mss })), 1);
    expectFrames(out, [{ port: 1, bytes: tcpFrame({ ...toServer(syn), options: mss }) }]);
    const seg = { flags: 'PA', seq: 7, ack: 0xfffffff1, payload: 'odd' };
    expectFrames(rig.in(1, tcpFrame(fromServer(seg)), 2), [{ port: 0, bytes: tcpFrame(toClient(seg)) }]);
  });

  it('a segment that is not a SYN opens nothing', () => {
    const rig = new Rig(cfg);
    const out = rig.in(0, pad60(tcpFrame(fromClient({ flags: 'A', seq: 1, ack: 1 }))), 1);
    expect(out).toEqual([]);
    expect(rig.drops()).toEqual({ 'no-conn-not-syn': 1 });
    expect(rig.d.conns.lookupIn(6, ip(CLIENT), CPORT, ip(NAT.vip), 80, 1)).toBeLessThan(0);
  });

  it('a reply with TTL 1 is not forwarded: time exceeded goes back to the real server', () => {
    const rig = new Rig(cfg);
    rig.in(0, pad60(tcpFrame(fromClient({ flags: 'S', seq: 1, ack: 0 }))), 1);
    const reply = tcpFrame({ ...fromServer({ flags: 'SA', seq: 9, ack: 2 }), ttl: 1 });
    const out = rig.in(1, reply, 2);
    expect(out.length).toBe(1);
    expect(out[0]!.port).toBe(1);
    expect(rig.drops()).toEqual({ 'ttl-exceeded': 1 });
  });
});
