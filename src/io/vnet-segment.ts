/**
 * TCP segmentation in software (what the kernel's tcp_gso_segment does for a
 * device without TSO): a TCP super-frame over IPv4 or IPv6, optionally
 * inside one outer IPv4 or IPv6 header (LVS-TUN: IPIP, IPv6-in-IPv6 and
 * the mixed kinds), is cut into frames of at most `mss` payload bytes.
 * Used when a super-frame must leave through a port that cannot take it
 * whole: a TAP without offload, a pcap port, or any TAP for a tunnelled one
 * (virtio_net_hdr has no GSO type for IP-in-IP).
 *
 * Each segment: the headers copied, then its share of the payload; IPv4
 * total lengths and ids (+1 per segment, inner and outer, as the kernel's
 * TSO does) and header checksums, IPv6 payload lengths; TCP sequence number
 * advanced by the payload before it, FIN and PSH kept on the last segment
 * only, CWR on the first only; a complete TCP checksum (whatever the
 * super-frame's field held: full or partial, it is summed afresh).
 */
import { csumFinish } from '../wire/checksum.js';
import { pseudoAddrSum6, pseudoHeaderSum6 } from '../wire/checksum6.js';
import { sumBytesFast } from '../wire/csum-partial.js';
import { WIRE_OK } from '../wire/errors.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, ETHERTYPE_IPV6, EthernetView } from '../wire/ethernet.js';
import { IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_TCP } from '../wire/ipproto.js';
import { IPV4_MIN_HEADER_LEN, Ipv4View } from '../wire/ipv4.js';
import { IPV6_HEADER_LEN, Ipv6View } from '../wire/ipv6.js';
import { TCP_CWR, TCP_FIN, TCP_MIN_HEADER_LEN, TCP_PSH, TcpView } from '../wire/tcp.js';

/** Where the headers of a TCP frame are (absolute offsets in its buffer). */
export interface TcpLayout {
  /** The outer IP header of a tunnelled frame, or -1. */
  outerOff: number;
  /** The outer header is IPv6 (else IPv4); meaningful when outerOff >= 0. */
  outer6: boolean;
  /** The IP header that carries the TCP segment. */
  ipOff: number;
  /** That header is IPv6 (no extension headers), else IPv4. */
  v6: boolean;
  /** Its length: IPv4's IHL in bytes, 40 for IPv6. */
  ihl: number;
  tcpOff: number;
  thl: number;
  /** First payload byte; the headers are buf[frameOff, payOff). */
  payOff: number;
  /** Just past the last payload byte (IP length, Ethernet padding excluded). */
  end: number;
}

export function newTcpLayout(): TcpLayout {
  return { outerOff: -1, outer6: false, ipOff: 0, v6: false, ihl: 0, tcpOff: 0, thl: 0, payOff: 0, end: 0 };
}

const eth = new EthernetView();
const v4a = new Ipv4View();
const v4b = new Ipv4View();
const v6a = new Ipv6View();
const v6b = new Ipv6View();
const tcpV = new TcpView();

/** An IP header at off (within len bytes): its protocol, payload start and end, or false. */
interface IpInfo { proto: number; pay: number; end: number; hl: number }
const outerInfo: IpInfo = { proto: 0, pay: 0, end: 0, hl: 0 };
const innerInfo: IpInfo = { proto: 0, pay: 0, end: 0, hl: 0 };

function readIp(buf: Uint8Array, off: number, len: number, v6: boolean, a: Ipv4View, b: Ipv6View, out: IpInfo): boolean {
  if (v6) {
    if (b.wrap(buf, off, len) !== WIRE_OK) return false;
    out.proto = b.nextHeader;
    out.hl = IPV6_HEADER_LEN;
    out.pay = off + IPV6_HEADER_LEN;
    out.end = out.pay + b.payloadLength;
    return true;
  }
  if (a.wrap(buf, off, len) !== WIRE_OK || a.isFragment) return false;
  out.proto = a.protocol;
  out.hl = a.headerLength;
  out.pay = a.payloadOffset;
  out.end = off + a.totalLength;
  return true;
}

/**
 * Fills `out` when buf[off, off+len) is an untagged Ethernet frame holding
 * an unfragmented TCP packet over IPv4 or IPv6 (no IPv6 extension headers),
 * directly or inside one outer IPv4/IPv6 header, with consistent lengths.
 * False otherwise (out is then unspecified).
 */
