// A real server's reply through the director (the kernel's ip_vs_out): for
// a connection whose transmitter takes replies (NAT), move its state, count
// the packet and rewrite it back to the VIP; for DR and TUN, whose replies
// normally go straight to the client, one that passes through is routed.
import { DIR_OUTPUT } from '../conn/tcp-states.js';
import { FORWARDED, type Verdict } from '../model/verdict.js';
import { FRAG_FIRST, FRAG_LATER, type Packet } from '../net/packet.js';
import { transmitter } from '../xmit/index.js';
import type { Director } from './director.js';
import { decideFragments, releaseHeld } from './fragments.js';
import { countOut } from './stats.js';

export function lvsOut(d: Director, pkt: Packet, slot: number): Verdict {
  const conns = d.conns;
  const xmit = transmitter(conns.fwd(slot));
  if (xmit.toClient === undefined) return d.host.forward(pkt);
  // replies are routed: TTL first, before the packet counts for anything
  const ttl = d.host.decTtl(pkt);
  if (ttl !== FORWARDED) return ttl;
  const now = pkt.now;
  if (pkt.fragment !== FRAG_LATER) conns.update(slot, DIR_OUTPUT, pkt.flags, now);
  countOut(d.totals, conns.dest(slot), pkt.ip.totalLength);
  if (d.tracer) d.tracer.reply(conns, slot);
  const first = pkt.fragment === FRAG_FIRST;
  const id = pkt.ip.id;
  const caddr = conns.caddr[slot]!;
  if (first) decideFragments(d, pkt.src, caddr, pkt.proto, id, slot, true, now);
  const src = pkt.src;
  const v = xmit.toClient(d, pkt, slot);
  if (first) releaseHeld(d, src, caddr, pkt.proto, id, now);
  return v;
}
