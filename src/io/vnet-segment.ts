/**
 * TCP segmentation in software (what the kernel's tcp_gso_segment does for a
 * device without TSO): a TCP/IPv4 super-frame, optionally inside an IPIP
 * outer header (LVS-TUN), is cut into frames of at most `mss` payload bytes.
 * Used when a super-frame must leave through a port that cannot take it whole:
 * a TAP without offload, or any TAP for IPIP (virtio_net_hdr has no GSO type
 * for it).
 *
 * Each segment: the headers copied, then its share of the payload; IP total
 * lengths and ids (+1 per segment, inner and outer, as the kernel's TSO does),
 * IP header checksums; TCP sequence number advanced by the payload before it,
 * FIN and PSH kept on the last segment only, CWR on the first only; a
 * complete TCP checksum.
 */
import { csumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { WIRE_OK } from '../wire/errors.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, EthernetView } from '../wire/ethernet.js';
import { IPPROTO_IPIP, IPPROTO_TCP } from '../wire/ipproto.js';
import { IPV4_MIN_HEADER_LEN, Ipv4View } from '../wire/ipv4.js';
import { TCP_CWR, TCP_FIN, TCP_MIN_HEADER_LEN, TCP_PSH, TcpView } from '../wire/tcp.js';
import { sumBytesFast } from './vnet.js';

/** Where the headers of a TCP/IPv4 frame are (absolute offsets in its buffer). */
export interface Tcp4Layout {
  /** The IPIP outer header, or -1. */
  outerOff: number;
  /** The IPv4 header that carries the TCP segment. */
  ipOff: number;
  ihl: number;
  tcpOff: number;
  thl: number;
  /** First payload byte; the headers are buf[frameOff, payOff). */
  payOff: number;
  /** Just past the last payload byte (IP total length, Ethernet padding excluded). */
  end: number;
}

export function newTcp4Layout(): Tcp4Layout {
  return { outerOff: -1, ipOff: 0, ihl: 0, tcpOff: 0, thl: 0, payOff: 0, end: 0 };
}

const eth = new EthernetView();
const outerIp = new Ipv4View();
const innerIp = new Ipv4View();
const tcpV = new TcpView();

/**
 * Fills `out` when buf[off, off+len) is an untagged Ethernet frame holding an
 * unfragmented TCP/IPv4 packet, directly or inside one IPIP header, with
 * consistent lengths. False otherwise (out is then unspecified).
 */
export function tcp4Layout(buf: Uint8Array, off: number, len: number, out: Tcp4Layout): boolean {
  if (len < ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN + TCP_MIN_HEADER_LEN) return false;
  if (eth.wrap(buf, off, len) !== WIRE_OK || eth.etherType !== ETHERTYPE_IPV4) return false;
  let ip = outerIp;
  if (ip.wrap(buf, off + ETH_HEADER_LEN, len - ETH_HEADER_LEN) !== WIRE_OK || ip.isFragment) return false;
  out.outerOff = -1;
  if (ip.protocol === IPPROTO_IPIP) {
    out.outerOff = ip.off;
    const outerEnd = ip.off + ip.totalLength;
    if (innerIp.wrap(buf, ip.payloadOffset, ip.payloadLength) !== WIRE_OK || innerIp.isFragment) return false;
    ip = innerIp;
    if (ip.off + ip.totalLength !== outerEnd) return false;
  }
  if (ip.protocol !== IPPROTO_TCP) return false;
  if (tcpV.wrap(buf, ip.payloadOffset, ip.payloadLength) !== WIRE_OK) return false;
  out.ipOff = ip.off;
  out.ihl = ip.headerLength;
  out.tcpOff = tcpV.off;
  out.thl = tcpV.headerLength;
  out.payOff = tcpV.payloadOffset;
  out.end = ip.off + ip.totalLength;
  return true;
}

/** Receives one finished segment: out[off, off+len) (the callee must not keep it). */
export type SegmentSink = (buf: Uint8Array, off: number, len: number) => void;

const segIp = new Ipv4View();
const segOuter = new Ipv4View();
const segTcp = new TcpView();

/**
 * Cuts the frame starting at buf[frameOff] (layout `l`, from tcp4Layout) into
 * segments of at most `mss` payload bytes, each built in out[outOff, ...) and
 * handed to `emit` before the next is built. `out` needs outOff + (payOff -
 * frameOff) + mss bytes. A frame without payload goes out as one segment.
 * Returns the number of segments (0 when mss < 1 or out is too small).
 */
export function segmentTcp4(
  buf: Uint8Array, frameOff: number, l: Tcp4Layout, mss: number, out: Uint8Array, outOff: number, emit: SegmentSink,
): number {
  const hdrLen = l.payOff - frameOff;
  const payLen = l.end - l.payOff;
  if (mss < 1 || outOff + hdrLen + Math.min(mss, payLen) > out.length) return 0;
  // read what every segment starts from before the copies overwrite nothing of it
  innerIp.wrapHeaderOnly(buf, l.ipOff);
  const id0 = innerIp.id;
  const src = innerIp.src;
  const dst = innerIp.dst;
  let outerIhl = 0;
  let outerId0 = 0;
  if (l.outerOff >= 0) {
    outerIp.wrapHeaderOnly(buf, l.outerOff);
    outerIhl = outerIp.headerLength;
    outerId0 = outerIp.id;
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
    segIp.wrapHeaderOnly(out, outOff + (l.ipOff - frameOff));
    segIp.totalLength = ipTotal;
    segIp.id = (id0 + i) & 0xffff;
    segIp.fillChecksum();
    if (l.outerOff >= 0) {
      segOuter.wrapHeaderOnly(out, outOff + (l.outerOff - frameOff));
      segOuter.totalLength = outerIhl + ipTotal;
      segOuter.id = (outerId0 + i) & 0xffff;
      segOuter.fillChecksum();
    }
    const tcpLen = l.thl + n;
    const t = segTcp;
    t.wrap(out, outOff + (l.tcpOff - frameOff), tcpLen);
    t.seq = (seq0 + p) >>> 0;
    let f = flags0;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) f &= ~TCP_CWR;
    t.flags = f;
    t.checksum = 0;
    t.checksum = csumFinish(sumBytesFast(out, t.off, tcpLen, pseudoHeaderSum(src, dst, IPPROTO_TCP, tcpLen)));
    emit(out, outOff, hdrLen + n);
  }
  return count;
}