export function tcpLayout(buf: Uint8Array, off: number, len: number, out: TcpLayout): boolean {
  if (len < ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN + TCP_MIN_HEADER_LEN) return false;
  if (eth.wrap(buf, off, len) !== WIRE_OK) return false;
  const et = eth.etherType;
  if (et !== ETHERTYPE_IPV4 && et !== ETHERTYPE_IPV6) return false;
  let v6 = et === ETHERTYPE_IPV6;
  let at = off + ETH_HEADER_LEN;
  if (!readIp(buf, at, len - ETH_HEADER_LEN, v6, v4a, v6a, outerInfo)) return false;
  let ip = outerInfo;
  out.outerOff = -1;
  if (ip.proto === IPPROTO_IPIP || ip.proto === IPPROTO_IPV6) {
    out.outerOff = at;
    out.outer6 = v6;
    v6 = ip.proto === IPPROTO_IPV6;
    at = ip.pay;
    if (!readIp(buf, at, ip.end - at, v6, v4b, v6b, innerInfo)) return false;
    if (innerInfo.end !== ip.end) return false;
    ip = innerInfo;
  }
  if (ip.proto !== IPPROTO_TCP) return false;
  if (tcpV.wrap(buf, ip.pay, ip.end - ip.pay) !== WIRE_OK) return false;
  out.ipOff = at;
  out.v6 = v6;
  out.ihl = ip.hl;
  out.tcpOff = tcpV.off;
  out.thl = tcpV.headerLength;
  out.payOff = tcpV.payloadOffset;
  out.end = ip.end;
  return true;
}

/** Receives one finished segment: out[off, off+len) (the callee must not keep it). */
export type SegmentSink = (buf: Uint8Array, off: number, len: number) => void;

const segV4 = new Ipv4View();
const segV6 = new Ipv6View();
const segTcp = new TcpView();

/** Sets the lengths (and IPv4 id and checksum) of the IP header at off for `ipLen` bytes of packet. */
function fixIp(out: Uint8Array, off: number, v6: boolean, ipLen: number, id: number): void {
  if (v6) {
    segV6.wrapHeaderOnly(out, off);
    segV6.payloadLength = ipLen - IPV6_HEADER_LEN;
    return;
  }
  segV4.wrapHeaderOnly(out, off);
  segV4.totalLength = ipLen;
  segV4.id = id & 0xffff;
  segV4.fillChecksum();
}

/**
 * Cuts the frame starting at buf[frameOff] (layout `l`, from tcpLayout) into
 * segments of at most `mss` payload bytes, each built in out[outOff, ...) and
 * handed to `emit` before the next is built. `out` needs outOff + (payOff -
 * frameOff) + mss bytes. A frame without payload, or one that fits, goes out
 * as one segment. Returns the number of segments (0 when mss < 1 or out is
 * too small).
 */
export function segmentTcp(
  buf: Uint8Array, frameOff: number, l: TcpLayout, mss: number, out: Uint8Array, outOff: number, emit: SegmentSink,
): number {
  const hdrLen = l.payOff - frameOff;
  const payLen = l.end - l.payOff;
  if (mss < 1 || outOff + hdrLen + Math.min(mss, payLen) > out.length) return 0;
  // read what every segment starts from before the copies overwrite nothing of it
  let id0 = 0;
  let addrSum: number;
  if (l.v6) {
    addrSum = pseudoAddrSum6(buf, l.ipOff + 8, l.ipOff + 24);
  } else {
    v4b.wrapHeaderOnly(buf, l.ipOff);
    id0 = v4b.id;
    const src = v4b.src >>> 0;
    const dst = v4b.dst >>> 0;
    addrSum = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  }
  let outerHl = 0;
  let outerId0 = 0;
  if (l.outerOff >= 0) {
    if (l.outer6) {
      outerHl = IPV6_HEADER_LEN;
    } else {
      v4a.wrapHeaderOnly(buf, l.outerOff);
      outerHl = v4a.headerLength;
      outerId0 = v4a.id;
    }
  }
  tcpV.wrap(buf, l.tcpOff, l.end - l.tcpOff);
  const seq0 = tcpV.seq;
  const flags0 = tcpV.flags;
  const count = payLen === 0 ? 1 : Math.ceil(payLen / mss);
  for (let i = 0; i < count; i++) {
    const p = i * mss;
    const n = Math.min(mss, payLen - p);
    out.set(buf.subarray(frameOff, l.payOff), outOff);
    if (n > 0) out.set(buf.subarray(l.payOff + p, l.payOff + p + n), outOff + hdrLen);
    const ipTotal = l.ihl + l.thl + n;
    fixIp(out, outOff + (l.ipOff - frameOff), l.v6, ipTotal, id0 + i);
    if (l.outerOff >= 0) fixIp(out, outOff + (l.outerOff - frameOff), l.outer6, outerHl + ipTotal, outerId0 + i);
    const tcpLen = l.thl + n;
    const t = segTcp;
    t.wrap(out, outOff + (l.tcpOff - frameOff), tcpLen);
    t.seq = (seq0 + p) >>> 0;
    let f = flags0;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) f &= ~TCP_CWR;
    t.flags = f;
    t.checksum = 0;
    const pseudo = l.v6 ? pseudoHeaderSum6(addrSum, IPPROTO_TCP, tcpLen) : addrSum + IPPROTO_TCP + tcpLen;
    t.checksum = csumFinish(sumBytesFast(out, t.off, tcpLen, pseudo));
    emit(out, outOff, hdrLen + n);
  }
  return count;
}
