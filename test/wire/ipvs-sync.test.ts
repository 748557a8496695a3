// IPVS sync messages laid out by hand from the kernel's structs
// (net/netfilter/ipvs/ip_vs_sync.c: ip_vs_sync_mesg_v0, ip_vs_sync_conn_v0,
// ip_vs_sync_conn_options, ip_vs_sync_mesg, ip_vs_sync_v4, ip_vs_sync_v6 and
// the option TLVs), one row per field with its offset in the message, its
// size and meaning, then compared with what ipvs-sync.ts writes and reads.

import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/wire/addr.js';
import { eth } from '../../src/wire/builder.js';
import {
  IPVS_SYNC_BAD_FAMILY, IPVS_SYNC_BAD_OPTION, IPVS_SYNC_BAD_PE, IPVS_SYNC_BAD_RECORD_SIZE, IPVS_SYNC_BAD_SIZE,
  IPVS_SYNC_BAD_VERSION, IPVS_SYNC_COUNT_MISMATCH, IPVS_SYNC_FULL, IPVS_SYNC_OPT_TRUNCATED, IPVS_SYNC_TRUNCATED,
  WIRE_OK, wireErrorName,
} from '../../src/wire/errors.js';
import {
  decodeIpvsSync, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_HASHED, IP_VS_CONN_F_IN_SEQ, IP_VS_CONN_F_INACTIVE,
  IP_VS_CONN_F_OUT_SEQ, IP_VS_CONN_F_TUNNEL, IP_VS_TCP_S_ESTABLISHED, IP_VS_TCP_S_SYN_RECV, IPVS_SYNC_GROUP,
  IPVS_SYNC_PORT, IpvsSyncReader, ipvsSyncMaxlen, ipvsSyncRecordLength, ipvsSyncStateCount, ipvsSyncStateName,
  IpvsSyncWriter, newIpvsSyncConn, type IpvsSyncConn,
} from '../../src/wire/ipvs-sync.js';
import { formatFrame, formatIpvsSync } from '../../src/wire/printer.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Rows of [bytes as hex, "offset size meaning"]: the offsets are checked as the bytes are joined. */
function lay(rows: readonly (readonly [string, string])[]): Uint8Array {
  const out: number[] = [];
  for (const [h, note] of rows) {
    const at = Number(/^(\d+)/.exec(note)?.[1]);
    if (at !== out.length) throw new Error(`layout: '${note}' starts at ${out.length}, not ${at}`);
    for (const b of h.match(/[0-9a-f]{2}/g) ?? []) out.push(parseInt(b, 16));
  }
  return Uint8Array.from(out);
}

const ip = parseIp;
const w6 = (...w: number[]): Uint32Array => Uint32Array.from(w);

function conn(o: Partial<IpvsSyncConn>): IpvsSyncConn {
  return { ...newIpvsSyncConn(), ...o };
}

