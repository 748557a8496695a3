/**
 * What travels with a frame besides its bytes, from the port that received
 * it through the director to the port that sends it (the kernel keeps the
 * same in an skb's shared info): whether it is a TCP super-frame from a port
 * with segmentation offload, and the segment size its sender chose.
 */
export interface FrameMeta {
  /** virtio-net GSO type (VNET_GSO_TCPV4, possibly | ECN); 0: an ordinary frame. */
  gsoType: number;
  /** TCP payload bytes per segment of a super-frame; 0: an ordinary frame. */
  gsoSize: number;
}

/** An ordinary frame: what everything the director originates carries. */
export const PLAIN_FRAME: FrameMeta = Object.freeze({ gsoType: 0, gsoSize: 0 });
