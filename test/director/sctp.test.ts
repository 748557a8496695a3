// SCTP through the director (ip_vs_proto_sctp.c): one association from INIT
// to SHUTDOWN COMPLETE through NAT (address, port and CRC32c rewritten),
// DR and TUN (nothing of the SCTP packet changes); the conn's state after
// each packet as the kernel's sctp_states[] table gives it; scheduling only
// on INIT (sloppy_sctp: anything but ABORT); a packet with a bad CRC is
// dropped by NAT, never re-signed; ICMP errors quoting SCTP translated.
//
// Every expected frame is built from scratch by the packet builder, and the
// CRC of every SCTP packet the director sends is checked again with a
// bit-at-a-time CRC32c written here (not the table-driven one of
// src/wire/crc32c.ts), itself checked against RFC 3720 B.4.
import { describe, expect, it } from 'vitest';
import { SCTP_STATE_NAMES } from '../../src/conn/sctp-states.js';
import { eth, type SctpChunkOpts } from '../../src/wire/builder.js';
import { checksum } from '../../src/wire/checksum.js';
import { expectDropped, expectFrames, Rig, type Frame } from './harness.js';
import { CLIENT, DR, drConfig, ip, NAT, natConfig, TUN, tunConfig } from './topo.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { CLIENT6, ip6, ip6Layers, NAT6, nat6Config, type Ip6Spec } from './topo6.js';

const SCTP = 132;
const CPORT = 40123;
const VPORT = 5000;
const RPORT = 5001;

/** CRC32c one bit at a time, from the definition (reflected 0x1EDC6F41, preset and final complement). */
function refCrc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

/** The CRC an SCTP packet must carry (its field counted as zero), and the one it carries (stored LSB first). */
function sctpCrcs(frame: Uint8Array): { want: number; stored: number } {
  const ipOff = 14;
  const ihl = (frame[ipOff]! & 15) * 4;
  const total = (frame[ipOff + 2]! << 8) | frame[ipOff + 3]!;
  const s = frame.slice(ipOff + ihl, ipOff + total);
  const stored = (s[8]! | (s[9]! << 8) | (s[10]! << 16) | (s[11]! << 24)) >>> 0;
  s.fill(0, 8, 12);
  return { want: refCrc32c(s), stored };
}

function withSctp(cfg: DirectorConfig, options: Partial<DirectorConfig['options']> = {}): DirectorConfig {
  return { ...cfg, services: cfg.services.map((s) => ({ ...s, proto: SCTP })), options: { ...cfg.options, ...options } };
}

interface Hop { smac: string; dmac: string; src: string; dst: string; sport: number; dport: number; ttl: number; id: number }

function sctpFrame(h: Hop, vtag: number, chunks: SctpChunkOpts[], checksum?: number): Uint8Array {
  return eth({ src: h.smac, dst: h.dmac })
    .ipv4({ src: h.src, dst: h.dst, ttl: h.ttl, id: h.id, flags: 'DF' })
    .sctp({ sport: h.sport, dport: h.dport, vtag, chunks, ...(checksum !== undefined ? { checksum } : {}) })
    .build();
}

// the association, as client and real server would send it (tags: client 0x11111111, server 0x22222222)
const CTAG = 0x11111111;
const STAG = 0x22222222;
type Dir = 'in' | 'out';
const ASSOC: [Dir, number, SctpChunkOpts[]][] = [
  ['in', 0, [{ type: 'INIT', initTag: CTAG, aRwnd: 106496, outStreams: 10, inStreams: 65535, initialTsn: 1000 }]],
  ['out', CTAG, [{ type: 'INIT ACK', initTag: STAG, aRwnd: 106496, outStreams: 10, inStreams: 10, initialTsn: 5000,
    params: [{ type: 7, value: 'a state cookie of 27 bytes!' }] }]],
  ['in', STAG, [{ type: 'COOKIE ECHO', cookie: 'a state cookie of 27 bytes!' }]],
  ['out', CTAG, [{ type: 'COOKIE ACK' }]],
  ['in', STAG, [{ type: 'DATA', tsn: 1000, streamId: 0, streamSeq: 0, ppid: 0, data: 'hello, real server' }]],
  ['out', CTAG, [{ type: 'SACK', cumTsnAck: 1000, aRwnd: 106496 }, { type: 'DATA', tsn: 5000, streamId: 0, streamSeq: 0, ppid: 0, data: 'rs1' }]],
  ['in', STAG, [{ type: 'SACK', cumTsnAck: 5000, aRwnd: 106496 }]],
  ['in', STAG, [{ type: 'SHUTDOWN', cumTsnAck: 5000 }]],
  ['out', CTAG, [{ type: 'SHUTDOWN ACK' }]],
  ['in', STAG, [{ type: 'SHUTDOWN COMPLETE' }]],
];

