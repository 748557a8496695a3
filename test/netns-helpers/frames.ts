/** Hand-built frames for the I/O tests (independent of src/wire so a bug there cannot hide one here). */

export function ipv4(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function checksum(b: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < len; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  if (len & 1) sum += b[off + len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function putMac(b: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  const lo = mac >>> 0;
  b[off] = hi >>> 8; b[off + 1] = hi & 0xff;
  b[off + 2] = lo >>> 24; b[off + 3] = (lo >>> 16) & 0xff; b[off + 4] = (lo >>> 8) & 0xff; b[off + 5] = lo & 0xff;
}

export function getMac(b: Uint8Array, off: number): number {
  return (b[off]! * 0x100 + b[off + 1]!) * 0x100000000 + (((b[off + 2]! << 24) | (b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!) >>> 0);
}

export function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

export function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 8; b[off + 1] = v & 0xff;
}

export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24; b[off + 1] = (v >>> 16) & 0xff; b[off + 2] = (v >>> 8) & 0xff; b[off + 3] = v & 0xff;
}

/** ARP reply "ip is-at mac" to the asker of the request at req[off..]. */
export function arpReply(req: Uint8Array, off: number, myMac: number): Uint8Array {
  const r = new Uint8Array(42);
  const askerMac = getMac(req, off + 22);
  const askerIp = u32(req, off + 28);
  const targetIp = u32(req, off + 38);
  putMac(r, 0, askerMac); putMac(r, 6, myMac); put16(r, 12, 0x0806);
  put16(r, 14, 1); put16(r, 16, 0x0800); r[18] = 6; r[19] = 4; put16(r, 20, 2);
  putMac(r, 22, myMac); put32(r, 28, targetIp);
  putMac(r, 32, askerMac); put32(r, 38, askerIp);
  return r;
}

/** ICMP echo reply to the echo request frame at req[off..off+len). */
export function echoReply(req: Uint8Array, off: number, len: number): Uint8Array {
  const r = req.slice(off, off + len);
  putMac(r, 0, getMac(req, off + 6)); putMac(r, 6, getMac(req, off));
  const ihl = (r[14]! & 0x0f) * 4;
  const src = u32(r, 26);
  put32(r, 26, u32(r, 30)); put32(r, 30, src);
  r[22] = 64; // ttl
  put16(r, 24, 0); put16(r, 24, checksum(r, 14, ihl));
  const icmp = 14 + ihl;
  r[icmp] = 0; // echo reply
  put16(r, icmp + 2, 0);
  put16(r, icmp + 2, checksum(r, icmp, u16(r, 16) - ihl));
  return r;
}

/** Minimal Ethernet + IPv4 + UDP frame. */
export function udpFrame(o: { dmac: number; smac: number; src: number; dst: number; sport: number; dport: number; payload: Uint8Array }): Uint8Array {
  const ipLen = 20 + 8 + o.payload.length;
  const f = new Uint8Array(14 + ipLen);
  putMac(f, 0, o.dmac); putMac(f, 6, o.smac); put16(f, 12, 0x0800);
  ipv4Header(f, 14, o.src, o.dst, 17, ipLen);
  put16(f, 34, o.sport); put16(f, 36, o.dport); put16(f, 38, 8 + o.payload.length);
  f.set(o.payload, 42);
  return f;
}

/** Writes a 20-byte IPv4 header with its checksum. */
export function ipv4Header(b: Uint8Array, off: number, src: number, dst: number, proto: number, totalLen: number): void {
  b[off] = 0x45; b[off + 1] = 0; put16(b, off + 2, totalLen); put16(b, off + 4, 0x1234); put16(b, off + 6, 0x4000);
  b[off + 8] = 64; b[off + 9] = proto; put16(b, off + 10, 0);
  put32(b, off + 12, src); put32(b, off + 16, dst);
  put16(b, off + 10, checksum(b, off, 20));
}
