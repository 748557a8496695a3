import type { Dest } from '../model/dest.js';
import { AF_INET6 } from '../model/proto.js';
import { destStr, vaddrStr } from './format.js';
import { LblcHow, localityOverloaded, wlcPick } from './lblc.js';
import { connOverhead } from './load.js';
import { LocalityTable } from './locality-table.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Locality-based least connection with replication, as ip_vs_lblcr.c. Each
 * destination IP is bound to a set of dests (newest first). The set's least
 * loaded usable member serves; when it is overloaded in lblc's sense (or no
 * member is usable) a wlc pick over the whole service joins the set. When the
 * set has more than one member and has not changed for lblcr_expiration
 * (24 h), its most loaded member is dropped. Whole entries expire as in lblc.
 */
export interface DestSet {
  /** Members, newest first (the kernel adds at the head of the list). */
  dests: Dest[];
  lastmod: number;
}

export interface LblcrState {
  tbl: LocalityTable<DestSet>;
  how: LblcHow;
  /** Set size after the last pick and the member dropped by it, for explain(). */
  size: number;
  dropped: Dest | null;
}

/** Least overhead/weight among members with weight > 0, not overloaded, still in the service. */
function setMin(set: DestSet): Dest | null {
  const ds = set.dests;
  const n = ds.length;
  let i = 0;
  let least: Dest | null = null;
  let loh = 0;
  for (; i < n; i++) {
    const d = ds[i]!;
    if (d.overloaded) continue;
    if (d.weight > 0 && d.available) {
      least = d;
      loh = connOverhead(d);
      break;
    }
  }
  if (least === null) return null;
  for (i++; i < n; i++) {
    const d = ds[i]!;
    if (d.overloaded) continue;
    const doh = connOverhead(d);
    if (loh * d.weight > doh * least.weight && d.available) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

/** Most overhead/weight among members with weight > 0 (the kernel does not check availability here). */
function setMax(set: DestSet): Dest | null {
  const ds = set.dests;
  const n = ds.length;
  let i = 0;
  let most: Dest | null = null;
  let moh = 0;
  for (; i < n; i++) {
    const d = ds[i]!;
    if (d.weight > 0) {
      most = d;
      moh = connOverhead(d);
      break;
    }
  }
  if (most === null) return null;
  for (i++; i < n; i++) {
    const d = ds[i]!;
    const doh = connOverhead(d);
    if (moh * d.weight < doh * most.weight && d.weight > 0) {
      most = d;
      moh = doh;
    }
  }
  return most;
}

function setInsert(set: DestSet, d: Dest, now: number): void {
  if (set.dests.includes(d)) return;
  set.dests.unshift(d);
  set.lastmod = now;
}

function setErase(set: DestSet, d: Dest, now: number): void {
  const i = set.dests.indexOf(d);
  if (i < 0) return;
  set.dests.splice(i, 1);
  set.lastmod = now;
}

export const lblcr: Scheduler<LblcrState> = {
  name: 'lblcr',

  init() {
    return { tbl: new LocalityTable<DestSet>(), how: LblcHow.New, size: 0, dropped: null };
  },

  pick(svc, st, pkt, now) {
    const tbl = st.tbl;
    tbl.runTimers(now);
    st.dropped = null;
    const v6 = pkt.af === AF_INET6 ? pkt.vaddr6 : undefined;
    const en = tbl.get(pkt.vaddr, v6);
    if (en !== null) {
      en.lastuse = now;
      const set = en.value;
      let dest = setMin(set);
      if (set.dests.length > 1 && now > set.lastmod + tbl.expiration) {
        const m = setMax(set);
        if (m !== null) {
          setErase(set, m, now);
          st.dropped = m;
        }
      }
      st.size = set.dests.length;
      if (dest !== null && !localityOverloaded(dest, svc)) {
        st.how = LblcHow.Cached;
        return dest;
      }
      dest = wlcPick(svc);
      if (dest === null) return null;
      setInsert(set, dest, now);
      st.size = set.dests.length;
      st.how = LblcHow.Replaced;
      return dest;
    }
    const dest = wlcPick(svc);
    if (dest === null) return null;
    tbl.add(pkt.vaddr, { dests: [dest], lastmod: now }, now, v6);
    st.size = 1;
    st.how = LblcHow.New;
    return dest;
  },

  explain(_svc, st, dest, pkt) {
    const key = vaddrStr(pkt);
    const drop = st.dropped ? `; dropped ${destStr(st.dropped)} from the set` : '';
    if (st.how === LblcHow.Cached) return `lblcr: ${key} -> ${destStr(dest)} (least loaded of a set of ${st.size}${drop})`;
    if (st.how === LblcHow.New) return `lblcr: ${key} -> ${destStr(dest)} (new set, weighted least-connection)`;
    return `lblcr: ${key} -> ${destStr(dest)} (set members overloaded or gone: added, set of ${st.size}${drop})`;
  },
};

registerScheduler(lblcr);
