// Counting a packet of a connection, in and out (the kernel's
// ip_vs_in_stats / ip_vs_out_stats): its real server, its service and the
// totals, in one place so no path can count one and forget another.
import { FWD_BYPASS, type Dest } from '../model/dest.js';
import type { Stats } from '../model/stats.js';

/** A packet of `bytes` (IP length) from the client towards `dest`. */
export function countIn(totals: Stats, dest: Dest, bytes: number): void {
  // a cache_bypass conn has no real server: ip_vs_in_stats counts nothing for it
  if ((dest.fwd as number) === FWD_BYPASS) return;
  dest.stats.inpkts++;
  dest.stats.inbytes += bytes;
  const s = dest.svc.stats;
  s.inpkts++;
  s.inbytes += bytes;
  totals.inpkts++;
  totals.inbytes += bytes;
}

/** A reply of `bytes` from `dest` towards the client. */
export function countOut(totals: Stats, dest: Dest, bytes: number): void {
  dest.stats.outpkts++;
  dest.stats.outbytes += bytes;
  const s = dest.svc.stats;
  s.outpkts++;
  s.outbytes += bytes;
  totals.outpkts++;
  totals.outbytes += bytes;
}
