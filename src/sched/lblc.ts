import type { Dest } from '../model/dest.js';
import { AF_INET6 } from '../model/proto.js';
import type { Service } from '../model/service.js';
import { destStr, vaddrStr } from './format.js';
import { COST_OVERHEAD, leastWeighted } from './load.js';
import { LocalityTable } from './locality-table.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Locality-based least connection, as ip_vs_lblc.c. Each destination IP of
 * the packet (the VIP, or with a fwmark cache cluster the origin server's
 * address) is bound to one dest. The binding holds while that dest is still
 * in the service, has weight > 0, and is not "overloaded" in lblc's own sense:
 * more active connections than its weight while some dest has fewer than
 * half its weight active. Otherwise a wlc pick replaces the binding. Bindings
 * unused for lblc_expiration (24 h) are dropped by the half-hourly full
 * check; when the table is over-full, ones unused for 6 minutes go sooner.
 */
export enum LblcHow {
  Cached = 0,
  New = 1,
  Replaced = 2,
}

export interface LblcState {
  tbl: LocalityTable<Dest>;
  /** How the last pick was made and what it replaced, for explain(). */
  how: LblcHow;
  replaced: Dest | null;
}

const scratch = { loh: 0 };

/** The weighted least-connection pick both lblc and lblcr fall back on. */
export function wlcPick(svc: Service): Dest | null {
  return leastWeighted(svc.dests, COST_OVERHEAD, scratch);
}

/** lblc's and lblcr's overload test: busy beyond its weight while another dest is under half of its own. */
export function localityOverloaded(dest: Dest, svc: Service): boolean {
  if (dest.activeConns <= dest.weight) return false;
  const ds = svc.dests;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    if (d.activeConns * 2 < d.weight) return true;
  }
  return false;
}

export const lblc: Scheduler<LblcState> = {
  name: 'lblc',

  init() {
    return { tbl: new LocalityTable<Dest>(), how: LblcHow.New, replaced: null };
  },

  pick(svc, st, pkt, now) {
    const tbl = st.tbl;
    tbl.runTimers(now);
    const v6 = pkt.af === AF_INET6 ? pkt.vaddr6 : undefined;
    const en = tbl.get(pkt.vaddr, v6);
    if (en !== null) {
      en.lastuse = now;
      const d = en.value;
      if (d.available && d.weight > 0 && !localityOverloaded(d, svc)) {
        st.how = LblcHow.Cached;
        return d;
      }
    }
    const dest = wlcPick(svc);
    if (dest === null) return null;
    if (en === null) {
      tbl.add(pkt.vaddr, dest, now, v6);
      st.how = LblcHow.New;
      st.replaced = null;
    } else {
      st.how = LblcHow.Replaced;
      st.replaced = en.value;
      if (en.value !== dest) {
        // the kernel frees the entry and hashes a fresh one
        en.value = dest;
        en.lastuse = now;
      }
    }
    return dest;
  },

  explain(_svc, st, dest, pkt) {
    const key = vaddrStr(pkt);
    if (st.how === LblcHow.Cached) return `lblc: ${key} -> ${destStr(dest)} (cached)`;
    if (st.how === LblcHow.New) return `lblc: ${key} -> ${destStr(dest)} (new, weighted least-connection)`;
    const old = st.replaced;
    return `lblc: ${key} -> ${destStr(dest)} (was ${old ? destStr(old) : '?'}: removed, weight 0 or overloaded)`;
  },
};

registerScheduler(lblc);
