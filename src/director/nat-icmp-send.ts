// nat_icmp_send (ip_vs_out_hook; one sysctl for both families): a packet
// from a NAT real server's own address and port that matches no connection
// is answered with port unreachable and dropped, unless its protocol says
// otherwise (a TCP RST, an SCTP ABORT). Walks the services
// (ip_vs_has_real_service), so callers ask only with the sysctl on, after
// the connection lookups missed.
import { FWD_MASQ, type DestSpec } from '../model/dest.js';
import { AF_INET6 } from '../model/proto.js';
import { ADDR_REAL_SERVER } from '../net/addr-table.js';
import { FRAG_LATER, type Packet } from '../net/packet.js';
import { sourceAddrFor } from '../net/port.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../wire/icmp.js';
import { ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH } from '../wire/icmpv6.js';
import type { Director } from './director.js';

/** The real server a packet came from, as Dest.is takes it (refilled per call, nothing allocated). */
const from4: Pick<DestSpec, 'addr' | 'port'> = { addr: 0, port: 0 };
const from6: Pick<DestSpec, 'addr' | 'addr6' | 'port'> = { addr: 0, addr6: new Uint32Array(4), port: 0 };

/** True when the packet was answered (and is to be dropped). */
export function natIcmpSend(d: Director, pkt: Packet): boolean {
  if (pkt.fragment === FRAG_LATER) return false;
  const v6 = pkt.af === AF_INET6;
  if (((v6 ? d.host6.classOf(pkt.src6) : d.host.classOf(pkt.src)) & ADDR_REAL_SERVER) === 0) return false;
  const ops = pkt.ops!;
  if (ops.natIcmpAnswers === undefined || !ops.natIcmpAnswers(pkt.flags)) return false;
  let from: Pick<DestSpec, 'addr' | 'addr6' | 'port'> = from4;
  if (v6) {
    from6.addr6 = pkt.src6;
    from = from6;
  } else {
    from4.addr = pkt.src;
  }
  from.port = pkt.sport;
  if (!isNatRealServer(d, pkt, from)) return false;
  if (v6) d.host6.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0, null, false, pkt.now);
  else d.host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, sourceAddrFor(pkt.port, pkt.src), false, pkt.now);
  return true;
}

function isNatRealServer(d: Director, pkt: Packet, from: Pick<DestSpec, 'addr' | 'addr6' | 'port'>): boolean {
  for (const svc of d.services.all) {
    if (svc.af !== pkt.af || (svc.fwmark === 0 && svc.proto !== pkt.proto)) continue;
    for (const dest of svc.dests) if (dest.fwd === FWD_MASQ && dest.is(from)) return true;
  }
  return false;
}
