// UDP (ip_vs_proto_udp.c): ports, one timeout, no states. Over IPv4 a
// checksum of 0 means "none" and stays 0 through NAT; over IPv6, where 0 is
// invalid (RFC 8200 section 8.1), IPVS computes a full checksum for such a
// datagram (udp_dnat_handler / udp_snat_handler: a zero field takes the
// "full checksum calculation" branch), and so does this entry when the whole
// datagram is here; a computed 0 is sent as 0xFFFF.
import { IPPROTO_UDP } from '../../wire/ipproto.js';
import { UdpView } from '../../wire/udp.js';
import { WIRE_OK } from '../../wire/errors.js';
import { udpCsumAdjust, udpFillChecksum6 } from '../../wire/checksum6.js';
import { partialAdjust, partialUpdate32 } from '../../wire/csum-partial.js';
import { registerProto, type ProtoOps } from './ops.js';

/** ip_vs_proto_udp.c's one timeout: 5 minutes. */
export const DEFAULT_UDP_TIMEOUT = 5 * 60 * 1000;

const v = new UdpView();

export const udpOps: ProtoOps = {
  proto: IPPROTO_UDP,
  name: 'UDP',
  stateful: false,
  defaultTimeouts: [DEFAULT_UDP_TIMEOUT],
  stateNames: ['UDP'],

  parse(buf, off, len, partial, out) {
    // a first fragment holds only the start of the datagram: take the header alone
    const rc = partial ? v.wrapHeader(buf, off, len) : v.wrap(buf, off, len);
    if (rc !== WIRE_OK) return rc;
    out.sport = v.sport;
    out.dport = v.dport;
    out.flags = 0;
    return WIRE_OK;
  },
  schedulable: () => true,
  natIcmpAnswers: () => true,
  opensNew: () => false,
  expectsNewConn: () => false,
  nextState: (state) => state,
  isActive: () => false,
  dnat(buf, off, len, oldAddr, newAddr, port, csumPartial, peer) {
    v.wrapHeader(buf, off, len);
    if (csumPartial) {
      // a partial field is a pseudo-header sum, never the "no checksum" 0; the port is summed when finished
      v.checksum = partialUpdate32(v.checksum, oldAddr >>> 0, newAddr >>> 0);
      v.dport = port;
      return;
    }
    // "no checksum" (0): the kernel computes the full one for the datagram as it leaves
    if (peer !== undefined && !v.hasChecksum && v.complete) {
      v.dport = port;
      v.fillChecksum(peer >>> 0, newAddr >>> 0);
      return;
    }
    v.pseudoAddrChanged(oldAddr, newAddr);
    v.rewriteDport(port);
  },
  snat(buf, off, len, oldAddr, newAddr, port, csumPartial, peer) {
    v.wrapHeader(buf, off, len);
    if (csumPartial) {
      v.checksum = partialUpdate32(v.checksum, oldAddr >>> 0, newAddr >>> 0);
      v.sport = port;
      return;
    }
    if (peer !== undefined && !v.hasChecksum && v.complete) {
      v.sport = port;
      v.fillChecksum(newAddr >>> 0, peer >>> 0);
      return;
    }
    v.pseudoAddrChanged(oldAddr, newAddr);
    v.rewriteSport(port);
  },
  rewriteQuoted(buf, off, avail, srcSide, port, oldAddr, newAddr) {
    if (v.wrapHeader(buf, off, avail) !== WIRE_OK) return false;
    v.rewriteQuoted(srcSide, port, oldAddr, newAddr);
    return true;
  },
  parseQuoted(buf, off, avail, out) {
    if (v.wrapHeader(buf, off, avail) !== WIRE_OK) return false;
    out.sport = v.sport;
    out.dport = v.dport;
    out.flags = 0;
    return true;
  },
  nat6(buf, off, len, partial, srcSide, port, delta, ip, csumPartial) {
    v.wrapHeader(buf, off, len);
    if (csumPartial) {
      v.checksum = partialAdjust(v.checksum, delta);
      if (srcSide) v.sport = port;
      else v.dport = port;
      return;
    }
    if (v.checksum === 0) {
      if (srcSide) v.sport = port;
      else v.dport = port;
      // a first fragment cannot be summed: its 0 goes on, for the receiver to drop
      if (!partial && v.complete) udpFillChecksum6(v, ip.pseudoAddrSum());
      return;
    }
    v.checksum = udpCsumAdjust(v.checksum, delta);
    if (srcSide) v.rewriteSport(port);
    else v.rewriteDport(port);
  },
  rewriteQuoted6(buf, off, avail, srcSide, port, delta) {
    if (v.wrapHeader(buf, off, avail) !== WIRE_OK) return false;
    v.checksum = udpCsumAdjust(v.checksum, delta);
    if (srcSide) v.rewriteSport(port);
    else v.rewriteDport(port);
    return true;
  },
};

registerProto(udpOps);