// ---- version 0: two TCP conns, the second with sequence data -------------------
const V0_CONN1 = conn({
  protocol: 6, cport: 40000, vport: 80, dport: 80, caddr: ip('10.0.0.1'), vaddr: ip('10.0.0.100'), daddr: ip('192.168.1.11'),
  flags: IP_VS_CONN_F_DROUTE, state: IP_VS_TCP_S_ESTABLISHED,
});
const V0_CONN2 = conn({
  protocol: 6, cport: 50000, vport: 21, dport: 21, caddr: ip('10.0.0.2'), vaddr: ip('10.0.0.100'), daddr: ip('192.168.1.12'),
  flags: IP_VS_CONN_F_IN_SEQ, state: IP_VS_TCP_S_ESTABLISHED,
  inSeqInit: 0x11223344, inSeqDelta: 0x10, inSeqPrevDelta: 8, outSeqInit: 0xaabbccdd, outSeqDelta: 0xfffffff0, outSeqPrevDelta: 0,
});
const V0 = lay([
  ['02', '0 1 ip_vs_sync_mesg_v0.nr_conns: 2'],
  ['05', '1 1 syncid 5'],
  ['004c', '2 2 size 76 = 4 + 24 + 48'],
  // conn 1: ip_vs_sync_conn_v0, 24 bytes
  ['00', '4 1 reserved'],
  ['06', '5 1 protocol TCP'],
  ['9c40', '6 2 cport 40000'],
  ['0050', '8 2 vport 80'],
  ['0050', '10 2 dport 80'],
  ['0a000001', '12 4 caddr 10.0.0.1'],
  ['0a000064', '16 4 vaddr 10.0.0.100'],
  ['c0a8010b', '20 4 daddr 192.168.1.11'],
  ['0003', '24 2 flags IP_VS_CONN_F_DROUTE'],
  ['0001', '26 2 state IP_VS_TCP_S_ESTABLISHED'],
  // conn 2: ip_vs_sync_conn_v0 + ip_vs_sync_conn_options
  ['00', '28 1 reserved'],
  ['06', '29 1 protocol TCP'],
  ['c350', '30 2 cport 50000'],
  ['0015', '32 2 vport 21'],
  ['0015', '34 2 dport 21'],
  ['0a000002', '36 4 caddr 10.0.0.2'],
  ['0a000064', '40 4 vaddr 10.0.0.100'],
  ['c0a8010c', '44 4 daddr 192.168.1.12'],
  ['0400', '48 2 flags IP_VS_CONN_F_IN_SEQ (masq): the 24 option bytes follow'],
  ['0001', '50 2 state ESTABLISHED'],
  // v0 copies struct ip_vs_seq as it is in memory: host order, here little-endian (x86)
  ['44332211', '52 4 in_seq.init_seq 0x11223344'],
  ['10000000', '56 4 in_seq.delta 16'],
  ['08000000', '60 4 in_seq.previous_delta 8'],
  ['ddccbbaa', '64 4 out_seq.init_seq 0xaabbccdd'],
  ['f0ffffff', '68 4 out_seq.delta -16'],
  ['00000000', '72 4 out_seq.previous_delta 0'],
]);

