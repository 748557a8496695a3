// ARP for IPv4 over Ethernet (RFC 826). Any other hardware or protocol type
// is refused by wrap: the director has no use for it.

import { readMac, writeMac } from './addr.js';
import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { ARP_TRUNCATED, ARP_UNSUPPORTED, WIRE_OK, WireError } from './errors.js';

export const ARP_LEN = 28;
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_PTYPE_IPV4 = 0x0800;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

export class ArpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  /** Returns WIRE_OK, ARP_TRUNCATED or ARP_UNSUPPORTED. */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < ARP_LEN || off < 0 || off + len > buf.length) return ARP_TRUNCATED;
    if (get16(buf, off) !== ARP_HTYPE_ETHERNET || get16(buf, off + 2) !== ARP_PTYPE_IPV4 ||
        buf[off + 4] !== 6 || buf[off + 5] !== 4) {
      return ARP_UNSUPPORTED;
    }
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  get op(): number { return get16(this.buf, this.off + 6); }
  set op(v: number) { put16(this.buf, this.off + 6, v); }
  /** Sender hardware address. */
  get sha(): number { return readMac(this.buf, this.off + 8); }
  set sha(v: number) { writeMac(this.buf, this.off + 8, v); }
  /** Sender protocol (IPv4) address. */
  get spa(): number { return get32(this.buf, this.off + 14); }
  set spa(v: number) { put32(this.buf, this.off + 14, v); }
  /** Target hardware address. */
  get tha(): number { return readMac(this.buf, this.off + 18); }
  set tha(v: number) { writeMac(this.buf, this.off + 18, v); }
  /** Target protocol (IPv4) address. */
  get tpa(): number { return get32(this.buf, this.off + 24); }
  set tpa(v: number) { put32(this.buf, this.off + 24, v); }

  /** A gratuitous ARP announces its own address: sender and target IP are equal. */
  get isGratuitous(): boolean { return this.spa === this.tpa; }
}

export interface ArpPacket {
  op: number;
  sha: number;
  spa: number;
  tha: number;
  tpa: number;
}

export function parseArp(buf: Uint8Array, off = 0, len = buf.length - off): ArpPacket {
  const v = new ArpView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'arp');
  return { op: v.op, sha: v.sha, spa: v.spa, tha: v.tha, tpa: v.tpa };
}

/** Writes the 28-byte packet; returns 28. */
export function emitArp(p: ArpPacket, buf: Uint8Array, off: number): number {
  put16(buf, off, ARP_HTYPE_ETHERNET);
  put16(buf, off + 2, ARP_PTYPE_IPV4);
  buf[off + 4] = 6;
  buf[off + 5] = 4;
  put16(buf, off + 6, p.op);
  writeMac(buf, off + 8, p.sha);
  put32(buf, off + 14, p.spa);
  writeMac(buf, off + 18, p.tha);
  put32(buf, off + 24, p.tpa);
  return ARP_LEN;
}
