// Ethernet II, with one optional 802.1Q tag.

import { readMac, writeMac } from './addr.js';
import { EMPTY, get16, put16 } from './bytes.js';
import { ETH_TRUNCATED, ETH_VLAN_TRUNCATED, WIRE_OK, WireError } from './errors.js';

export const ETH_HEADER_LEN = 14;
export const VLAN_TAG_LEN = 4;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

/** Offset of the type field (of the tag's TPID when tagged): the MACs come before it. */
export const ETH_TYPE_OFFSET = 12;
const OFF_TYPE = ETH_TYPE_OFFSET;

export class EthernetView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;
  private hdrLen = ETH_HEADER_LEN;

  /** Returns WIRE_OK or ETH_TRUNCATED / ETH_VLAN_TRUNCATED. */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < ETH_HEADER_LEN || off < 0 || off + len > buf.length) return ETH_TRUNCATED;
    let hdrLen = ETH_HEADER_LEN;
    if (get16(buf, off + OFF_TYPE) === ETHERTYPE_VLAN) {
      if (len < ETH_HEADER_LEN + VLAN_TAG_LEN) return ETH_VLAN_TRUNCATED;
      hdrLen += VLAN_TAG_LEN;
    }
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.hdrLen = hdrLen;
    return WIRE_OK;
  }

  get dst(): number { return readMac(this.buf, this.off); }
  /** The destination MAC's top 16 bits and low 32 bits (signed): a compare without building a 48-bit number. */
  get dstHi(): number { return get16(this.buf, this.off); }
  get dstLo(): number { return ((this.buf[this.off + 2]! << 24) | (this.buf[this.off + 3]! << 16) | (this.buf[this.off + 4]! << 8) | this.buf[this.off + 5]!) | 0; }
  set dst(v: number) { writeMac(this.buf, this.off, v); }
  get src(): number { return readMac(this.buf, this.off + 6); }
  set src(v: number) { writeMac(this.buf, this.off + 6, v); }

  /** The type field at offset 12: ETHERTYPE_VLAN when tagged. */
  get etherType(): number { return get16(this.buf, this.off + OFF_TYPE); }

  get hasVlan(): boolean { return this.hdrLen !== ETH_HEADER_LEN; }
  /** VLAN id (0..4095), or -1 when the frame is untagged. */
  get vlanId(): number { return this.hasVlan ? get16(this.buf, this.off + 14) & 0x0fff : -1; }
  /** Priority code point of the tag, 0 when untagged. */
  get vlanPcp(): number { return this.hasVlan ? this.buf[this.off + 14]! >>> 5 : 0; }

  /** The type of the payload: after the tag when tagged. */
  get innerEtherType(): number { return get16(this.buf, this.off + this.hdrLen - 2); }
  set innerEtherType(v: number) { put16(this.buf, this.off + this.hdrLen - 2, v); }

  get headerLength(): number { return this.hdrLen; }
  /** Absolute offset of the payload in buf. */
  get payloadOffset(): number { return this.off + this.hdrLen; }
  get payloadLength(): number { return this.len - this.hdrLen; }

  /** Swaps source and destination MACs, for answering a frame in place. */
  swapMacs(): void {
    const d = this.dst;
    this.dst = this.src;
    this.src = d;
  }
}

/** Writes the type field of an untagged header at `off` (a header being built in headroom). */
export function setEtherType(buf: Uint8Array, off: number, type: number): void {
  put16(buf, off + OFF_TYPE, type);
}

export interface VlanTag {
  id: number;
  pcp: number;
  dei: boolean;
}

export interface EthernetHeader {
  dst: number;
  src: number;
  /** Present when the frame carries an 802.1Q tag. */
  vlan?: VlanTag;
  /** The payload's ethertype (after the tag when tagged). */
  etherType: number;
}

export function parseEthernet(buf: Uint8Array, off = 0, len = buf.length - off): EthernetHeader {
  const v = new EthernetView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'ethernet');
  const h: EthernetHeader = { dst: v.dst, src: v.src, etherType: v.innerEtherType };
  if (v.hasVlan) {
    const tci = get16(buf, off + 14);
    h.vlan = { id: tci & 0x0fff, pcp: tci >>> 13, dei: (tci & 0x1000) !== 0 };
  }
  return h;
}

export function ethernetHeaderLength(h: EthernetHeader): number {
  return h.vlan ? ETH_HEADER_LEN + VLAN_TAG_LEN : ETH_HEADER_LEN;
}

/** Writes the header; returns the bytes written (14 or 18). */
export function emitEthernet(h: EthernetHeader, buf: Uint8Array, off: number): number {
  writeMac(buf, off, h.dst);
  writeMac(buf, off + 6, h.src);
  if (h.vlan) {
    put16(buf, off + 12, ETHERTYPE_VLAN);
    put16(buf, off + 14, ((h.vlan.pcp & 7) << 13) | (h.vlan.dei ? 0x1000 : 0) | (h.vlan.id & 0x0fff));
    put16(buf, off + 16, h.etherType);
    return ETH_HEADER_LEN + VLAN_TAG_LEN;
  }
  put16(buf, off + 12, h.etherType);
  return ETH_HEADER_LEN;
}