// ---- version 1: IPv4 conn, IPv4 conn with sequence option, IPv6 conn with PE data and name ----
const PE = new TextEncoder().encode('abcsip');
const V1_CONN1 = conn({
  protocol: 6, flags: IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_DROUTE, state: IP_VS_TCP_S_SYN_RECV,
  cport: 40000, vport: 80, dport: 80, fwmark: 0, timeout: 60,
  caddr: ip('10.0.0.1'), vaddr: ip('10.0.0.100'), daddr: ip('192.168.1.11'),
});
const V1_CONN2 = conn({
  protocol: 6, flags: IP_VS_CONN_F_IN_SEQ | IP_VS_CONN_F_OUT_SEQ, state: IP_VS_TCP_S_ESTABLISHED,
  cport: 50000, vport: 21, dport: 21, fwmark: 7, timeout: 900,
  caddr: ip('10.0.0.2'), vaddr: ip('10.0.0.100'), daddr: ip('192.168.1.12'),
  inSeqInit: 0x11223344, inSeqDelta: 0x10, inSeqPrevDelta: 8, outSeqInit: 0xaabbccdd, outSeqDelta: 0xfffffff0, outSeqPrevDelta: 0,
});
const V1_CONN3 = conn({
  af: 10, protocol: 17, flags: IP_VS_CONN_F_TUNNEL, state: 0, cport: 5060, vport: 5060, dport: 5060, fwmark: 0, timeout: 300,
  caddr6: w6(0x20010db8, 0, 0, 1), vaddr6: w6(0x20010db8, 0, 0, 0x100), daddr6: w6(0x20010db8, 0x10000, 0, 0x11),
  peBuf: PE, peDataOff: 0, peDataLen: 3, peNameOff: 3, peNameLen: 3,
});
const V1 = lay([
  ['00', '0 1 ip_vs_sync_mesg.reserved: 0 (so a v0 receiver sees no conns)'],
  ['07', '1 1 syncid 7'],
  ['00be', '2 2 size 190'],
  ['03', '4 1 nr_conns 3'],
  ['01', '5 1 version SYNC_PROTO_VER'],
  ['0000', '6 2 spare'],
  // record 1: ip_vs_sync_v4, no options
  ['00', '8 1 type 0: IPv4'],
  ['06', '9 1 protocol TCP'],
  ['0024', '10 2 ver_size: version 0 | size 36'],
  ['00000103', '12 4 flags INACTIVE | DROUTE'],
  ['0003', '16 2 state SYN_RECV'],
  ['9c40', '18 2 cport 40000'],
  ['0050', '20 2 vport 80'],
  ['0050', '22 2 dport 80'],
  ['00000000', '24 4 fwmark 0'],
  ['0000003c', '28 4 timeout 60 s'],
  ['0a000001', '32 4 caddr 10.0.0.1'],
  ['0a000064', '36 4 vaddr 10.0.0.100'],
  ['c0a8010b', '40 4 daddr 192.168.1.11'],
  // record 2 at 44 (aligned): ip_vs_sync_v4 + sequence option
  ['00', '44 1 type IPv4'],
  ['06', '45 1 protocol TCP'],
  ['003e', '46 2 ver_size: size 62 = 36 + 2 + 24'],
  ['00000600', '48 4 flags IN_SEQ | OUT_SEQ (masq)'],
  ['0001', '52 2 state ESTABLISHED'],
  ['c350', '54 2 cport 50000'],
  ['0015', '56 2 vport 21'],
  ['0015', '58 2 dport 21'],
  ['00000007', '60 4 fwmark 7'],
  ['00000384', '64 4 timeout 900 s'],
  ['0a000002', '68 4 caddr 10.0.0.2'],
  ['0a000064', '72 4 vaddr 10.0.0.100'],
  ['c0a8010c', '76 4 daddr 192.168.1.12'],
  ['01', '80 1 option type IPVS_OPT_SEQ_DATA'],
  ['18', '81 1 option length 24'],
  // v1 sends the sequence data in network order
  ['11223344', '82 4 in_seq.init_seq'],
  ['00000010', '86 4 in_seq.delta'],
  ['00000008', '90 4 in_seq.previous_delta'],
  ['aabbccdd', '94 4 out_seq.init_seq'],
  ['fffffff0', '98 4 out_seq.delta'],
  ['00000000', '102 4 out_seq.previous_delta'],
  ['0000', '106 2 padding before the next record (counted in the message size, not in record 2)'],
  // record 3 at 108: ip_vs_sync_v6 + PE data + PE name
  ['01', '108 1 type STYPE_F_INET6'],
  ['11', '109 1 protocol UDP'],
  ['0052', '110 2 ver_size: size 82 = 72 + 5 + 5'],
  ['00000002', '112 4 flags TUNNEL'],
  ['0000', '116 2 state UDP NORMAL'],
  ['13c4', '118 2 cport 5060'],
  ['13c4', '120 2 vport 5060'],
  ['13c4', '122 2 dport 5060'],
  ['00000000', '124 4 fwmark'],
  ['0000012c', '128 4 timeout 300 s'],
  ['20010db8000000000000000000000001', '132 16 caddr 2001:db8::1'],
  ['20010db8000000000000000000000100', '148 16 vaddr 2001:db8::100'],
  ['20010db8000100000000000000000011', '164 16 daddr 2001:db8:1::11'],
  ['02', '180 1 option type IPVS_OPT_PE_DATA'],
  ['03', '181 1 length 3'],
  ['616263', '182 3 "abc"'],
  ['03', '185 1 option type IPVS_OPT_PE_NAME (sent right after the PE data)'],
  ['03', '186 1 length 3'],
  ['736970', '187 3 "sip"'],
  // 190: the last record is not padded
]);

function expectConn(got: IpvsSyncConn, want: IpvsSyncConn, version: 0 | 1): void {
  const pick = (c: IpvsSyncConn): unknown[] => [
    c.af, c.protocol, c.flags, c.state, c.cport, c.vport, c.dport, version === 1 ? c.fwmark : 0, version === 1 ? c.timeout : 0,
    ...(c.af === 10 ? [Array.from(c.caddr6), Array.from(c.vaddr6), Array.from(c.daddr6)] : [c.caddr, c.vaddr, c.daddr]),
    (c.flags & 0x600) !== 0,
    ...((c.flags & 0x600) !== 0 ? [c.inSeqInit, c.inSeqDelta, c.inSeqPrevDelta, c.outSeqInit, c.outSeqDelta, c.outSeqPrevDelta] : []),
    hex(c.peBuf.subarray(c.peDataOff, c.peDataOff + c.peDataLen)), hex(c.peBuf.subarray(c.peNameOff, c.peNameOff + c.peNameLen)),
  ];
  expect(pick(got)).toEqual(pick(want));
  expect(got.hasSeq).toBe((want.flags & 0x600) !== 0);
}

