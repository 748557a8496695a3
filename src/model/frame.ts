/**
 * What travels with a frame besides its bytes, from the port that received
 * it through the director to the port that sends it (the kernel keeps the
 * same in an skb's shared info and its ip_summed / csum_start): whether it
 * is a TCP super-frame from a port with segmentation offload, the segment
 * size its sender chose, and whether its transport checksum is still
 * partial (the field holds the pseudo-header sum; wire/csum-partial.ts).
 *
 * A partial checksum is only ever that of an unfragmented TCP or UDP
 * packet directly in the frame's IPv4 or IPv6 header (the receiving port
 * finishes any other in software), so its field is where the director's
 * transport header says. Whatever rewrites such a packet's transport bytes
 * beyond NAT (ProtoOps dnat/snat/nat6 take the partial form), or moves the
 * frame's start (tunnels), finishes the checksum first (Packet.finishChecksum).
 */
export interface FrameMeta {
  /** virtio-net GSO type (VNET_GSO_TCPV4 / TCPV6, possibly | ECN); 0: an ordinary frame. */
  gsoType: number;
  /** TCP payload bytes per segment of a super-frame; 0: an ordinary frame. */
  gsoSize: number;
  /** Partial checksum: where the summed range starts, from the frame's first byte; 0: the checksum is complete. */
  csumStart: number;
  /** Partial checksum: where the field is, from csumStart (16 for TCP, 6 for UDP). */
  csumOffset: number;
}

/** An ordinary frame: what everything the director originates carries. */
export const PLAIN_FRAME: FrameMeta = Object.freeze({ gsoType: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