describe('NAT: an SCTP association from INIT to SHUTDOWN COMPLETE', () => {
  const cfg = withSctp(natConfig({ services: [{ port: VPORT, dests: [{ addr: NAT.rs1, port: RPORT }] }] }));
  const fromClient: Hop = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: CPORT, dport: VPORT, ttl: 57, id: 0x1234 };
  const toServer: Hop = { smac: NAT.inMac, dmac: NAT.rs1Mac, src: CLIENT, dst: NAT.rs1, sport: CPORT, dport: RPORT, ttl: 56, id: 0x1234 };
  const fromServer: Hop = { smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: RPORT, dport: CPORT, ttl: 64, id: 0x4321 };
  const toClient: Hop = { smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, dst: CLIENT, sport: VPORT, dport: CPORT, ttl: 63, id: 0x4321 };

  it('the reference CRC32c gives RFC 3720 B.4\'s values', () => {
    // 32 bytes of zeros: aa 36 91 8a on the wire, least significant byte first
    expect(refCrc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(refCrc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(refCrc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('rewrites address, port and CRC32c both ways and walks the kernel\'s state table', () => {
    const rig = new Rig(cfg);
    const dest = rig.d.services.all[0]!.dests[0]!;
    const slotOf = () => rig.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(NAT.vip), VPORT, 0);
    // state, [active, inactive], timeout (s) after each packet of ASSOC
    const want: [string, number[], number][] = [
      ['INIT1', [0, 1], 4],
      ['C-SENT', [0, 1], 61],
      ['C-REPLIED', [0, 1], 61],
      ['ESTABLISHED', [1, 0], 900],
      ['ESTABLISHED', [1, 0], 900],
      ['ESTABLISHED', [1, 0], 900],
      ['ESTABLISHED', [1, 0], 900],
      ['S-RECEIVED', [0, 1], 61],
      ['S-ACK-SENT', [0, 1], 61],
      ['CLOSED', [0, 1], 61],
    ];
    let t = 1000;
    ASSOC.forEach(([dir, vtag, chunks], i) => {
      t += 10;
      let out: Frame[];
      if (dir === 'in') {
        out = rig.in(0, sctpFrame(fromClient, vtag, chunks), t);
        expectFrames(out, [{ port: 1, bytes: sctpFrame(toServer, vtag, chunks) }]);
      } else {
        out = rig.in(1, sctpFrame(fromServer, vtag, chunks), t);
        expectFrames(out, [{ port: 0, bytes: sctpFrame(toClient, vtag, chunks) }]);
      }
      const c = sctpCrcs(out[0]!.bytes);
      expect(c.stored).toBe(c.want);
      const slot = slotOf();
      const name = chunks.map((x) => x.type).join('+');
      expect([name, SCTP_STATE_NAMES[rig.d.conns.state[slot]!], [dest.activeConns, dest.inactConns], rig.d.conns.timeout[slot]! / 1000])
        .toEqual([name, ...want[i]!]);
    });
    expect(rig.drops()).toEqual({});
    expect(dest.stats.inpkts).toBe(6);
    expect(dest.stats.outpkts).toBe(4);
    expect(dest.stats.conns).toBe(1);
  });

  it('drops a client packet with a bad CRC instead of re-signing it, and the state does not move on the reply side', () => {
    const rig = new Rig(cfg);
    rig.in(0, sctpFrame(fromClient, 0, ASSOC[0]![2]), 1);
    // a DATA chunk damaged on the way: one byte of its payload differs from what the CRC covers
    const good = sctpFrame(fromClient, STAG, ASSOC[4]![2]);
    const bad = good.slice();
    bad[bad.length - 3]! ^= 0x20;
    expectDropped(rig, rig.in(0, bad, 2), 'sctp-bad-crc');
    // a reply with a wrong CRC field: dropped before it moves the conn (INIT1 stays, no C-SENT)
    const before = rig.drops();
    expectDropped(rig, rig.in(1, sctpFrame(fromServer, CTAG, ASSOC[1]![2], 0xdeadbeef), 3), 'sctp-bad-crc', before);
    const slot = rig.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(NAT.vip), VPORT, 0);
    expect(SCTP_STATE_NAMES[rig.d.conns.state[slot]!]).toBe('INIT1');
    // the undamaged packets go through
    expect(rig.in(1, sctpFrame(fromServer, CTAG, ASSOC[1]![2]), 4)).toHaveLength(1);
    expect(rig.in(0, good, 5)).toHaveLength(1);
  });

  it('an INIT with a bad CRC opens the conn (the state moves before NAT) but is not sent', () => {
    const rig = new Rig(cfg);
    expectDropped(rig, rig.in(0, sctpFrame(fromClient, 0, ASSOC[0]![2], 0x01020304), 1), 'sctp-bad-crc');
    const slot = rig.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(NAT.vip), VPORT, 0);
    expect(SCTP_STATE_NAMES[rig.d.conns.state[slot]!]).toBe('INIT1');
  });

  it('when the port does not change nothing is rewritten: a bad CRC goes on as it came, for the receiver to drop', () => {
    const same = withSctp(natConfig({ services: [{ port: VPORT, dests: [{ addr: NAT.rs1, port: VPORT }] }] }));
    const rig = new Rig(same);
    const init = sctpFrame(fromClient, 0, ASSOC[0]![2], 0x01020304);
    const out = rig.in(0, init, 1);
    expectFrames(out, [{ port: 1, bytes: sctpFrame({ ...toServer, dport: VPORT }, 0, ASSOC[0]![2], 0x01020304) }]);
    const c = sctpCrcs(out[0]!.bytes);
    expect(c.stored).not.toBe(c.want);
  });

  it('a first fragment whose port NAT must change is dropped (its CRC covers bytes not here); with the port kept it goes on', () => {
    const whole = sctpFrame(fromClient, 0, ASSOC[1]![2].map((c) => ({ ...c, type: 'INIT' }))).subarray(34);
    const firstFrag = (h: Hop) => eth({ src: h.smac, dst: h.dmac })
      .ipv4({ src: h.src, dst: h.dst, ttl: h.ttl, id: h.id, flags: 'MF', protocol: SCTP }).payload(whole.subarray(0, 32)).build();
    const rig = new Rig(cfg);
    expectDropped(rig, rig.in(0, firstFrag(fromClient), 1), 'sctp-fragment-nat');
    const same = new Rig(withSctp(natConfig({ services: [{ port: VPORT, dests: [{ addr: NAT.rs1, port: VPORT }] }] })));
    expectFrames(same.in(0, firstFrag(fromClient), 1), [{ port: 1, bytes: firstFrag({ ...toServer, dport: VPORT }) }]);
  });

  it('only an INIT opens a conn; a DATA or an ABORT of no conn is dropped as no-conn', () => {
    const strict = new Rig(cfg);
    expectDropped(strict, strict.in(0, sctpFrame(fromClient, STAG, ASSOC[4]![2]), 1), 'no-conn-not-syn');
    const before = strict.drops();
    expectDropped(strict, strict.in(0, sctpFrame(fromClient, STAG, [{ type: 'ABORT' }]), 2), 'no-conn-not-syn', before);
    expect(strict.d.conns.size).toBe(0);
  });

  it('sloppy_sctp: any first chunk but an ABORT opens a conn', () => {
    const data = sctpFrame(fromClient, STAG, ASSOC[4]![2]);
    const abort = sctpFrame(fromClient, STAG, [{ type: 'ABORT' }]);
    const sloppy = new Rig(withSctp(natConfig({ services: [{ port: VPORT, dests: [{ addr: NAT.rs1, port: RPORT }] }] }), { sloppySctp: true }));
    expectDropped(sloppy, sloppy.in(0, abort, 1), 'no-conn-not-syn');
    // the DATA opens a conn, and the table takes it from NONE as DATA: ESTABLISHED
    expectFrames(sloppy.in(0, data, 2), [{ port: 1, bytes: sctpFrame(toServer, STAG, ASSOC[4]![2]) }]);
    const slot = sloppy.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(NAT.vip), VPORT, 0);
    expect(SCTP_STATE_NAMES[sloppy.d.conns.state[slot]!]).toBe('ESTABLISHED');
  });

  it('a COOKIE ECHO bundled with an ABORT counts as the ABORT; a new INIT on the CLOSED conn is scheduled anew', () => {
    const rig = new Rig(withSctp(natConfig({
      services: [{ port: VPORT, scheduler: 'rr', dests: [{ addr: NAT.rs1, port: RPORT }, { addr: NAT.rs2, port: RPORT }] }],
    })));
    const slotOf = () => rig.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(NAT.vip), VPORT, 0);
    const first = rig.in(0, sctpFrame(fromClient, 0, ASSOC[0]![2]), 1);
    const firstMac = first[0]!.bytes.slice(0, 6);
    rig.in(0, sctpFrame(fromClient, STAG, [{ type: 'COOKIE ECHO', cookie: 'abc' }, { type: 'ABORT', flags: 0 }]), 2);
    expect(SCTP_STATE_NAMES[rig.d.conns.state[slotOf()]!]).toBe('CLOSED');
    // conn_reuse_mode 1: an INIT on a CLOSED association ends it and schedules the next real server
    const again = rig.in(0, sctpFrame(fromClient, 0, ASSOC[0]![2]), 3);
    expect(again).toHaveLength(1);
    expect(Array.from(again[0]!.bytes.slice(0, 6))).not.toEqual(Array.from(firstMac));
    expect(SCTP_STATE_NAMES[rig.d.conns.state[slotOf()]!]).toBe('INIT1');
    expect(rig.d.services.all[0]!.dests.map((d) => d.stats.conns)).toEqual([1, 1]);
  });

  it('an INIT answered with ABORT: REJECTED with its short timeout', () => {
    const rig = new Rig(cfg);
    rig.in(0, sctpFrame(fromClient, 0, ASSOC[0]![2]), 1);
    rig.in(1, sctpFrame(fromServer, CTAG, [{ type: 'ABORT', flags: 0 }]), 2);
    const slot = rig.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(NAT.vip), VPORT, 0);
    expect([SCTP_STATE_NAMES[rig.d.conns.state[slot]!], rig.d.conns.timeout[slot]]).toEqual(['REJECTED', 4000]);
  });

  it('an ICMP frag-needed from the inside quoting SCTP goes to the client with VIP:vport in the quote', () => {
    const rig = new Rig(cfg);
    rig.in(0, sctpFrame(fromClient, 0, ASSOC[0]![2]), 1);
    const asSent = sctpFrame(toServer, 0, ASSOC[0]![2]).subarray(14);
    const asClientSentIt = sctpFrame({ ...fromClient, ttl: 56 }, 0, ASSOC[0]![2]).subarray(14);
    const err = eth({ src: NAT.rs1Mac, dst: NAT.inMac })
      .ipv4({ src: NAT.rs1, dst: CLIENT, ttl: 64, id: 300, tos: 0xc0 })
      .icmp({ type: 3, code: 4, mtu: 1400, quote: 28 }).payload(asSent).build();
    const want = eth({ src: NAT.outMac, dst: NAT.routerMac })
      .ipv4({ src: NAT.vip, dst: CLIENT, ttl: 63, id: 300, tos: 0xc0 })
      .icmp({ type: 3, code: 4, mtu: 1400, quote: 28 }).payload(asClientSentIt).build();
    const out = rig.in(1, err, 2);
    expectFrames(out, [{ port: 0, bytes: want }]);
    const f = out[0]!.bytes;
    expect(checksum(f, 34, f.length - 34)).toBe(0);
    expect(rig.drops()).toEqual({});
  });
});

