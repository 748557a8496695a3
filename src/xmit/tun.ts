// LVS-TUN (ip_vs_tunnel_xmit): an outer IPv4 header from the director to the
// real server in front of the client's packet (IP-in-IP), in the headroom
// before the frame, and a fresh Ethernet header before that. The outer
// header copies the inner TOS, DF and TTL, as the kernel does.
import { DropCode, FORWARDED, type Verdict } from '../model/verdict.js';
import type { Host4 } from '../net/host4.js';
import { sourceAddrFor } from '../net/port.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, setEtherType } from '../wire/ethernet.js';
import { IPIP_NO_HEADROOM, WIRE_OK } from '../wire/errors.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest } from '../wire/icmp.js';
import { IPIP_OUTER_LEN, encapIpip } from '../wire/ipip.js';
import { fragmentIpv4 } from '../wire/ipv4-fragment.js';
import { PLAIN_FRAME } from '../model/frame.js';
import type { Transmitter } from './xmit.js';

/** A super-frame's encapsulation is never too big: the sending port segments it. */
const NO_MTU = 0x10000;


export const tunXmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    const host = x.host;
    const daddr = x.conns.daddr[slot]!;
    if (!host.route(daddr)) return DropCode['no-route'];
    const egress = host.routePort;
    const nh = host.routeNextHop;
    const p = host.ports[egress]!;
    const buf = pkt.buf;
    const ipOff = pkt.ethOff + ETH_HEADER_LEN;
    const ipLen = pkt.frameLen - ETH_HEADER_LEN;
    const id = host.nextId();
    const mtu = pkt.isSuperFrame ? NO_MTU : p.mtu;
    if (ipLen + IPIP_OUTER_LEN > mtu && pkt.ip.df) {
      // the client must send smaller packets: say how small, from the VIP it talked to
      host.icmpError(buf, pkt.ethOff, pkt.port, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest(p.mtu - IPIP_OUTER_LEN), pkt.ip.dst, true, pkt.now);
      return DropCode['frag-needed'];
    }
    const ethOff = ipOff - IPIP_OUTER_LEN - ETH_HEADER_LEN;
    if (ethOff < 0) return DropCode['no-headroom'];
    const rc = encapIpip(buf, ipOff, ipLen, sourceAddrFor(p, nh), daddr, id);
    if (rc === IPIP_NO_HEADROOM) return DropCode['no-headroom'];
    if (rc !== WIRE_OK) return DropCode['frame-too-big'];
    setEtherType(buf, ethOff, ETHERTYPE_IPV4);
    const len = ETH_HEADER_LEN + IPIP_OUTER_LEN + ipLen;
    if (len - ETH_HEADER_LEN > p.mtu && !pkt.isSuperFrame) return sendFragmented(host, egress, nh, buf, ethOff + ETH_HEADER_LEN, len - ETH_HEADER_LEN, p.mtu, pkt.now);
    return host.output(buf, ethOff, len, pkt, egress, nh, pkt.now);
  },
};

/** The outer packet is too big and may be fragmented: each fragment is its own frame. */
function sendFragmented(host: Host4, port: number, nh: number, buf: Uint8Array, ipOff: number, ipLen: number, mtu: number, now: number): Verdict {
  let v: Verdict = FORWARDED;
  for (const f of fragmentIpv4(buf, ipOff, ipLen, mtu)) {
    const frame = new Uint8Array(ETH_HEADER_LEN + f.length);
    frame.set(f, ETH_HEADER_LEN);
    setEtherType(frame, 0, ETHERTYPE_IPV4);
    const r = host.output(frame, 0, frame.length, PLAIN_FRAME, port, nh, now);
    if (r >= 0) v = r;
  }
  return v;
}
