import type { Dest } from '../model/dest.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import type { HashTableState } from './dh.js';
import { destStr, hashKeyStr } from './format.js';
import { goldenHash32 } from './hash.js';
import { usable } from './load.js';
import { registerScheduler, type SchedPacket, type Scheduler } from '../model/scheduler.js';
import { IPPROTO_SCTP } from '../wire/ipproto.js';

export const SH_TAB_BITS = 8;
export const SH_TAB_SIZE = 1 << SH_TAB_BITS;

/**
 * Source hashing, as ip_vs_sh.c. The 256 buckets are filled walking the dest
 * list and giving each dest `weight` consecutive buckets (at least one, even
 * at weight 0), wrapping until the table is full. The client address (plus
 * the client port with sh-port, for TCP/UDP/SCTP) picks the bucket. A dest
 * with weight 0 or overloaded is unusable: null, or with sh-fallback the
 * kernel's deterministic probe of other buckets.
 */
export function hashPortOf(pkt: SchedPacket, usePort: boolean): number {
  if (!usePort) return 0;
  const p = pkt.proto;
  return p === IPPROTO_TCP || p === IPPROTO_UDP || p === IPPROTO_SCTP ? pkt.cport : 0;
}

export function shBucket(addr: number, port: number, offset: number): number {
  return (offset + goldenHash32((port + addr) >>> 0, SH_TAB_BITS)) & (SH_TAB_SIZE - 1);
}

/**
 * The kernel's fallback walk: bucket i of the probe is hash(addr, port,
 * (i + ihash) mod 256), i.e. it starts at 2*ihash and moves one at a time.
 * Returns the bucket index that served, or -1.
 */
function shLookup(table: (Dest | null)[], addr: number, port: number, fallback: boolean): number {
  const ihash = shBucket(addr, port, 0);
  const d = table[ihash]!;
  if (d === null) return -1;
  if (usable(d)) return ihash;
  if (!fallback) return -1;
  for (let off = 0; off < SH_TAB_SIZE; off++) {
    const h = shBucket(addr, port, (off + ihash) % SH_TAB_SIZE);
    const e = table[h]!;
    if (e === null) break;
    if (usable(e)) return h;
  }
  return -1;
}

export const sh: Scheduler<HashTableState> = {
  name: 'sh',

  init(svc) {
    const st: HashTableState = { table: new Array<Dest | null>(SH_TAB_SIZE).fill(null) };
    sh.update!(svc, st);
    return st;
  },

  update(svc, st) {
    const ds = svc.dests;
    let p = 0;
    let count = 0;
    for (let i = 0; i < SH_TAB_SIZE; i++) {
      if (ds.length === 0) {
        st.table[i] = null;
        continue;
      }
      const d = ds[p]!;
      st.table[i] = d;
      if (++count >= d.weight) {
        p = (p + 1) % ds.length;
        count = 0;
      }
    }
  },

  pick(svc, st, pkt) {
    const port = hashPortOf(pkt, svc.flags.shPort);
    const b = shLookup(st.table, pkt.caddr, port, svc.flags.shFallback);
    return b < 0 ? null : st.table[b]!;
  },

  explain(svc, st, dest, pkt) {
    const port = hashPortOf(pkt, svc.flags.shPort);
    const key = hashKeyStr(pkt, 'c', svc.flags.shPort ? port : undefined);
    const ihash = shBucket(pkt.caddr, port, 0);
    const home = st.table[ihash];
    if (home === dest) return `sh: hash(${key}) -> bucket ${ihash} -> ${destStr(dest)}`;
    const b = shLookup(st.table, pkt.caddr, port, svc.flags.shFallback);
    return `sh: hash(${key}) -> bucket ${ihash} (${home ? destStr(home) : 'empty'} unusable), fallback bucket ${b} -> ${destStr(dest)}`;
  },
};

registerScheduler(sh);
