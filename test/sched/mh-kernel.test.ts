// mh against the kernel: SipHash-1-3 known answers, then picks computed by an
// independent Python model of ip_vs_mh.c + 64-bit hsiphash
// (fixtures/sched/gen_mh.py, which writes fixtures/sched/mh_cases.json).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Dest } from '../../src/model/dest.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/model/proto.js';
import { Service } from '../../src/model/service.js';
import {
  hsiphash,
  hsiphash1u32,
  hsiphash2u32,
  hsiphash3u32,
  hsiphash4u32,
  hsiphashKey,
  hsiphashKeyFromBytes,
  siphash13,
} from '../../src/sched/hsiphash.js';
import '../../src/sched/index.js';
import {
  MH_HASH1,
  MH_HASH2,
  MH_TAB_SIZE,
  mhAddrFold6,
  mhHashKey,
  mhHomeSlot,
  mhServingSlot,
  type MhState,
} from '../../src/sched/mh.js';
import { IPPROTO_SCTP } from '../../src/wire/ipproto.js';
import { ip, VIP } from './helpers.js';
import { schedPacket } from '../../src/model/scheduler.js';

// SipHash-1-3, key 00 01 .. 0f, message 00 01 .. (n-1) for n = 0..63, as
// u64. From rust-lang/rust library/core/tests/hash/sip.rs (test_siphash_1_3),
// there given as little-endian bytes.
const SIPHASH13_VECTORS = [
  'abac0158050fc4dc', 'c9f49bf37d57ca93', '82cb9b024dc7d44d', '8bf80ab8e7ddf7fb',
  'cf75576088d38328', 'def9d52f49533b67', 'c50d2b50c59f22a7', 'd3927d989bb11140',
  '369095118d299a8e', '25a48eb36c063de4', '79de85ee92ff097f', '70c118c1f94dc352',
  '78a384b157b4d9a2', '306f760c1229ffa7', '605aa111c0f95d34', 'd320d86d2a519956',
  'cc4fdd1a7d908b66', '9cf2689063dbd80c', '8ffc389cb473e63e', 'f21f9de58d297d1c',
  'c0dc2f46a6cce040', 'b992abfe2b45f844', '7ffe7b9ba320872e', '525a0e7fdae6c123',
  'f464aeb267349c8c', '45cd5928705b0979', '3a3e35e3ca9913a5', 'a91dc74e4ade3b35',
  'fb0bed02ef6cd00d', '88d93cb44ab1e1f4', '540f11d643c5e663', '2370dd1f8c21d1bc',
  '81157b6c16a7b60d', '4d54b9e57a8ff9bf', '759f12781f2a753e', 'cea1a3bebf186b91',
  '2cf508d3ada26206', 'b6101c2da3c33057', 'b3f47496ae3a36a1', '626b57547b108392',
  'c1d2363299e41531', '667cc1923f1ad944', '65704ffec8138825', '24f280d1c28949a6',
  'c2ca1cedfaf8876b', 'c2164bfc9f042196', 'a16e9c9368b1d623', '49fb169c8b5114fd',
  '9f3143f8df074c46', 'c6fdaf2412cc86b3', '7eaf49d10a52098f', '1cf313559d292f9a',
  'c44a30dda2f41f12', '36fae98943a71ed0', '318fb34c73f0bce6', 'a27abf3670a7e980',
  'b4bcc0db243c6d75', '23f8d852fdb71513', '8f035f4da67d8a08', 'd89cd0e5b7e8f148',
  'f6f4e6bcf7a644ee', 'aec59ad80f1837f2', 'c3b2f6154b6694e0', '9d199062b7bbb3a8',
];

const hex32 = (x: number) => (x >>> 0).toString(16).padStart(8, '0');

interface DestRef {
  addr: string;
  port: number;
}
interface Op extends DestRef {
  op: 'add' | 'edit' | 'del' | 'overload';
  weight?: number;
}
interface Probe {
  caddr: string;
  cport: number;
  proto: number;
  home: number;
  slot: number | null;
  expect: DestRef | null;
}
interface Scenario {
  name: string;
  flags: { mhFallback: boolean; mhPort: boolean };
  ops: Op[];
  gcd: number;
  rshift: number;
  dests: (DestRef & { offset: number; skip: number; turns: number; weight: number; lastWeight: number; overloaded: boolean })[];
  slotCounts: Record<string, number>;
  table?: number[];
  probes: Probe[];
}
interface Fixture {
  tabSize: number;
  hash1Key: [number, number];
  hash2Key: [number, number];
  hashes: { v: number; hash1: number; hash2: number }[];
  ipv6: { addr: string; port: number; fold: number; slot1: number; skip: number }[];
  scenarios: Scenario[];
}

