// Which of the director's own addresses an IPv4 address is. Asked several
// times per frame (is the destination ours? a VIP? is the source one of
// ours?), so it is an open-addressing table over typed arrays: a Map keyed by
// uint32 numbers above 2^31 hashes heap numbers, several times slower.

/** One of the director's port addresses. */
export const ADDR_LOCAL = 1;
/** A virtual IP answered for on a port. */
export const ADDR_VIP = 2;
/** The address of some real server of some service. */
export const ADDR_REAL_SERVER = 4;
/** A VIP a VRRP backup holds back (not answered for, not accepted): ADDR_VIP is off while this is on. */
export const ADDR_VIP_INACTIVE = 8;

const EMPTY_KEY = 0;

export class AddrTable {
  private keys: Uint32Array;
  private cls: Uint8Array;
  private localPort: Int16Array;
  private vipPort: Int16Array;
  private mask: number;
  private count = 0;
  /** 0.0.0.0 never is an address of ours, so 0 marks an empty slot. */

  constructor(capacity = 16) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Uint32Array(n);
    this.cls = new Uint8Array(n);
    this.localPort = new Int16Array(n).fill(-1);
    this.vipPort = new Int16Array(n).fill(-1);
    this.mask = n - 1;
  }

  private find(addr: number): number {
    const keys = this.keys;
    let i = Math.imul(addr, 0x9e3779b1) >>> 0 & this.mask;
    for (;;) {
      const k = keys[i]!;
      if (k === addr || k === EMPTY_KEY) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** The ADDR_* bits of `addr` (0: none of ours). */
  classOf(addr: number): number {
    const a = addr >>> 0;
    if (a === EMPTY_KEY) return 0;
    return this.cls[this.find(a)]!;
  }

  /** Port index owning `addr` as an own address (ADDR_LOCAL), else -1. */
  localPortOf(addr: number): number {
    const a = addr >>> 0;
    return a === EMPTY_KEY ? -1 : this.localPort[this.find(a)]!;
  }

  add(addr: number, cls: number, port = -1): void {
    const a = addr >>> 0;
    if (a === EMPTY_KEY) return;
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const i = this.find(a);
    if (this.keys[i] === EMPTY_KEY) {
      this.keys[i] = a;
      this.count++;
    }
    this.cls[i]! |= cls;
    if (cls === ADDR_LOCAL && this.localPort[i] === -1) this.localPort[i] = port;
    if (cls === ADDR_VIP && this.vipPort[i] === -1) this.vipPort[i] = port;
  }

  /** Sets or clears class bits of one address already in the table (a VIP going inactive and back). */
  setBits(addr: number, bits: number, on: boolean): void {
    const a = addr >>> 0;
    if (a === EMPTY_KEY) return;
    const i = this.find(a);
    if (this.keys[i] !== a) return;
    if (on) this.cls[i]! |= bits;
    else this.cls[i]! &= ~bits;
  }

  /** Clears one class bit from every address (e.g. the real-server set, before it is rebuilt). */
  clearClass(cls: number): void {
    const old = { keys: this.keys, cls: this.cls, local: this.localPort, vip: this.vipPort };
    this.keys = new Uint32Array(old.keys.length);
    this.cls = new Uint8Array(old.keys.length);
    this.localPort = new Int16Array(old.keys.length).fill(-1);
    this.vipPort = new Int16Array(old.keys.length).fill(-1);
    this.count = 0;
    for (let i = 0; i < old.keys.length; i++) {
      const k = old.keys[i]!;
      const c = old.cls[i]! & ~cls;
      if (k === EMPTY_KEY || c === 0) continue;
      this.reinsert(k, c, old.local[i]!, old.vip[i]!);
    }
  }

  private reinsert(k: number, c: number, local: number, vip: number): void {
    const i = this.find(k);
    this.keys[i] = k;
    this.cls[i] = c;
    this.localPort[i] = local;
    this.vipPort[i] = vip;
    this.count++;
  }

  private grow(): void {
    const old = { keys: this.keys, cls: this.cls, local: this.localPort, vip: this.vipPort };
    const n = old.keys.length * 2;
    this.keys = new Uint32Array(n);
    this.cls = new Uint8Array(n);
    this.localPort = new Int16Array(n).fill(-1);
    this.vipPort = new Int16Array(n).fill(-1);
    this.mask = n - 1;
    this.count = 0;
    for (let i = 0; i < old.keys.length; i++) {
      const k = old.keys[i]!;
      if (k !== EMPTY_KEY) this.reinsert(k, old.cls[i]!, old.local[i]!, old.vip[i]!);
    }
  }
}