describe('IPVS sync version 0, byte for byte', () => {
  it('the writer lays out the kernel v0 message', () => {
    const w = new IpvsSyncWriter({ version: 0, syncid: 5, maxlen: 1472 });
    expect(w.add(V0_CONN1)).toBe(WIRE_OK);
    expect(w.add({ ...V0_CONN2, flags: V0_CONN2.flags | IP_VS_CONN_F_HASHED })).toBe(WIRE_OK); // HASHED is not sent
    expect(hex(w.message())).toBe(hex(V0));
  });

  it('the reader gives back every field, sequence data in the sender byte order', () => {
    const got: IpvsSyncConn[] = [];
    const r = new IpvsSyncReader();
    expect(r.read(V0, 0, V0.length, (c) => got.push({ ...c }))).toBe(WIRE_OK);
    expect([r.version, r.syncid, r.count, r.size, r.delivered]).toEqual([0, 5, 2, 76, 2]);
    expectConn(got[0]!, V0_CONN1, 0);
    expectConn(got[1]!, V0_CONN2, 0);
    // read as network order, the same bytes are other numbers (what tshark shows)
    r.v0SeqBigEndian = true;
    let first = 0;
    r.read(V0, 0, V0.length, (c) => { if (c.hasSeq) first = c.inSeqInit; });
    expect(first).toBe(0x44332211);
  });

  it('IPv6 cannot go in v0', () => {
    const w = new IpvsSyncWriter({ version: 0, maxlen: 1472 });
    expect(w.add(V1_CONN3)).toBe(IPVS_SYNC_BAD_FAMILY);
    expect(w.count).toBe(0);
  });
});

describe('IPVS sync version 1, byte for byte', () => {
  it('the writer lays out the kernel v1 message, padding before a record only', () => {
    const w = new IpvsSyncWriter({ syncid: 7, maxlen: 1472 });
    for (const c of [V1_CONN1, V1_CONN2, V1_CONN3]) expect(w.add(c)).toBe(WIRE_OK);
    expect(hex(w.message())).toBe(hex(V1));
    expect([w.size, w.count]).toEqual([190, 3]);
  });

  it('the reader gives back every field, options included', () => {
    const { rc, version, syncid, count, conns } = decodeIpvsSync(V1);
    expect([rc, version, syncid, count, conns.length]).toEqual([WIRE_OK, 1, 7, 3, 3]);
    expectConn(conns[0]!, V1_CONN1, 1);
    expectConn(conns[1]!, V1_CONN2, 1);
    expectConn(conns[2]!, V1_CONN3, 1);
    expect(new TextDecoder().decode(conns[2]!.peBuf.subarray(conns[2]!.peNameOff, conns[2]!.peNameOff + 3))).toBe('sip');
  });

  it('one reusable object per record, no copies: the callback sees the same object', () => {
    const r = new IpvsSyncReader();
    const seen = new Set<IpvsSyncConn>();
    r.read(V1, 0, V1.length, (c) => seen.add(c));
    expect([...seen]).toEqual([r.conn]);
  });

  it('record lengths and the errors of records that cannot be sent', () => {
    expect([ipvsSyncRecordLength(1, V1_CONN1), ipvsSyncRecordLength(1, V1_CONN2), ipvsSyncRecordLength(1, V1_CONN3)]).toEqual([36, 62, 82]);
    expect([ipvsSyncRecordLength(0, V0_CONN1), ipvsSyncRecordLength(0, V0_CONN2)]).toEqual([24, 48]);
    const w = new IpvsSyncWriter({ maxlen: 1472 });
    expect(w.add(conn({ peBuf: new Uint8Array(300), peDataLen: 256 }))).toBe(IPVS_SYNC_BAD_PE);
    expect(w.add(conn({ peBuf: new Uint8Array(20), peDataLen: 1, peNameLen: 17 }))).toBe(IPVS_SYNC_BAD_PE);
    expect(w.add(conn({ peBuf: PE, peNameLen: 3 }))).toBe(IPVS_SYNC_BAD_PE); // a name needs data, as the kernel sends it
    expect(w.add(conn({ af: 3 }))).toBe(IPVS_SYNC_BAD_FAMILY);
  });
});

