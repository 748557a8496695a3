// A real server's reply through the director (the kernel's ip_vs_out): for
// a connection whose transmitter takes replies (NAT), move its state, count
// the packet and rewrite it back to the VIP; for DR and TUN, whose replies
// normally go straight to the client, one that passes through is routed.
import { DIR_OUTPUT } from '../conn/tcp-states.js';
import { AF_INET } from '../model/proto.js';
import { FORWARDED, HELD, type Verdict } from '../model/verdict.js';
import { FRAG_FIRST, FRAG_LATER, type Packet } from '../net/packet.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { transmitter, transmitter6 } from '../xmit/index.js';
import type { Director } from './director.js';
import { decideFragments, fragIdOf, fragProto, releaseHeld } from './fragments.js';
import { countOut } from './stats.js';

export function lvsOut(d: Director, pkt: Packet, slot: number): Verdict {
  const conns = d.conns;
  const v4 = pkt.af === AF_INET;
  const xmit = v4 ? transmitter(conns.xmit(slot)) : transmitter6(conns.xmit(slot));
  if (xmit.toClient === undefined) return v4 ? d.host.forward(pkt) : d.host6.forward(pkt);
  // replies are routed: TTL first, before the packet counts for anything (IPv6: checked here, one hop less
  // after the transmitter's MTU check, in ip6_forward's order)
  const ttl = v4 ? d.host.decTtl(pkt) : d.host6.checkHopLimit(pkt);
  if (ttl !== FORWARDED) return ttl;
  // as handle_response: the snat handler may refuse the packet (SCTP with a bad CRC) before it moves the state
  const ops = pkt.ops;
  if (ops?.natVerify !== undefined && pkt.fragment !== FRAG_LATER) {
    const c = ops.natVerify(pkt.buf, pkt.l4Off, pkt.l4Len, pkt.fragment === FRAG_FIRST, true, conns.vport[slot]!);
    if (c !== FORWARDED) return c;
  }
  const now = pkt.now;
  if (pkt.fragment !== FRAG_LATER) conns.update(slot, DIR_OUTPUT, pkt.flags, now);
  countOut(d.totals, conns.dest(slot), pkt.frameLen - ETH_HEADER_LEN);
  if (d.tracer) d.tracer.reply(conns, slot);
  const first = pkt.fragment === FRAG_FIRST;
  const id = first ? fragIdOf(pkt) : 0;
  // fragments of a reply are keyed by (real server, client): the client's address (its fold for IPv6) is the conn's
  const caddr = conns.caddr[slot]!;
  if (first) decideFragments(d, pkt.af, pkt.src, caddr, fragProto(pkt), id, slot, true, now);
  const src = pkt.src;
  const v = xmit.toClient(d, pkt, slot);
  if (v === FORWARDED || v === HELD) d.counters.forwarded++;
  if (first) releaseHeld(d, pkt.af, src, caddr, fragProto(pkt), id, now);
  return v;
}
