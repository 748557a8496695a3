// Frames from and to ports with offload, and what a port without it must do
// to frames that carry offload state (FrameMeta): a TAP opened with
// IFF_VNET_HDR hands over TCP super-frames and partial checksums
// (wire/virtio-net.ts, wire/csum-partial.ts) and takes them back; a port
// that cannot (a TAP without offload, a pcap port) cuts super-frames and
// finishes checksums in software here, where the frame leaves.
import type { FrameMeta } from '../model/frame.js';
import { completeChecksum } from '../wire/csum-partial.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipproto.js';
import { TCP_CHECKSUM_OFFSET } from '../wire/tcp.js';
import { newTcpLayout, segmentTcp, tcpLayout, type SegmentSink, type TcpLayout } from './vnet-segment.js';

export { completeChecksum, sumBytesFast, tcp4PartialCsum, tcp6PartialCsum } from '../wire/csum-partial.js';

/** UDP's checksum field, from the start of its header. */
export const UDP_CHECKSUM_OFFSET = 6;

/**
 * Whether a NEEDS_CSUM frame's checksum may stay partial through the
 * director: an unfragmented TCP or UDP packet directly in the frame's IPv4
 * header or IPv6 header (no extension headers), the range starting at that
 * transport header and the field where that protocol keeps it. Anything
 * else a port finishes on receive (the director then sees a plain frame).
 * Reads the bytes the checks need; `len` is the frame's length.
 */
export function partialKeepable(buf: Uint8Array, off: number, len: number, csumStart: number, csumOffset: number): boolean {
  if (csumStart + csumOffset + 2 > len) return false;
  const et = (buf[off + 12]! << 8) | buf[off + 13]!;
  const ip = off + ETH_HEADER_LEN;
  let proto: number;
  let l4: number;
  if (et === ETHERTYPE_IPV4) {
    if (len < ETH_HEADER_LEN + 20 || buf[ip]! >>> 4 !== 4) return false;
    // MF or a fragment offset: the transport header's checksum covers more than this frame
    if (((buf[ip + 6]! & 0x3f) | buf[ip + 7]!) !== 0) return false;
    proto = buf[ip + 9]!;
    l4 = ETH_HEADER_LEN + ((buf[ip]! & 0x0f) << 2);
  } else if (et === ETHERTYPE_IPV6) {
    if (len < ETH_HEADER_LEN + 40 || buf[ip]! >>> 4 !== 6) return false;
    proto = buf[ip + 6]!;
    l4 = ETH_HEADER_LEN + 40;
  } else {
    return false;
  }
  if (csumStart !== l4) return false;
  return (proto === IPPROTO_TCP && csumOffset === TCP_CHECKSUM_OFFSET) || (proto === IPPROTO_UDP && csumOffset === UDP_CHECKSUM_OFFSET);
}

/** What a port without offload did to frames that carried offload state. */
export interface SoftwareOffloadCounters {
  /** Partial checksums finished before sending. */
  txCsumCompleted: number;
  /** Super-frames cut, and the segments written for them. */
  txSegmented: number;
  txSegments: number;
  /** Super-frames that could not be cut (not TCP over IPv4/IPv6 with at most one outer IP header): dropped. */
  txGsoRefused: number;
}

export function newSoftwareOffloadCounters(): SoftwareOffloadCounters {
  return { txCsumCompleted: 0, txSegmented: 0, txSegments: 0, txGsoRefused: 0 };
}

/** Room for one segment of any super-frame: headers (at most 14 + 2 * 60 + 60) and a payload up to 64 KB. */
const SEG_SPACE = 65536 + 256;

/**
 * The software half of offload for a port that takes only finished frames
 * of its MTU: send() writes a plain frame as it is, finishes a partial
 * checksum in place, and cuts a super-frame into segments built in its own
 * buffer (at `head` bytes in, so a caller may put a header before each).
 * `write` gets each frame to put on the wire; it must not keep the buffer.
 */
export class SoftwareOffload {
  readonly counters: SoftwareOffloadCounters;
  readonly layout: TcpLayout = newTcpLayout();
  private scratch: Uint8Array | undefined;
  private readonly emit: SegmentSink;

  constructor(private readonly head: number, private readonly write: SegmentSink, counters?: SoftwareOffloadCounters) {
    this.counters = counters ?? newSoftwareOffloadCounters();
    this.emit = (b, o, l) => {
      this.counters.txSegments++;
      this.write(b, o, l);
    };
  }

  /** The segment buffer (made on first use); its first `head` bytes are the caller's. */
  buffer(): Uint8Array {
    return (this.scratch ??= new Uint8Array(this.head + SEG_SPACE));
  }

  /** Sends one frame whatever its metadata; false when it was dropped (a super-frame it cannot cut). */
  send(buf: Uint8Array, off: number, len: number, meta: FrameMeta, mtu: number): boolean {
    if (meta.gsoSize !== 0) {
      const l = this.layout;
      if (!tcpLayout(buf, off, len, l)) {
        this.counters.txGsoRefused++;
        return false;
      }
      return this.cut(buf, off, l, meta.gsoSize, mtu);
    }
    if (meta.csumStart !== 0) {
      completeChecksum(buf, off, len, meta.csumStart, meta.csumOffset);
      this.counters.txCsumCompleted++;
    }
    this.write(buf, off, len);
    return true;
  }

  /** Cuts a super-frame whose layout is `l` into segments that fit `mtu` (and the sender's gsoSize). */
  cut(buf: Uint8Array, off: number, l: TcpLayout, gsoSize: number, mtu: number): boolean {
    const fit = mtu - (l.payOff - off - ETH_HEADER_LEN);
    const mss = Math.min(gsoSize, fit);
    if (segmentTcp(buf, off, l, mss, this.buffer(), this.head, this.emit) === 0) {
      this.counters.txGsoRefused++;
      return false;
    }
    this.counters.txSegmented++;
    return true;
  }
}