describe('IPVS sync writer: flush at sync_maxlen', () => {
  it('refuses the record that would pass maxlen, counting the padding', () => {
    const w = new IpvsSyncWriter({ maxlen: 189 });
    expect(w.add(V1_CONN1)).toBe(WIRE_OK);
    expect(w.add(V1_CONN2)).toBe(WIRE_OK);
    expect(w.add(V1_CONN3)).toBe(IPVS_SYNC_FULL); // 106 + 2 pad + 82 = 190 > 189
    expect(w.size).toBe(106);
    w.reset();
    expect([w.size, w.count, w.empty]).toEqual([8, 0, true]);
    expect(w.add(V1_CONN3)).toBe(WIRE_OK);
    expect(decodeIpvsSync(w.message()).conns.length).toBe(1);
  });

  it('an empty message takes a record bigger than maxlen (as the kernel sizes its buffer for one)', () => {
    const w = new IpvsSyncWriter({ maxlen: 40 });
    expect(w.add(V1_CONN3)).toBe(WIRE_OK);
    expect(w.add(V1_CONN1)).toBe(IPVS_SYNC_FULL);
    expect(decodeIpvsSync(w.message()).rc).toBe(WIRE_OK);
  });

  it('fills a 1472-byte message with 40 IPv4 records and stops at the 8-bit count', () => {
    const w = new IpvsSyncWriter({ maxlen: ipvsSyncMaxlen({}) });
    let n = 0;
    while (w.add(V1_CONN1) === WIRE_OK) n++;
    expect([n, w.size]).toEqual([40, 8 + 40 * 36]);
    const big = new IpvsSyncWriter({ version: 0, maxlen: 65507 });
    let m = 0;
    while (big.add(V0_CONN1) === WIRE_OK) m++;
    expect(m).toBe(255);
    expect(decodeIpvsSync(big.message()).conns.length).toBe(255);
  });

  it('sync_maxlen as start_sync_thread computes it', () => {
    expect(ipvsSyncMaxlen({})).toBe(1472);
    expect(ipvsSyncMaxlen({ family: 6 })).toBe(1452);
    expect(ipvsSyncMaxlen({ mtu: 9000 })).toBe(1472); // a master ignores the interface MTU
    expect(ipvsSyncMaxlen({ backup: true, mtu: 9000 })).toBe(8972);
    expect(ipvsSyncMaxlen({ backup: true, mtu: 1280 })).toBe(1472); // clamped up to 1500
    expect(ipvsSyncMaxlen({ syncMaxlen: 100 })).toBe(100);
    expect(ipvsSyncMaxlen({ backup: true, syncMaxlen: 100 })).toBe(1024);
    expect(ipvsSyncMaxlen({ syncMaxlen: 70000 })).toBe(65507);
  });
});

