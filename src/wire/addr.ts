// IPv4 addresses as uint32 numbers and MAC addresses as 48-bit numbers (a
// double holds 48 bits exactly), with the string forms used by the control
// side. Parsers throw; the data path only uses the number forms.

const TWO32 = 4294967296;

export function ipToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Strict dotted quad ("10.0.0.1"); no shorthand forms, no leading zeros. */
export function parseIp(s: string): number {
  const m = DOTTED_QUAD.exec(s.trim());
  if (!m) throw new Error(`invalid IPv4 address '${s}': expected a dotted quad like 10.0.0.1`);
  let a = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    const n = Number(part);
    if (n > 255) throw new Error(`invalid IPv4 address '${s}': ${part} is larger than 255`);
    // "010" is octal to inet_aton, decimal to others: refuse it rather than guess
    if (part.length > 1 && part[0] === '0') throw new Error(`invalid IPv4 address '${s}': leading zero in '${part}'`);
    a = a * 256 + n;
  }
  return a >>> 0;
}

export function isIp(s: string): boolean {
  try {
    parseIp(s);
    return true;
  } catch {
    return false;
  }
}

export function prefixToMask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new Error(`invalid prefix length ${prefix}: expected 0..32`);
  }
  // a shift by 32 is a shift by 0 in JS, hence the special case
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Prefix length of a contiguous netmask; throws for masks like 255.0.255.0. */
export function maskToPrefix(mask: number): number {
  mask >>>= 0;
  const inverted = ~mask >>> 0;
  // contiguous ones then zeros <=> the inverted mask is 2^k - 1
  if ((inverted & (inverted + 1)) !== 0) {
    throw new Error(`netmask ${ipToString(mask)} is not contiguous`);
  }
  return Math.clz32(inverted);
}

/** Whether addr lies in net/prefix. Never throws; prefix is clamped to 0..32. */
export function inSubnet(addr: number, net: number, prefix: number): boolean {
  if (prefix <= 0) return true;
  if (prefix >= 32) return addr >>> 0 === net >>> 0;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return ((addr & mask) >>> 0) === ((net & mask) >>> 0);
}

/** "10.0.0.0/24" -> { addr, prefix }; a bare address gets prefix 32. */
export function parseCidr(s: string): { addr: number; prefix: number } {
  const slash = s.indexOf('/');
  if (slash < 0) return { addr: parseIp(s), prefix: 32 };
  const addr = parseIp(s.slice(0, slash));
  const p = s.slice(slash + 1).trim();
  if (!/^\d{1,2}$/.test(p)) throw new Error(`invalid prefix in '${s}': expected /0../32`);
  const prefix = Number(p);
  prefixToMask(prefix); // range check
  return { addr, prefix };
}

// ---- MAC addresses ----

export const MAC_BROADCAST = 0xffffffffffff;
export const MAC_ZERO = 0;

const MAC_RE = /^([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})[:-]([0-9a-fA-F]{1,2})$/;

/** "02:00:00:00:00:01" (or with '-') -> 48-bit number. */
export function parseMac(s: string): number {
  const m = MAC_RE.exec(s.trim());
  if (!m) throw new Error(`invalid MAC address '${s}': expected six hex bytes like 02:00:00:00:00:01`);
  let n = 0;
  for (let i = 1; i <= 6; i++) n = n * 256 + parseInt(m[i]!, 16);
  return n;
}

export function macToString(mac: number): string {
  let s = '';
  for (let i = 5; i >= 0; i--) {
    const byte = Math.floor(mac / 2 ** (8 * i)) % 256;
    s += (byte < 16 ? '0' : '') + byte.toString(16) + (i > 0 ? ':' : '');
  }
  return s;
}

/** Six bytes at off -> 48-bit number. */
export function readMac(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 8) | buf[off + 1]!) * TWO32 +
    (((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0);
}

export function writeMac(buf: Uint8Array, off: number, mac: number): void {
  const hi = (mac / TWO32) >>> 0;
  const lo = mac >>> 0; // ToUint32 is modulo 2^32: the low 32 bits
  buf[off] = hi >>> 8;
  buf[off + 1] = hi;
  buf[off + 2] = lo >>> 24;
  buf[off + 3] = lo >>> 16;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo;
}

/** A 6-byte slice (from a buffer at off) -> 48-bit number. */
export function macToNumber(bytes: Uint8Array, off = 0): number {
  return readMac(bytes, off);
}

/** 48-bit number -> a new 6-byte array. */
export function macToBytes(mac: number): Uint8Array {
  const b = new Uint8Array(6);
  writeMac(b, 0, mac);
  return b;
}

/** Group bit (I/G) of the first octet: broadcast and multicast. */
export function isMulticastMac(mac: number): boolean {
  return (Math.floor(mac / 2 ** 40) & 1) === 1;
}
