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
import { get16, get32, put16, put32 } from '../wire/bytes.js';
import { checksum, csumFinish, pseudoHeaderSum } from '../wire/checksum.js';
import { sumBytesFast } from './vnet.js';

const ETHERTYPE_IPV4 = 0x0800;
const PROTO_IPIP = 4;
const PROTO_TCP = 6;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

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

function unfragmented(buf: Uint8Array, ipOff: number): boolean {
  return (get16(buf, ipOff + 6) & 0x3fff) === 0;
}

/**
 * Fills `out` when buf[off, off+len) is an untagged Ethernet frame holding an
 * unfragmented TCP/IPv4 packet, directly or inside one IPIP header, with
 * consistent lengths. False otherwise (out is then unspecified).
 */
export function tcp4Layout(buf: Uint8Array, off: number, len: number, out: Tcp4Layout): boolean {
  if (len < 14 + 20 + 20 || get16(buf, off + 12) !== ETHERTYPE_IPV4) return false;
  const limit = off + len;
  let ip = off + 14;
  let vihl = buf[ip]!;
  let ihl = (vihl & 0x0f) << 2;
  if (vihl >> 4 !== 4 || ihl < 20 || !unfragmented(buf, ip)) return false;
  let end = ip + get16(buf, ip + 2);
  if (end > limit || ip + ihl > end) return false;
  out.outerOff = -1;
  if (buf[ip + 9] === PROTO_IPIP) {
    out.outerOff = ip;
    const outerEnd = end;
    ip += ihl;
    if (ip + 20 > outerEnd) return false;
    vihl = buf[ip]!;
    ihl = (vihl & 0x0f) << 2;
    if (vihl >> 4 !== 4 || ihl < 20 || !unfragmented(buf, ip)) return false;
    end = ip + get16(buf, ip + 2);
    if (end !== outerEnd || ip + ihl > end) return false;
  }
  if (buf[ip + 9] !== PROTO_TCP) return false;
  const tcp = ip + ihl;
  if (tcp + 20 > end) return false;
  const thl = (buf[tcp + 12]! >> 4) << 2;
  if (thl < 20 || tcp + thl > end) return false;
  out.ipOff = ip;
  out.ihl = ihl;
  out.tcpOff = tcp;
  out.thl = thl;
  out.payOff = tcp + thl;
  out.end = end;
  return true;
}

/** Receives one finished segment: out[off, off+len) (the callee must not keep it). */
export type SegmentSink = (buf: Uint8Array, off: number, len: number) => void;

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
  // offsets of the copied headers inside each output segment
  const ip = outOff + (l.ipOff - frameOff);
  const tcp = outOff + (l.tcpOff - frameOff);
  const outer = l.outerOff >= 0 ? outOff + (l.outerOff - frameOff) : -1;
  const outerIhl = l.outerOff >= 0 ? (buf[l.outerOff]! & 0x0f) << 2 : 0;
  const id0 = get16(buf, l.ipOff + 4);
  const outerId0 = l.outerOff >= 0 ? get16(buf, l.outerOff + 4) : 0;
  const seq0 = get32(buf, l.tcpOff + 4);
  const flags0 = buf[l.tcpOff + 13]!;
  const src = get32(buf, l.ipOff + 12);
  const dst = get32(buf, l.ipOff + 16);
  const count = payLen === 0 ? 1 : Math.ceil(payLen / mss);
  for (let i = 0; i < count; i++) {
    const p = i * mss;
    const n = Math.min(mss, payLen - p);
    out.set(buf.subarray(frameOff, l.payOff), outOff);
    if (n > 0) out.set(buf.subarray(l.payOff + p, l.payOff + p + n), outOff + hdrLen);
    const ipTotal = l.ihl + l.thl + n;
    put16(out, ip + 2, ipTotal);
    put16(out, ip + 4, (id0 + i) & 0xffff);
    put16(out, ip + 10, 0);
    put16(out, ip + 10, checksum(out, ip, l.ihl));
    if (outer >= 0) {
      put16(out, outer + 2, outerIhl + ipTotal);
      put16(out, outer + 4, (outerId0 + i) & 0xffff);
      put16(out, outer + 10, 0);
      put16(out, outer + 10, checksum(out, outer, outerIhl));
    }
    put32(out, tcp + 4, (seq0 + p) >>> 0);
    let f = flags0;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) f &= ~TCP_CWR;
    out[tcp + 13] = f;
    const tcpLen = l.thl + n;
    put16(out, tcp + 16, 0);
    put16(out, tcp + 16, csumFinish(sumBytesFast(out, tcp, tcpLen, pseudoHeaderSum(src, dst, PROTO_TCP, tcpLen))));
    emit(out, outOff, hdrLen + n);
  }
  return count;
}