describe('IPVS sync reader: every malformed message has its name', () => {
  const read = (b: Uint8Array): number => new IpvsSyncReader().read(b, 0, b.length, () => {});
  const withSize = (b: Uint8Array, n: number): Uint8Array => {
    const c = b.slice(0, n);
    if (n >= 4) { c[2] = n >>> 8; c[3] = n & 0xff; }
    return c;
  };
  const patch = (b: Uint8Array, at: number, ...v: number[]): Uint8Array => {
    const c = b.slice();
    c.set(v, at);
    return c;
  };

  it('every cut of the v0 and v1 messages (size patched to match) is an error, never a throw', () => {
    for (const msg of [V0, V1]) {
      for (let n = 0; n < msg.length; n++) {
        const rc = read(withSize(msg, n));
        expect(rc, `${msg === V0 ? 'v0' : 'v1'} cut to ${n}: ${wireErrorName(rc)}`).not.toBe(WIRE_OK);
      }
      expect(read(msg)).toBe(WIRE_OK);
    }
    // which error, at the boundaries
    expect([3, 4, 5, 28, 29, 52, 75].map((n) => wireErrorName(read(withSize(V0, n))))).toEqual([
      'IPVS_SYNC_TRUNCATED', 'IPVS_SYNC_COUNT_MISMATCH', 'IPVS_SYNC_TRUNCATED', 'IPVS_SYNC_COUNT_MISMATCH',
      'IPVS_SYNC_TRUNCATED', 'IPVS_SYNC_OPT_TRUNCATED', 'IPVS_SYNC_OPT_TRUNCATED',
    ]);
    expect([4, 7, 8, 43, 44, 106, 107, 108, 109, 189].map((n) => wireErrorName(read(withSize(V1, n))))).toEqual([
      'IPVS_SYNC_TRUNCATED', 'IPVS_SYNC_TRUNCATED', 'IPVS_SYNC_COUNT_MISMATCH', 'IPVS_SYNC_TRUNCATED',
      'IPVS_SYNC_COUNT_MISMATCH', 'IPVS_SYNC_COUNT_MISMATCH', 'IPVS_SYNC_COUNT_MISMATCH', 'IPVS_SYNC_COUNT_MISMATCH',
      'IPVS_SYNC_TRUNCATED', 'IPVS_SYNC_TRUNCATED',
    ]);
  });

  it('a cut without the size patched is IPVS_SYNC_BAD_SIZE (the kernel compares size and datagram length)', () => {
    for (let n = 4; n < V1.length; n++) expect(read(V1.subarray(0, n))).toBe(IPVS_SYNC_BAD_SIZE);
    const longer = new Uint8Array(V1.length + 4);
    longer.set(V1);
    expect(read(longer)).toBe(IPVS_SYNC_BAD_SIZE);
  });

  it('records delivered before the error stay delivered, as the kernel keeps them', () => {
    const r = new IpvsSyncReader();
    let n = 0;
    expect(r.read(withSize(V1, 150), 0, 150, () => n++)).toBe(IPVS_SYNC_TRUNCATED);
    expect([n, r.delivered]).toEqual([2, 2]);
  });

  it('header: version and spare', () => {
    expect(read(patch(V1, 5, 2))).toBe(IPVS_SYNC_BAD_VERSION);
    expect(read(patch(V1, 6, 0, 1))).toBe(IPVS_SYNC_BAD_VERSION);
    // a non-zero byte 0 makes it v0 (count in byte 0), whatever follows: the v1 body then reads as v0 garbage
    expect(new IpvsSyncReader().readHeader(patch(V1, 0, 1), 0, V1.length)).toBe(WIRE_OK);
  });

  it('count: fewer records than the count, bytes after the last one', () => {
    expect(read(patch(V1, 4, 4))).toBe(IPVS_SYNC_COUNT_MISMATCH);
    expect(read(patch(V1, 4, 2))).toBe(IPVS_SYNC_COUNT_MISMATCH);
    expect(read(patch(V0, 0, 1))).toBe(IPVS_SYNC_COUNT_MISMATCH);
    expect(read(patch(V0, 0, 3))).toBe(IPVS_SYNC_COUNT_MISMATCH);
  });

  it('record: version nibble, size, family', () => {
    expect(read(patch(V1, 10, 0x10, 0x24))).toBe(IPVS_SYNC_BAD_VERSION);
    expect(read(patch(V1, 10, 0x00, 0x20))).toBe(IPVS_SYNC_BAD_RECORD_SIZE); // 32 < 36
    expect(read(patch(V1, 110, 0x00, 0x40))).toBe(IPVS_SYNC_BAD_RECORD_SIZE); // IPv6 record of 64 < 72
    expect(read(patch(V1, 10, 0x0f, 0xff))).toBe(IPVS_SYNC_TRUNCATED); // runs past the message
    expect(read(patch(V1, 8, 2))).toBe(IPVS_SYNC_BAD_FAMILY);
    // with bit 0 set the kernel reads IPv6 whatever the other bits say; 36 bytes are then too few
    expect(read(patch(V1, 8, 3))).toBe(IPVS_SYNC_BAD_RECORD_SIZE);
  });

  it('options: cut, zero length, wrong sequence length, twice, PE name too long', () => {
    expect(read(patch(V1, 81, 0))).toBe(IPVS_SYNC_OPT_TRUNCATED);
    expect(read(patch(V1, 81, 25))).toBe(IPVS_SYNC_OPT_TRUNCATED); // data past the record end
    expect(read(patch(V1, 181, 9))).toBe(IPVS_SYNC_OPT_TRUNCATED);
    expect(read(patch(V1, 46, 0x00, 0x25))).toBe(IPVS_SYNC_OPT_TRUNCATED); // a record end one byte into the next option
    // sequence option of 20 bytes + a 2-byte PE data option, in the same 62-byte record
    expect(read(patch(V1, 81, 20, ...new Array<number>(20).fill(0), 2, 2, 0, 0))).toBe(IPVS_SYNC_BAD_OPTION);
    expect(read(patch(V1, 185, 2))).toBe(IPVS_SYNC_BAD_OPTION); // PE data twice
    // a 20-byte PE name: record 3 grown by 17 bytes
    const long = new IpvsSyncWriter({ maxlen: 1472 });
    long.add(conn({ ...V1_CONN3, peNameLen: 3 }));
    const b = new Uint8Array(long.size + 17);
    b.set(long.message());
    b[8 + 78] = 20; // the name's length byte (record at 8: 72 + 5 + type)
    b[8 + 3] += 17;
    b[3] += 17;
    expect(read(b)).toBe(IPVS_SYNC_BAD_OPTION);
  });

  it('an unknown mandatory option skips its record; an unknown optional one (0x40 bit) is ignored', () => {
    const r = new IpvsSyncReader();
    let n = 0;
    expect(r.read(patch(V1, 180, 9), 0, V1.length, () => n++)).toBe(WIRE_OK);
    expect([n, r.delivered, r.skipped]).toEqual([2, 2, 1]);
    expect(r.read(patch(V1, 180, 0x49), 0, V1.length, () => n++)).toBe(WIRE_OK);
    expect([r.delivered, r.skipped]).toEqual([3, 0]);
  });
});

