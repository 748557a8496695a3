// The per-frame context: where one frame's bytes are, what each layer said,
// and what travels with it. Every stage reads and writes the packet it is
// given, never a shared view, so a stage that re-enters the pipeline (a held
// fragment released, say) does so with a packet of its own and cannot
// change what its caller reads.
import type { L4Info, ProtoOps } from '../conn/proto/index.js';
import type { FrameMeta } from '../model/frame.js';
import { AF_INET } from '../model/proto.js';
import { EMPTY } from '../wire/bytes.js';
import { completeChecksum } from '../wire/csum-partial.js';
import { EthernetView } from '../wire/ethernet.js';
import { IcmpView } from '../wire/icmp.js';
import { Icmpv6View } from '../wire/icmpv6.js';
import { Ipv4View } from '../wire/ipv4.js';
import { Ipv6Headers, Ipv6View } from '../wire/ipv6.js';
import type { DirectorPort } from './port.js';

/** Not a fragment. */
export const FRAG_NONE = 0;
/** The first fragment: offset 0, MF set; it carries the transport header. */
export const FRAG_FIRST = 1;
/** A later fragment: no transport header, it follows its first fragment. */
export const FRAG_LATER = 2;

export class Packet implements L4Info, FrameMeta {
  /** Ingress port. */
  port!: DirectorPort;
  buf: Uint8Array = EMPTY;
  /** Start of the Ethernet header in buf. */
  ethOff = 0;
  /** Bytes received (may include Ethernet padding). */
  len = 0;
  /** The frame's time, ms: the clock of every decision about it. */
  now = 0;
  /** Sent to the broadcast MAC. */
  bcast = false;
  /** Sent to an IPv6 multicast MAC (33:33:...): neighbour discovery, all-nodes. */
  mcast = false;
  /** AF_INET, or AF_INET6 once ipv6-input has read the header. */
  af = AF_INET;
  // FrameMeta: a super-frame from a port with offload, and its segment size.
  gsoType = 0;
  gsoSize = 0;
  /** FrameMeta: a partial transport checksum (its range's start from the frame's first byte), 0 when complete. */
  csumStart = 0;
  csumOffset = 0;

  readonly eth = new EthernetView();
  readonly ip = new Ipv4View();
  readonly icmp = new IcmpView();
  // IPv6 (read only when af is AF_INET6): the fixed header, the walk of its
  // extension headers, ICMPv6, and the addresses as words (src/dst above
  // then hold their folds, the kernel's 32-bit stand-ins for hashing)
  readonly ip6 = new Ipv6View();
  readonly ext6 = new Ipv6Headers();
  readonly icmp6 = new Icmpv6View();
  readonly src6 = new Uint32Array(4);
  readonly dst6 = new Uint32Array(4);
  /** IPv6 fragments: the fragment header's 32-bit identification. */
  fragId = 0;

  /** What is forwarded: the Ethernet header and the IP total length (padding excluded). */
  frameLen = 0;
  proto = 0;
  src = 0;
  dst = 0;
  /** FRAG_NONE, FRAG_FIRST or FRAG_LATER. */
  fragment = FRAG_NONE;

  /** The transport protocol's entry when it has one and its header was read (never for a later fragment). */
  ops: ProtoOps | undefined = undefined;
  l4Off = 0;
  l4Len = 0;
  sport = 0;
  dport = 0;
  /** State-machine flags of the transport header (TCP flag bits). */
  flags = 0;

  /** A super-frame: the port that sends it cuts it to its MTU, so MTU checks do not apply. */
  get isSuperFrame(): boolean {
    return this.gsoSize !== 0;
  }

  /**
   * Finishes a partial transport checksum in place (software, as the
   * kernel's skb_checksum_help): before the frame's start moves (a tunnel's
   * outer header) or its transport bytes change other than by NAT.
   */
  finishChecksum(): void {
    if (this.csumStart === 0) return;
    completeChecksum(this.buf, this.ethOff, this.frameLen, this.csumStart, this.csumOffset);
    this.csumStart = 0;
    this.csumOffset = 0;
  }

  /**
   * Before a tunnel puts headers in front: a partial checksum is finished
   * here, except a super-frame's, which the sending port cuts in software
   * and sums segment by segment (an encapsulated super-frame is never
   * handed to a device whole).
   */
  checksumForTunnel(): void {
    if (this.csumStart === 0) return;
    if (this.gsoSize === 0) return this.finishChecksum();
    this.csumStart = 0;
    this.csumOffset = 0;
  }

  /** Points the packet at a frame and clears what earlier frames left. */
  reset(port: DirectorPort, buf: Uint8Array, off: number, len: number, now: number, meta: FrameMeta): void {
    this.port = port;
    this.buf = buf;
    this.ethOff = off;
    this.len = len;
    this.now = now;
    this.bcast = false;
    this.mcast = false;
    this.af = AF_INET;
    this.gsoType = meta.gsoType;
    this.gsoSize = meta.gsoSize;
    this.csumStart = meta.csumStart;
    this.csumOffset = meta.csumOffset;
    this.frameLen = len;
    this.proto = 0;
    this.src = 0;
    this.dst = 0;
    this.fragment = FRAG_NONE;
    this.ops = undefined;
    this.l4Off = 0;
    this.l4Len = 0;
    this.sport = 0;
    this.dport = 0;
    this.flags = 0;
  }
}
