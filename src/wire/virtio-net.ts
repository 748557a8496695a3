/**
 * The virtio_net_hdr that a TAP opened with IFF_VNET_HDR puts before every
 * frame it hands out and expects before every frame written to it
 * (<linux/virtio_net.h>). Ten bytes, multi-byte fields little-endian on this
 * (little-endian) host, as the tun driver uses the host's order unless told
 * otherwise:
 *
 *   0  u8   flags        NEEDS_CSUM: the L4 checksum is still to be done;
 *                        DATA_VALID: the kernel already checked it
 *   1  u8   gso_type     NONE, TCPV4, ... | ECN
 *   2  le16 hdr_len      bytes of headers (a hint: the kernel sends its linear head length)
 *   4  le16 gso_size     payload bytes per segment of a super-frame
 *   6  le16 csum_start   where the checksummed range starts, from the frame's first byte
 *   8  le16 csum_offset  where the checksum field is, from csum_start
 *
 * A NEEDS_CSUM frame carries in its checksum field the folded pseudo-header
 * sum (not complemented); whoever finishes the checksum sums csum_start to
 * the end of the frame and stores the complement.
 *
 * io/vnet.ts finishes such checksums; io/vnet-segment.ts cuts super-frames.
 */

export const VNET_HDR_LEN = 10;

export const VNET_F_NEEDS_CSUM = 1;
export const VNET_F_DATA_VALID = 2;

export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_UDP = 3;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_UDP_L4 = 5;
export const VNET_GSO_ECN = 0x80;


export interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function newVnetHdr(): VnetHdr {
  return { flags: 0, gsoType: VNET_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
}

function le16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

function putLe16(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}

const OFF_FLAGS = 0;
const OFF_GSO_TYPE = 1;
const OFF_HDR_LEN = 2;
const OFF_GSO_SIZE = 4;
const OFF_CSUM_START = 6;
const OFF_CSUM_OFFSET = 8;

/** Decodes the header at buf[off, off+10) into `out` (the caller checked the length). */
export function readVnetHdr(buf: Uint8Array, off: number, out: VnetHdr): void {
  out.flags = buf[off + OFF_FLAGS]!;
  out.gsoType = buf[off + OFF_GSO_TYPE]!;
  out.hdrLen = le16(buf, off + OFF_HDR_LEN);
  out.gsoSize = le16(buf, off + OFF_GSO_SIZE);
  out.csumStart = le16(buf, off + OFF_CSUM_START);
  out.csumOffset = le16(buf, off + OFF_CSUM_OFFSET);
}

export function writeVnetHdr(buf: Uint8Array, off: number, h: VnetHdr): void {
  buf[off + OFF_FLAGS] = h.flags;
  buf[off + OFF_GSO_TYPE] = h.gsoType;
  putLe16(buf, off + OFF_HDR_LEN, h.hdrLen);
  putLe16(buf, off + OFF_GSO_SIZE, h.gsoSize);
  putLe16(buf, off + OFF_CSUM_START, h.csumStart);
  putLe16(buf, off + OFF_CSUM_OFFSET, h.csumOffset);
}

/** An all-zero header: no checksum work, not a super-frame. */
export function writeZeroVnetHdr(buf: Uint8Array, off: number): void {
  buf.fill(0, off, off + VNET_HDR_LEN);
}