describe('nat_icmp_send with SCTP', () => {
  it('a real server\'s SCTP packet of no conn is answered with port unreachable, an ABORT is not', () => {
    const rig = new Rig(withSctp(natConfig({ services: [{ port: VPORT, dests: [{ addr: NAT.rs1, port: RPORT }] }] }), { natIcmpSend: true }));
    const from: Hop = { smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: RPORT, dport: CPORT, ttl: 64, id: 9 };
    const data = rig.in(1, sctpFrame(from, CTAG, ASSOC[4]![2]), 1);
    expect(data.map((f) => [f.port, f.bytes[23], f.bytes[34], f.bytes[35]])).toEqual([[1, 1, 3, 3]]);
    expect(rig.drops()).toEqual({ 'unmatched-from-real-server': 1 });
    // the ABORT is routed on as it is (is_sctp_abort)
    const abort = rig.in(1, sctpFrame(from, CTAG, [{ type: 'ABORT' }]), 2);
    expect(abort.map((f) => f.port)).toEqual([0]);
  });
});

describe('DR and TUN: the SCTP packet is not touched', () => {
  // input-only table: the director never sees the real server's chunks
  const clientSide = ASSOC.filter(([d]) => d === 'in');
  const wantStates = ['INIT1', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'S-RECEIVED', 'CLOSED'];

  it('DR: only the MAC addresses change (and one TTL); states from the input-only table', () => {
    const rig = new Rig(withSctp(drConfig({ services: [{ port: VPORT, dests: [{ addr: DR.rs1, port: VPORT }] }] })));
    const from: Hop = { smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport: CPORT, dport: VPORT, ttl: 50, id: 77 };
    const dest = rig.d.services.all[0]!.dests[0]!;
    clientSide.forEach(([, vtag, chunks], i) => {
      const out = rig.in(0, sctpFrame(from, vtag, chunks), 10 + i);
      expectFrames(out, [{ port: 0, bytes: sctpFrame({ ...from, smac: DR.mac, dmac: DR.rs1Mac, ttl: 49 }, vtag, chunks) }]);
      const slot = rig.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(DR.vip), VPORT, 0);
      expect([chunks[0]!.type, SCTP_STATE_NAMES[rig.d.conns.state[slot]!]]).toEqual([chunks[0]!.type, wantStates[i]]);
    });
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);
    expect(rig.drops()).toEqual({});
  });

  it('DR: a bad CRC is forwarded as it came (nothing is rewritten, the real server drops it)', () => {
    const rig = new Rig(withSctp(drConfig({ services: [{ port: VPORT, dests: [{ addr: DR.rs1, port: VPORT }] }] })));
    const from: Hop = { smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport: CPORT, dport: VPORT, ttl: 50, id: 77 };
    const out = rig.in(0, sctpFrame(from, 0, ASSOC[0]![2], 0xbadc0de), 1);
    expectFrames(out, [{ port: 0, bytes: sctpFrame({ ...from, smac: DR.mac, dmac: DR.rs1Mac, ttl: 49 }, 0, ASSOC[0]![2], 0xbadc0de) }]);
  });

  it('TUN: IPIP to the real server around the unchanged SCTP packet', () => {
    const rig = new Rig(withSctp(tunConfig({ services: [{ port: VPORT, dests: [{ addr: TUN.rs1, port: VPORT }] }] })));
    const from: Hop = { smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: CPORT, dport: VPORT, ttl: 50, id: 99 };
    clientSide.forEach(([, vtag, chunks], i) => {
      const inner = sctpFrame({ ...from, ttl: 49 }, vtag, chunks).subarray(14);
      const want = eth({ src: TUN.mac, dst: TUN.gwMac })
        .ipip({ src: TUN.addr, dst: TUN.rs1, ttl: 49, id: i + 1, flags: 'DF' })
        .payload(inner).build();
      const out = rig.in(0, sctpFrame(from, vtag, chunks), 10 + i);
      expectFrames(out, [{ port: 0, bytes: want }]);
      const slot = rig.d.conns.lookupIn(SCTP, ip(CLIENT), CPORT, ip(TUN.vip), VPORT, 0);
      expect(SCTP_STATE_NAMES[rig.d.conns.state[slot]!]).toBe(wantStates[i]);
    });
    expect(rig.drops()).toEqual({});
  });
});