describe('states, builder and printer', () => {
  it('state counts and names follow the kernel', () => {
    expect([6, 17, 132, 50, 1, 47].map(ipvsSyncStateCount)).toEqual([11, 1, 14, 1, 0, 0]);
    expect([ipvsSyncStateName(6, 3), ipvsSyncStateName(132, 8), ipvsSyncStateName(17, 0), ipvsSyncStateName(6, 1, true)])
      .toEqual(['SYN_RECV', 'ESTABLISHED', 'NORMAL', 'ASSURED']);
  });

  it('a sync message over UDP to 224.0.0.81:8848, built and printed', () => {
    const f = eth({ src: '02:00:00:00:00:01', dst: '01:00:5e:00:00:51' })
      .ipv4({ src: '10.0.0.2', dst: IPVS_SYNC_GROUP, ttl: 1 })
      .udp({ sport: IPVS_SYNC_PORT, dport: IPVS_SYNC_PORT })
      .ipvsSync({ syncid: 7, conns: [V1_CONN1, V1_CONN2, V1_CONN3] }).build();
    expect(hex(f.subarray(42))).toBe(hex(V1));
    expect(formatFrame(f).slice(2)).toEqual([
      'udp 8848 > 8848 len 190 cksum ok',
      'IPVS sync v1, syncid 7, 3 conns',
      '  conn TCP 10.0.0.1:40000 > 10.0.0.100:80 > 192.168.1.11:80 Route inactive SYN_RECV timeout 60s',
      '  conn TCP 10.0.0.2:50000 > 10.0.0.100:21 > 192.168.1.12:21 Masq seq ESTABLISHED timeout 900s fwmark 7',
      '  conn UDP [2001:db8::1]:5060 > [2001:db8::100]:5060 > [2001:db8:1::11]:5060 Tunnel NORMAL timeout 300s pe sip data 3',
    ]);
    expect(formatIpvsSync(V0, 0, V0.length)).toEqual([
      'IPVS sync v0, syncid 5, 2 conns',
      '  conn TCP 10.0.0.1:40000 > 10.0.0.100:80 > 192.168.1.11:80 Route ESTABLISHED',
      '  conn TCP 10.0.0.2:50000 > 10.0.0.100:21 > 192.168.1.12:21 Masq seq ESTABLISHED',
    ]);
    expect(formatIpvsSync(V1, 0, 100)).toEqual(['IPVS sync IPVS_SYNC_BAD_SIZE (100 bytes)']);
    const four = V1.slice();
    four[4] = 4;
    expect(formatIpvsSync(four, 0, V1.length).at(-1)).toBe('  IPVS_SYNC_COUNT_MISMATCH');
  });
});
