// The FTP helper with partial checksums (frames from an offloading TAP whose
// TCP checksum field holds only the pseudo-header sum, FrameMeta.csumStart):
// a 227 reply it rewrites leaves with a finished checksum (its length and
// bytes changed: the sum is computed afresh), and the segments it only moves
// in sequence stay partial (sequence and ack numbers are not in the
// pseudo-header), finished to exactly the expected frame.
import { describe, expect, it } from 'vitest';
import { Director } from '../../src/director/director.js';
import { PLAIN_FRAME, type FrameMeta } from '../../src/model/frame.js';
import { csumFold, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { completeChecksum } from '../../src/wire/csum-partial.js';
import { tcpFrame, type TcpSpec } from '../director/frames.js';
import { CLIENT, NAT, natConfig } from '../director/topo.js';

interface Out { port: number; bytes: Uint8Array; meta: FrameMeta }
const HEADROOM = 64;
const CPORT = 40000;

const cfg = natConfig({ services: [{ port: 21, dests: [{ addr: NAT.rs1, port: 21 }] }] });
type Seg = { flags: string; seq: number; ack: number; payload?: string };
const fromClient = (s: Seg): TcpSpec => ({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: CPORT, dport: 21, ttl: 57, ...s });
const toServer = (s: Seg): TcpSpec => ({ smac: NAT.inMac, dmac: NAT.rs1Mac, src: CLIENT, dst: NAT.rs1, sport: CPORT, dport: 21, ttl: 56, ...s });
const fromServer = (s: Seg): TcpSpec => ({ smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 21, dport: CPORT, ttl: 64, ...s });
const toClient = (s: Seg): TcpSpec => ({ smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, dst: CLIENT, sport: 21, dport: CPORT, ttl: 63, ...s });

const L4 = 34;
const word = (f: Uint8Array, o: number): number => ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;

/** The frame with the field an offloading TAP hands over: the pseudo-header sum only. */
function partial(f: Uint8Array): { frame: Uint8Array; meta: FrameMeta } {
  const out = f.slice();
  const p = csumFold(pseudoHeaderSum(word(f, 26), word(f, 30), 6, f.length - L4));
  out[L4 + 16] = p >>> 8;
  out[L4 + 17] = p & 0xff;
  return { frame: out, meta: { gsoType: 0, gsoSize: 0, csumStart: L4, csumOffset: 16 } };
}

class MetaRig {
  readonly d: Director;
  readonly sent: Out[] = [];
  constructor() {
    this.d = new Director(cfg, {
      send: (port, buf, off, len, meta) => {
        this.sent.push({ port, bytes: buf.slice(off, off + len), meta: { ...(meta ?? PLAIN_FRAME) } });
      },
    });
  }
  in(port: number, frame: Uint8Array, now: number, meta: FrameMeta = PLAIN_FRAME): Out[] {
    const buf = new Uint8Array(HEADROOM + frame.length + HEADROOM);
    buf.set(frame, HEADROOM);
    const mark = this.sent.length;
    this.d.process(port, buf, HEADROOM, frame.length, now, meta);
    return this.sent.slice(mark);
  }
}

/** `out` finished (when partial) is exactly `expected`; `partialExpected`: whether it left partial. */
function expectOut(out: Out[], port: number, expected: Uint8Array, partialExpected: boolean): void {
  expect(out).toHaveLength(1);
  expect(out[0]!.port).toBe(port);
  const m = out[0]!.meta;
  expect(m.csumStart !== 0).toBe(partialExpected);
  const done = out[0]!.bytes.slice();
  if (m.csumStart !== 0) expect(completeChecksum(done, 0, done.length, m.csumStart, m.csumOffset)).toBe(true);
  expect(Array.from(done)).toEqual(Array.from(expected));
}

describe('FTP helper and partial checksums', () => {
  it('a rewritten 227 leaves finished; segments only moved in sequence stay partial', () => {
    const rig = new MetaRig();
    let t = 1;
    const step = (dir: 'in' | 'out', s: Seg, want: Seg, keepPartial: boolean): void => {
      const p = partial(tcpFrame(dir === 'in' ? fromClient(s) : fromServer(s)));
      const out = rig.in(dir === 'in' ? 0 : 1, p.frame, t++, p.meta);
      expectOut(out, dir === 'in' ? 1 : 0, tcpFrame(dir === 'in' ? toServer(want) : toClient(want)), keepPartial);
    };
    const same = (dir: 'in' | 'out', s: Seg): void => step(dir, s, s, true);
    same('in', { flags: 'S', seq: 1000, ack: 0 });
    same('out', { flags: 'SA', seq: 5000, ack: 1001 });
    same('in', { flags: 'A', seq: 1001, ack: 5001 });
    same('in', { flags: 'PA', seq: 1001, ack: 5001, payload: 'PASV\r\n' });
    const reply = '227 Entering Passive Mode (192,168,10,11,156,64).\r\n';
    step('out', { flags: 'PA', seq: 5001, ack: 1007, payload: reply },
      { flags: 'PA', seq: 5001, ack: 1007, payload: '227 Entering Passive Mode (10,0,0,100,156,64).\r\n' }, false);
    const next = 5001 + reply.length;
    // 3 bytes fewer went to the client: its numbering of what follows is 3 lower, its acks 3 higher for the server
    step('out', { flags: 'PA', seq: next, ack: 1007, payload: '150 ok\r\n' }, { flags: 'PA', seq: next - 3, ack: 1007, payload: '150 ok\r\n' }, true);
    step('in', { flags: 'A', seq: 1007, ack: next + 8 - 3 }, { flags: 'A', seq: 1007, ack: next + 8 }, true);
    expect(rig.d.drops.toObject()).toEqual({});
  });
});