describe('NAT over IPv6: the same association', () => {
  const cfg6 = withSctp(nat6Config({ services: [{ port: VPORT, dests: [{ addr: NAT6.rs1, port: RPORT }] }] }));
  const frame6 = (s: Ip6Spec, sport: number, dport: number, vtag: number, chunks: SctpChunkOpts[], checksum?: number) =>
    ip6Layers(s).sctp({ sport, dport, vtag, chunks, ...(checksum !== undefined ? { checksum } : {}) }).build();
  const fromClient: Ip6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, hopLimit: 57 };
  const toServer: Ip6Spec = { smac: NAT6.inMac, dmac: NAT6.rs1Mac, src: CLIENT6, dst: NAT6.rs1, hopLimit: 56 };
  const fromServer: Ip6Spec = { smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, hopLimit: 64 };
  const toClient: Ip6Spec = { smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, dst: CLIENT6, hopLimit: 63 };

  it('rewrites address, port and CRC32c both ways; the states as over IPv4; a bad CRC is dropped', () => {
    const rig = new Rig(cfg6);
    const states: string[] = [];
    for (const [dir, vtag, chunks] of ASSOC) {
      if (dir === 'in') {
        const out = rig.in(0, frame6(fromClient, CPORT, VPORT, vtag, chunks), 10);
        expectFrames(out, [{ port: 1, bytes: frame6(toServer, CPORT, RPORT, vtag, chunks) }]);
      } else {
        const out = rig.in(1, frame6(fromServer, RPORT, CPORT, vtag, chunks), 10);
        expectFrames(out, [{ port: 0, bytes: frame6(toClient, VPORT, CPORT, vtag, chunks) }]);
      }
      const slot = rig.d.conns.lookupIn6(SCTP, ip6(CLIENT6), 0, CPORT, ip6(NAT6.vip), 0, VPORT, 0);
      states.push(SCTP_STATE_NAMES[rig.d.conns.state[slot]!]!);
    }
    expect(states).toEqual(['INIT1', 'C-SENT', 'C-REPLIED', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED',
      'S-RECEIVED', 'S-ACK-SENT', 'CLOSED']);
    expect(rig.drops()).toEqual({});
    const r2 = new Rig(cfg6);
    expectDropped(r2, r2.in(0, frame6(fromClient, CPORT + 1, VPORT, 0, ASSOC[0]![2], 0x12345678), 1), 'sctp-bad-crc');
  });

  it('an ICMPv6 error from the real server quoting SCTP: to the client from the VIP, quoted address and port back, the quoted CRC as it was', () => {
    const rig = new Rig(cfg6);
    const init = ASSOC[0]![2];
    rig.in(0, frame6(fromClient, CPORT, VPORT, 0, init), 1);
    const atRs = frame6(toServer, CPORT, RPORT, 0, init);
    // the CRC field of the packet as the real server got it (ports 40123 > 5001), read as SCTP stores it big-endian
    const c = 14 + 40 + 8;
    const rsCrc = ((atRs[c]! << 24) | (atRs[c + 1]! << 16) | (atRs[c + 2]! << 8) | atRs[c + 3]!) >>> 0;
    const err = eth({ src: NAT6.rs1Mac, dst: NAT6.inMac }).ipv6({ src: NAT6.rs1, dst: CLIENT6, hopLimit: 64 })
      .icmpv6({ type: 1, code: 4 }).payload(atRs.subarray(14)).build();
    const quotedAtClient = frame6({ ...fromClient, hopLimit: 56 }, CPORT, VPORT, 0, init, rsCrc).subarray(14);
    const want = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.vip, dst: CLIENT6, hopLimit: 63 })
      .icmpv6({ type: 1, code: 4 }).payload(quotedAtClient).build();
    expectFrames(rig.in(1, err, 2), [{ port: 0, bytes: want }]);
    expect(rig.drops()).toEqual({});
  });
});