const fx = JSON.parse(readFileSync(new URL('../../fixtures/sched/mh_cases.json', import.meta.url), 'utf8')) as Fixture;

const key = (r: DestRef) => `${r.addr}:${r.port}`;

/** Replays a scenario's history on a fresh tapvs service. */
function build(sc: Scenario): Service {
  const svc = new Service({ proto: IPPROTO_TCP, addr: VIP, port: 80, scheduler: 'mh', flags: sc.flags });
  const byKey = new Map<string, Dest>();
  for (const op of sc.ops) {
    if (op.op === 'add') {
      byKey.set(key(op), svc.addDest({ addr: ip(op.addr), port: op.port, weight: op.weight! }));
      continue;
    }
    const d = byKey.get(key(op))!;
    expect(d, `${sc.name}: ${op.op} of unknown ${key(op)}`).toBeDefined();
    if (op.op === 'edit') svc.editDest(d, { weight: op.weight! });
    else if (op.op === 'del') svc.removeDest(d);
    else d.overloaded = true; // the kernel sets IP_VS_DEST_F_OVERLOAD without telling the scheduler
  }
  return svc;
}

const destKey = (d: Dest | null) => (d === null ? null : `${ipStrOf(d.addr)}:${d.port}`);
function ipStrOf(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** IPv6 text -> 16 bytes (enough of RFC 4291 for the fixture: '::' and embedded IPv4). */
function ip6Bytes(s: string): Uint8Array {
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail4 = s.slice(lastColon + 1).split('.').map(Number);
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = [...hs, ...new Array<string>(8 - hs.length - ts.length).fill('0'), ...ts].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  if (tail4.length) out.set(tail4, 12);
  return out;
}

describe('hsiphash (64-bit kernel: SipHash-1-3, 32-bit result)', () => {
  const key0 = hsiphashKeyFromBytes(Uint8Array.from({ length: 16 }, (_, i) => i));
  const msg = Uint8Array.from({ length: 64 }, (_, i) => i);

  it('SipHash-1-3 gives the 64 published vectors (key 0..15, messages 0..n-1)', () => {
    const out = new Uint32Array(2);
    const got = SIPHASH13_VECTORS.map((_, n) => {
      siphash13(msg, n, key0, out);
      return hex32(out[1]!) + hex32(out[0]!);
    });
    expect(got).toEqual(SIPHASH13_VECTORS);
  });

  it('hsiphash is the low 32 bits of SipHash-1-3', () => {
    SIPHASH13_VECTORS.forEach((vec, n) => expect(hex32(hsiphash(msg, n, key0))).toBe(vec.slice(8)));
  });

  it('the word forms equal hsiphash of the words as little-endian bytes (what the kernel dispatches to)', () => {
    const dv = new DataView(msg.buffer);
    let x = 0x9e3779b9;
    for (let t = 0; t < 200; t++) {
      const w: number[] = [];
      for (let i = 0; i < 4; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        w.push(x);
        dv.setUint32(4 * i, x, true);
      }
      const k = hsiphashKey(w[0]! ^ 0x5a5a5a5a, w[1]!, w[2]!, w[3]! ^ 0xffffffff);
      expect(hsiphash1u32(w[0]!, k)).toBe(hsiphash(msg, 4, k));
      expect(hsiphash2u32(w[0]!, w[1]!, k)).toBe(hsiphash(msg, 8, k));
      expect(hsiphash3u32(w[0]!, w[1]!, w[2]!, k)).toBe(hsiphash(msg, 12, k));
      expect(hsiphash4u32(w[0]!, w[1]!, w[2]!, w[3]!, k)).toBe(hsiphash(msg, 16, k));
    }
    // restore the 0..63 message for the other tests
    msg.forEach((_, i) => (msg[i] = i));
  });

  it('the key halves matter: a high word set changes the result (the keys are u64, not u32)', () => {
    const lo = hsiphashKey(2654435761, 2654435761);
    const hi = hsiphashKey(2654435761, 2654435761, 1, 0);
    expect(hsiphash1u32(12345, lo)).not.toBe(hsiphash1u32(12345, hi));
  });
});

describe('mh against the independent kernel model (fixtures/sched/gen_mh.py)', () => {
  it('uses the kernel table size and keys', () => {
    expect(MH_TAB_SIZE).toBe(fx.tabSize);
    expect(MH_HASH1).toEqual(hsiphashKey(fx.hash1Key[0], fx.hash1Key[1]));
    expect(MH_HASH2).toEqual(hsiphashKey(fx.hash2Key[0], fx.hash2Key[1]));
  });

  it(`hashes ${fx.hashes.length} u32 values as the model does, with both keys`, () => {
    const buf = new Uint8Array(4);
    const dv = new DataView(buf.buffer);
    for (const h of fx.hashes) {
      expect([h.v, mhHashKey(h.v, 0, MH_HASH1, 0)]).toEqual([h.v, h.hash1]);
      expect([h.v, mhHashKey(h.v, 0, MH_HASH2, 0)]).toEqual([h.v, h.hash2]);
      dv.setUint32(0, h.v, true); // &v on x86
      expect(hsiphash(buf, 4, MH_HASH1)).toBe(h.hash1);
    }
  });

  it('offset + port + addr wraps at 2^32 before hashing', () => {
    expect(mhHashKey(0xffffffff, 2, MH_HASH1, 0)).toBe(mhHashKey(1, 0, MH_HASH1, 0));
    expect(mhHashKey(0xfffffff0, 0x10, MH_HASH1, 5)).toBe(mhHashKey(5, 0, MH_HASH1, 0));
  });

  it(`folds ${fx.ipv6.length} IPv6 addresses and hashes them to the model's slots`, () => {
    for (const c of fx.ipv6) {
      const fold = mhAddrFold6(ip6Bytes(c.addr));
      expect([c.addr, fold]).toEqual([c.addr, c.fold]);
      expect([c.addr, mhHashKey(fold, c.port, MH_HASH1, 0) % MH_TAB_SIZE]).toEqual([c.addr, c.slot1]);
      expect([c.addr, (mhHashKey(fold, c.port, MH_HASH2, 0) % (MH_TAB_SIZE - 1)) + 1]).toEqual([c.addr, c.skip]);
    }
    // the fold reads from an offset too (an address inside a packet)
    const pkt = new Uint8Array(40);
    pkt.set(ip6Bytes(fx.ipv6[2]!.addr), 24);
    expect(mhAddrFold6(pkt, 24)).toBe(fx.ipv6[2]!.fold);
  });

  const probes = fx.scenarios.reduce((n, s) => n + s.probes.length, 0);

  it('the fixture covers what it should', () => {
    const all = fx.scenarios.flatMap((s) => s.probes.map((p) => ({ s, p })));
    expect(probes).toBeGreaterThanOrEqual(1000);
    // clients of a dest that went unusable: refused without mh-fallback ...
    expect(all.filter(({ s, p }) => !s.flags.mhFallback && p.expect === null && p.slot === null).length).toBeGreaterThan(100);
    // ... and rerouted by the kernel's probe with it (served at another slot)
    expect(all.filter(({ s, p }) => s.flags.mhFallback && p.expect !== null && p.slot !== p.home).length).toBeGreaterThan(100);
    // with fallback, and still nobody: every dest unusable, or an empty table
    expect(all.filter(({ s, p }) => s.flags.mhFallback && p.expect === null).length).toBeGreaterThan(20);
    // mh-port with a port-carrying protocol, and with ICMP (no port)
    expect(all.filter(({ s, p }) => s.flags.mhPort && p.proto !== 1 && p.cport !== 0).length).toBeGreaterThan(500);
    expect(all.filter(({ s, p }) => s.flags.mhPort && p.proto === 1).length).toBeGreaterThan(50);
    // histories with weight-0 edits (slots kept), weight-0 adds (no slots), overloads and deletions
    const ops = fx.scenarios.flatMap((s) => s.ops);
    expect(ops.filter((o) => o.op === 'edit' && o.weight === 0).length).toBeGreaterThan(20);
    expect(ops.filter((o) => o.op === 'add' && o.weight === 0).length).toBeGreaterThan(10);
    expect(ops.filter((o) => o.op === 'overload').length).toBeGreaterThan(20);
    expect(ops.filter((o) => o.op === 'del').length).toBeGreaterThan(5);
    // weights large enough to be shifted down
    expect(fx.scenarios.filter((s) => s.rshift > 0).length).toBeGreaterThan(10);
    expect(fx.scenarios.filter((s) => s.gcd === 0).length).toBeGreaterThan(0);
  });

  it.each(fx.scenarios.map((s) => [s.name, s] as const))('%s: same table and same picks', (_name, sc) => {
    const svc = build(sc);
    const st = svc.schedState as MhState;

    // the service as the model ended it
    expect(svc.dests.map((d) => [destKey(d), d.weight, d.overloaded])).toEqual(
      sc.dests.map((d) => [key(d), d.weight, d.overloaded]),
    );
    expect([st.gcd, st.rshift]).toEqual([sc.gcd, sc.rshift]);
    for (const d of sc.dests) {
      const a = ip(d.addr);
      expect([key(d), mhHashKey(a, d.port, MH_HASH1, 0) % MH_TAB_SIZE]).toEqual([key(d), d.offset]);
      expect([key(d), (mhHashKey(a, d.port, MH_HASH2, 0) % (MH_TAB_SIZE - 1)) + 1]).toEqual([key(d), d.skip]);
    }

    // the table: slot counts always, every slot where the model wrote it out
    const counts: Record<string, number> = {};
    for (const d of st.lookup) {
      const k = destKey(d) ?? 'empty';
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts).toEqual(sc.slotCounts);
    if (sc.table) expect(st.lookup.map((d) => (d === null ? -1 : svc.dests.indexOf(d)))).toEqual(sc.table);

    // the picks
    const got = sc.probes.map((p) => {
      const pkt = schedPacket(p.proto, ip(p.caddr), p.cport, VIP, 80);
      const port = sc.flags.mhPort && (p.proto === IPPROTO_TCP || p.proto === IPPROTO_UDP || p.proto === IPPROTO_SCTP) ? p.cport : 0;
      const slot = mhServingSlot(st, pkt.caddr, port, sc.flags.mhFallback);
      return {
        probe: `${p.caddr}:${p.cport}/${p.proto}`,
        home: mhHomeSlot(pkt.caddr, port),
        slot: slot < 0 ? null : slot,
        pick: destKey(svc.sched.pick(svc, st, pkt, 0)),
      };
    });
    const want = sc.probes.map((p) => ({
      probe: `${p.caddr}:${p.cport}/${p.proto}`,
      home: p.home,
      slot: p.slot,
      pick: p.expect === null ? null : key(p.expect),
    }));
    expect(got).toEqual(want);

    // nobody is ever sent to a quiescent (weight 0) or overloaded dest
    const unusable = new Set(sc.dests.filter((d) => d.weight === 0 || d.overloaded).map(key));
    for (const g of got) expect(g.pick !== null && unusable.has(g.pick)).toBe(false);
  });

  it(`${probes} probes in all, each with the kernel's real server (or none)`, () => {
    expect(probes).toBeGreaterThanOrEqual(1000);
  });

  it('explain names the home slot and, after a fallback, the slot that served', () => {
    const sc = fx.scenarios.find((s) => s.flags.mhFallback && !s.flags.mhPort && s.probes.some((p) => p.expect && p.slot !== p.home))!;
    const p = sc.probes.find((q) => q.expect && q.slot !== q.home)!;
    const svc = build(sc);
    const pkt = schedPacket(p.proto, ip(p.caddr), p.cport, VIP, 80);
    const d = svc.sched.pick(svc, svc.schedState, pkt, 0)!;
    const text = svc.sched.explain!(svc, svc.schedState, d, pkt);
    expect(text).toMatch(new RegExp(`^mh: hash\\(${p.caddr.replace(/\./g, '\\.')}\\) -> slot ${p.home} \\(.* unusable\\), fallback slot ${p.slot} -> ${key(p.expect!).replace(/\./g, '\\.')}$`));

    const sc2 = fx.scenarios.find((s) => s.flags.mhPort && s.probes.some((q) => q.expect && q.slot === q.home && q.proto === IPPROTO_UDP))!;
    const p2 = sc2.probes.find((q) => q.expect && q.slot === q.home && q.proto === IPPROTO_UDP)!;
    const svc2 = build(sc2);
    const pkt2 = schedPacket(p2.proto, ip(p2.caddr), p2.cport, VIP, 80);
    const d2 = svc2.sched.pick(svc2, svc2.schedState, pkt2, 0)!;
    expect(svc2.sched.explain!(svc2, svc2.schedState, d2, pkt2)).toBe(
      `mh: hash(${p2.caddr}:${p2.cport}) -> slot ${p2.home}/${MH_TAB_SIZE} -> ${key(p2.expect!)}`,
    );
  });
});
