// Captured frames made into the Ethernet frames a port would have delivered:
// Linux cooked captures (SLL and SLL2, what `tcpdump -i any` writes) get an
// Ethernet header rebuilt from their cooked one, and 802.1Q / 802.1ad tags
// can be taken out. Frames that cannot become a usable Ethernet frame are
// refused with a named reason, for the caller to count.
//
// The cooked headers (Linux's struct sockaddr_ll, as libpcap lays it out):
//   SLL  (16 bytes): packet type u16, ARPHRD type u16, address length u16,
//                    address 8 bytes, protocol u16
//   SLL2 (20 bytes): protocol u16, reserved u16, interface index u32,
//                    ARPHRD type u16, packet type u8, address length u8,
//                    address 8 bytes
// All big-endian. The address is the sender's link-layer address; the
// destination is not recorded, only what kind of address it was.
import { writeMac } from '../wire/addr.js';
import { get16, get32, put16 } from '../wire/bytes.js';
import { ETH_HEADER_LEN, ETH_TYPE_OFFSET, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN, VLAN_TAG_LEN } from '../wire/ethernet.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './capture.js';

export const SLL_HEADER_LEN = 16;
const SLL_PKTTYPE = 0;
const SLL_HATYPE = 2;
const SLL_HALEN = 4;
const SLL_ADDR = 6;
const SLL_PROTOCOL = 14;

export const SLL2_HEADER_LEN = 20;
const SLL2_PROTOCOL = 0;
const SLL2_IFINDEX = 4;
const SLL2_HATYPE = 8;
const SLL2_PKTTYPE = 10;
const SLL2_HALEN = 11;
const SLL2_ADDR = 12;

// packet types (linux/if_packet.h)
const PACKET_HOST = 0;
const PACKET_BROADCAST = 1;
const PACKET_MULTICAST = 2;
const PACKET_OTHERHOST = 3;
const PACKET_OUTGOING = 4;

const ARPHRD_ETHER = 1;
const MAC_LEN = 6;
/** The smallest EtherType; smaller type fields are 802.3 lengths or Linux's pseudo-protocols (LLC, CAN, ...). */
const ETHERTYPE_MIN = 0x0600;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

const IPV4_DST = 16;
const IPV6_DST_LOW32 = 36;
const MAC_BROADCAST = 0xffffffffffff;
const MAC_IPV4_MULTICAST = 0x01005e000000;
const MAC_IPV6_MULTICAST = 0x333300000000;

/** Why a captured frame could not be given to the director, by name (counted per name in a replay). */
export const ADAPT_REASONS = [
  /** Sent by the capturing host (packet type OUTGOING): no port received it. */
  'sll-outgoing',
  /** Addressed to another host's MAC (promiscuous capture): the destination is not recorded. */
  'sll-other-host',
  /** Captured on a device that is not Ethernet (loopback, tun, ipip, …), or not an Ethernet II frame. */
  'sll-not-ethernet',
  /** Multicast that is not IPv4 or IPv6: its destination MAC cannot be rebuilt. */
  'sll-unknown-multicast',
  /** Shorter than its cooked header. */
  'sll-truncated',
] as const;

export type AdaptReason = (typeof ADAPT_REASONS)[number];

const R_OUTGOING = 0;
const R_OTHER_HOST = 1;
const R_NOT_ETHERNET = 2;
const R_UNKNOWN_MULTICAST = 3;
const R_TRUNCATED = 4;

/** The link types `toEthernet` takes. */
export const ADAPTABLE_LINK_TYPES: readonly number[] = [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2];
/** How a refusal of any other link type ends. */
export const ADAPTABLE_TEXT = 'tapvs replays Ethernet, Linux cooked (SLL, SLL2) captures';

/** The reason a negative result of `toEthernet` stands for. */
export function adaptReason(result: number): AdaptReason {
  return ADAPT_REASONS[-result - 1]!;
}

/**
 * Writes the Ethernet frame for the captured frame `src[off, off + len)` of
 * link type `linkType` to `out` at `outOff`, and returns its length; or
 * returns a negative number, the refusal (see `adaptReason`). `hostMac` is
 * the MAC the frame was received on: a cooked frame to "this host" gets it
 * as its destination. `out` has room for `len` bytes at `outOff`.
 */
