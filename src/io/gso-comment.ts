// A recorded TCP super-frame says what it is in its packet comment.
//
// With offload (the default on TAP ports) the director receives and sends
// super-frames of up to 64 KB: one TCP packet that the kernel, or tapvs,
// cuts into segments of `gso_size` payload bytes at the last device. A
// capture file keeps only the bytes, so `--record` writes the two numbers
// that made the difference into the frame's pcapng comment (opt_comment,
// shown by Wireshark as the packet comment), and `tapvs replay` hands the
// frame to the director as the live one was: a replay of a recorded session
// then decides, cuts and sends exactly as the live director did.
import type { FrameMeta } from '../model/frame.js';
import { VNET_GSO_ECN, VNET_GSO_TCPV4, VNET_GSO_TCPV6 } from '../wire/virtio-net.js';

const PREFIX = 'tapvs: TCP super-frame (offload), gso_type ';

/** The comment of a super-frame: `tapvs: TCP super-frame (offload), gso_type tcpv4, gso_size 1448`. */
export function gsoCommentText(gsoType: number, gsoSize: number): string {
  const base = gsoType & ~VNET_GSO_ECN;
  const name = base === VNET_GSO_TCPV6 ? 'tcpv6' : base === VNET_GSO_TCPV4 ? 'tcpv4' : `${base}`;
  return `${PREFIX}${name}${gsoType & VNET_GSO_ECN ? '+ecn' : ''}, gso_size ${gsoSize}`;
}

const PATTERN = /^tapvs: TCP super-frame \(offload\), gso_type (tcpv4|tcpv6)(\+ecn)?, gso_size (\d{1,5})$/;

/** What a recorded frame's comment says of it: `meta` filled and true for a super-frame's, false for anything else. */
export function readGsoComment(comment: string | undefined, meta: { -readonly [K in keyof FrameMeta]: FrameMeta[K] }): boolean {
  if (comment === undefined || !comment.startsWith(PREFIX)) return false;
  const m = PATTERN.exec(comment);
  if (!m) return false;
  const size = Number(m[3]);
  if (size < 1 || size > 65535) return false;
  meta.gsoType = (m[1] === 'tcpv6' ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) | (m[2] ? VNET_GSO_ECN : 0);
  meta.gsoSize = size;
  meta.csumStart = 0;
  meta.csumOffset = 0;
  return true;
}

/** The comment's UTF-8 bytes for a frame's meta, undefined for an ordinary frame; made again only when the numbers change. */
export class GsoComments {
  private type = -1;
  private size = -1;
  private bytes: Uint8Array | undefined;

  of(meta: FrameMeta | undefined): Uint8Array | undefined {
    if (meta === undefined || meta.gsoSize === 0) return undefined;
    if (this.bytes === undefined || this.type !== meta.gsoType || this.size !== meta.gsoSize) {
      this.type = meta.gsoType;
      this.size = meta.gsoSize;
      this.bytes = new TextEncoder().encode(gsoCommentText(meta.gsoType, meta.gsoSize));
    }
    return this.bytes;
  }
}

/** The longest comment gsoCommentText writes, in bytes. */
export const GSO_COMMENT_MAX = PREFIX.length + 'tcpv6+ecn, gso_size 65535'.length;
