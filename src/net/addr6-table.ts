// Which of the director's own addresses an IPv6 address is: the IPv6 twin
// of addr-table.ts, asked per frame (is the destination ours? a VIP? is the
// source one of ours?). Open addressing over typed arrays, hashed by the
// address's fold and confirmed on all four words: no strings, no allocation.
import { ADDR_LOCAL, ADDR_VIP } from './addr-table.js';

export class Addr6Table {
  /** Four words per slot. */
  private keys: Uint32Array;
  private used: Uint8Array;
  private cls: Uint8Array;
  private localPort: Int16Array;
  private vipPort: Int16Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 16) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Uint32Array(n * 4);
    this.used = new Uint8Array(n);
    this.cls = new Uint8Array(n);
    this.localPort = new Int16Array(n).fill(-1);
    this.vipPort = new Int16Array(n).fill(-1);
    this.mask = n - 1;
  }

  /** The slot of a[aOff..], or the empty slot where it would go. */
  private find(a: Uint32Array, aOff: number): number {
    const w0 = a[aOff]!;
    const w1 = a[aOff + 1]!;
    const w2 = a[aOff + 2]!;
    const w3 = a[aOff + 3]!;
    const keys = this.keys;
    let i = Math.imul(w0 ^ w1 ^ w2 ^ w3, 0x9e3779b1) >>> 0 & this.mask;
    for (;;) {
      if (this.used[i] === 0) return i;
      const k = i << 2;
      if (keys[k + 3] === w3 && keys[k + 2] === w2 && keys[k] === w0 && keys[k + 1] === w1) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** The ADDR_* bits of the address at a[aOff..] (0: none of ours). */
  classOf(a: Uint32Array, aOff = 0): number {
    return this.cls[this.find(a, aOff)]!;
  }

  /** Port index owning the address as an own address (ADDR_LOCAL), else -1. */
  localPortOf(a: Uint32Array, aOff = 0): number {
    const i = this.find(a, aOff);
    return this.used[i] === 0 ? -1 : this.localPort[i]!;
  }

  /** Port index on which the address is a VIP, else -1. */
  vipPortOf(a: Uint32Array, aOff = 0): number {
    const i = this.find(a, aOff);
    return this.used[i] === 0 ? -1 : this.vipPort[i]!;
  }

  add(a: Uint32Array, cls: number, port = -1): void {
    if ((this.count + 1) * 2 > this.used.length) this.grow();
    const i = this.find(a, 0);
    if (this.used[i] === 0) {
      this.used[i] = 1;
      this.keys.set(a.subarray(0, 4), i << 2);
      this.count++;
    }
    this.cls[i]! |= cls;
    if (cls === ADDR_LOCAL && this.localPort[i] === -1) this.localPort[i] = port;
    if (cls === ADDR_VIP && this.vipPort[i] === -1) this.vipPort[i] = port;
  }

  /** Clears one class bit from every address (the real-server set, before it is rebuilt). */
  clearClass(cls: number): void {
    this.rebuild(this.used.length, cls);
  }

  private grow(): void {
    this.rebuild(this.used.length * 2, 0);
  }

  private rebuild(n: number, clear: number): void {
    const old = { keys: this.keys, used: this.used, cls: this.cls, local: this.localPort, vip: this.vipPort };
    this.keys = new Uint32Array(n * 4);
    this.used = new Uint8Array(n);
    this.cls = new Uint8Array(n);
    this.localPort = new Int16Array(n).fill(-1);
    this.vipPort = new Int16Array(n).fill(-1);
    this.mask = n - 1;
    this.count = 0;
    for (let j = 0; j < old.used.length; j++) {
      const c = old.cls[j]! & ~clear;
      if (old.used[j] === 0 || c === 0) continue;
      const i = this.find(old.keys, j << 2);
      this.used[i] = 1;
      this.keys.set(old.keys.subarray(j << 2, (j << 2) + 4), i << 2);
      this.cls[i] = c;
      this.localPort[i] = old.local[j]!;
      this.vipPort[i] = old.vip[j]!;
      this.count++;
    }
  }

  /** For tests and listings. */
  get size(): number {
    return this.count;
  }
}