export function toEthernet(
  linkType: number, src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number, hostMac: number,
): number {
  let hdr: number;
  let pktType: number;
  let haType: number;
  let haLen: number;
  let addr: number;
  let proto: number;
  if (linkType === LINKTYPE_LINUX_SLL) {
    if (len < SLL_HEADER_LEN) return -1 - R_TRUNCATED;
    hdr = SLL_HEADER_LEN;
    pktType = get16(src, off + SLL_PKTTYPE);
    haType = get16(src, off + SLL_HATYPE);
    haLen = get16(src, off + SLL_HALEN);
    addr = off + SLL_ADDR;
    proto = get16(src, off + SLL_PROTOCOL);
  } else if (linkType === LINKTYPE_LINUX_SLL2) {
    if (len < SLL2_HEADER_LEN) return -1 - R_TRUNCATED;
    hdr = SLL2_HEADER_LEN;
    pktType = src[off + SLL2_PKTTYPE]!;
    haType = get16(src, off + SLL2_HATYPE);
    haLen = src[off + SLL2_HALEN]!;
    addr = off + SLL2_ADDR;
    proto = get16(src, off + SLL2_PROTOCOL);
  } else {
    out.set(src.subarray(off, off + len), outOff);
    return len;
  }
  if (pktType === PACKET_OUTGOING) return -1 - R_OUTGOING;
  if (pktType === PACKET_OTHERHOST) return -1 - R_OTHER_HOST;
  if (haType !== ARPHRD_ETHER || haLen !== MAC_LEN || proto < ETHERTYPE_MIN) return -1 - R_NOT_ETHERNET;
  const payload = off + hdr;
  const payloadLen = len - hdr;
  let dst: number;
  if (pktType === PACKET_HOST) dst = hostMac;
  else if (pktType === PACKET_BROADCAST) dst = MAC_BROADCAST;
  else if (pktType === PACKET_MULTICAST) {
    dst = multicastMac(proto, src, payload, payloadLen);
    if (dst < 0) return -1 - R_UNKNOWN_MULTICAST;
  } else return -1 - R_NOT_ETHERNET; // a packet type Linux does not define for captures
  writeMac(out, outOff, dst);
  for (let i = 0; i < MAC_LEN; i++) out[outOff + 6 + i] = src[addr + i]!;
  put16(out, outOff + 12, proto);
  out.set(src.subarray(payload, payload + payloadLen), outOff + ETH_HEADER_LEN);
  return ETH_HEADER_LEN + payloadLen;
}

/** The MAC an IPv4 or IPv6 multicast datagram is sent to (RFC 1112, RFC 2464), or -1. */
function multicastMac(proto: number, buf: Uint8Array, off: number, len: number): number {
  if (proto === ETHERTYPE_IPV4 && len >= IPV4_DST + 4) return MAC_IPV4_MULTICAST + (get32(buf, off + IPV4_DST) & 0x7fffff);
  if (proto === ETHERTYPE_IPV6 && len >= IPV6_DST_LOW32 + 4) return MAC_IPV6_MULTICAST + get32(buf, off + IPV6_DST_LOW32);
  return -1;
}

/** The Linux interface index an SLL2 frame was captured on (the caller has checked it is SLL2 of at least 20 bytes). */
export function sll2IfIndex(buf: Uint8Array, off: number): number {
  return get32(buf, off + SLL2_IFINDEX);
}

/**
 * Takes every 802.1Q / 802.1ad tag out of the Ethernet frame at
 * `buf[off, off + len)`, in place: the MACs move up by 4 bytes per tag.
 * Returns how many tags it removed; the frame then starts at
 * `off + 4 * tags` and is `4 * tags` shorter.
 */
export function stripVlanTags(buf: Uint8Array, off: number, len: number): number {
  let tags = 0;
  while (len >= ETH_HEADER_LEN + VLAN_TAG_LEN) {
    const type = get16(buf, off + ETH_TYPE_OFFSET);
    if (type !== ETHERTYPE_VLAN && type !== ETHERTYPE_QINQ && type !== ETHERTYPE_QINQ_OLD) break;
    buf.copyWithin(off + VLAN_TAG_LEN, off, off + ETH_TYPE_OFFSET);
    off += VLAN_TAG_LEN;
    len -= VLAN_TAG_LEN;
    tags++;
  }
  return tags;
}
