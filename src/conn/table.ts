import type { Dest } from '../model/dest.js';
import { FWD_MASQ, FWD_TUN } from '../model/dest.js';
import { AF_INET, AF_INET6 } from '../model/proto.js';
import { ip6Fold } from '../wire/addr6.js';
import type { Service } from '../model/service.js';
import { CHECK_DROP, CHECK_MISS, TABLE_FULL } from './codes.js';
import {
  DROP_ENTRY_SHIFT, EmbryonicList, IPVS_DEFENSE_DEFAULTS, defenseMode, defenseSettingsOf, dropRateOf, tcpDropEntry, tcpEmbryonic, type DefenseSettings,
} from './defense.js';
import type { DirectorOptions } from '../model/config.js';
import { DestRefs } from './dest-refs.js';
import {
  CONN_F_APP, CONN_F_EMBRYONIC, CONN_F_FWD_MASK, CONN_F_NO_CPORT, CONN_F_HASHED, CONN_F_INACTIVE, CONN_F_INVALID, CONN_F_NOOUTPUT,
  CONN_F_ONE_PACKET, CONN_F_TEMPLATE, CONN_F_TUN_SHIFT, CONN_F_USED, CONN_F_XMIT_MASK,
} from './flags.js';
import { ConnApps } from './app.js';
import { connHash } from './hash.js';
import { IPPROTO_TCP } from '../wire/ipproto.js';
import { protoOps } from './proto/index.js';
import { DIR_INPUT_ONLY, DIR_OUTPUT, TCP_S_LISTEN } from './tcp-states.js';
import { CONTROL_REARM, Timeouts } from './timeouts.js';
import { TimerWheel } from './wheel.js';

/** Words per index record. */
const REC = 8;
/** Marks a template's key in an index record, so conn and template keys never match each other. */
const META_TEMPLATE = 0x100;
/** Marks an IPv6 key: its address words are folds (ip6Fold), checked against the full addresses on a match. */
const META_V6 = 0x200;
const EMPTY6 = new Uint32Array(0);
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

/** The IPVS sysctls that change how connections live and die, and the flood defences (conn/defense.ts). */
export interface ConnSettings extends DefenseSettings {
  /** expire_nodest_conn: a conn whose real server was removed is expired on its next packet (else the packet is dropped). */
  expireNodestConn: boolean;
  /** expire_quiescent_template: a persistence template whose dest has weight 0 no longer binds new conns. */
  expireQuiescentTemplate: boolean;
  /** conn_reuse_mode: 0 off; bit 0: a SYN on a TIME_WAIT/CLOSE conn is scheduled anew; bit 1: also FIN_WAIT of DR/TUN conns. */
  connReuseMode: number;
  /** sloppy_tcp: any TCP packet but a RST may open a connection, not only a SYN. */
  sloppyTcp: boolean;
  /** sloppy_sctp: any SCTP packet but an ABORT may open an association, not only an INIT. */
  sloppySctp: boolean;
  /** schedule_icmp: an ICMP error quoting a packet of no known conn (the VIP's answer to a client) is scheduled as that conn's first packet. */
  scheduleIcmp: boolean;
  /** nat_icmp_send: a NAT real server's packet that matches no conn is answered with port unreachable (a TCP RST or SCTP ABORT is not). */
  natIcmpSend: boolean;
  /** pmtu_disc: DF packets too big for the way are refused with frag-needed; off, TUN fragments them (the outer header without DF). */
  pmtuDisc: boolean;
  /** ignore_tunneled: packets of protocols IPVS does not balance (IPIP, GRE, ...) are never decapsulated and balanced again. */
  ignoreTunneled: boolean;
  /** cache_bypass: a fwmark service with no real server forwards a packet to its own (non-local) destination. */
  cacheBypass: boolean;
  /** run_estimation: the rate estimator runs (--rate, the rates in --stats and metrics); off, rates stay as they were. */
  runEstimation: boolean;
  /** lblc_expiration / lblcr_expiration: seconds an unused locality entry is kept (the full check every half hour). */
  lblcExpiration: number;
  lblcrExpiration: number;
}

/** The kernel's defaults of the sysctls above (Documentation/networking/ipvs-sysctl.rst). */
export const IPVS_CONN_DEFAULTS = {
  expireNodestConn: false,
  expireQuiescentTemplate: false,
  connReuseMode: 1,
  sloppyTcp: false,
  sloppySctp: false,
  scheduleIcmp: false,
  natIcmpSend: false,
  pmtuDisc: true,
  ignoreTunneled: false,
  cacheBypass: false,
  runEstimation: true,
  lblcExpiration: 24 * 60 * 60,
  lblcrExpiration: 24 * 60 * 60,
} as const;

/** Every setting of the table from a config's options; an option left out: the kernel's default. */
export function connSettingsOf(o: Partial<DirectorOptions>): ConnSettings {
  const d = IPVS_CONN_DEFAULTS;
  return {
    expireNodestConn: o.expireNodestConn ?? d.expireNodestConn,
    expireQuiescentTemplate: o.expireQuiescentTemplate ?? d.expireQuiescentTemplate,
    connReuseMode: o.connReuseMode ?? d.connReuseMode,
    sloppyTcp: o.sloppyTcp ?? d.sloppyTcp,
    sloppySctp: o.sloppySctp ?? d.sloppySctp,
    scheduleIcmp: o.scheduleIcmp ?? d.scheduleIcmp,
    natIcmpSend: o.natIcmpSend ?? d.natIcmpSend,
    pmtuDisc: o.pmtuDisc ?? d.pmtuDisc,
    ignoreTunneled: o.ignoreTunneled ?? d.ignoreTunneled,
    cacheBypass: o.cacheBypass ?? d.cacheBypass,
    runEstimation: o.runEstimation ?? d.runEstimation,
    lblcExpiration: o.lblcExpiration ?? d.lblcExpiration,
    lblcrExpiration: o.lblcrExpiration ?? d.lblcrExpiration,
    ...defenseSettingsOf(o),
  };
}

export interface ConnTableOptions {
  /** Most connections + templates held at once; slots are preallocated. */
  max: number;
  /** Hash buckets per index, rounded up to a power of two (default: >= max). */
  buckets?: number;
  /** Timer wheel geometry (default 1024 ticks of 1 s: a 17 min horizon). */
  wheelSlots?: number;
  wheelTickMs?: number;
  /** Hash seed; a random one by default. Lookups and listings do not depend on it. */
  seed?: number;
  settings?: Partial<ConnSettings>;
}

export interface ConnCounters {
  /** connections created (templates not included) */
  conns: number;
  /** persistence templates created */
  templates: number;
  /** slots reaped by expire() */
  expired: number;
  /** conns ended early: checkIn reschedules, expireDest, expireNow */
  expiredEarly: number;
  /** one-packet conns freed by put() */
  onePacket: number;
  /** a new conn or template found no free slot */
  tableFull: number;
  /** embryonic TCP conns whose slot went to a new conn (evict_embryonic) */
  evicted: number;
  /** SYN_RECV/SYNACK conns dropped by drop_entry */
  dropEntry: number;
}

/**
 * The IPVS connection table (ip_vs_conn.c) as struct-of-arrays: a connection
 * is a slot number and its fields are cells of preallocated typed arrays, so
 * a million connections are a handful of large buffers and no JS objects.
 *
 * Two hash indexes over the slots, chained through Int32Arrays:
 *   in:  (proto, caddr, cport, vaddr, vport)  client -> VIP packets, and templates
 *   out: (proto, daddr, dport, caddr, cport)  real server -> client replies (NAT)
 *
 * IPv6: caddr/vaddr/daddr hold each address's four words XORed (ip6Fold),
 * so the indexes hash and compare folds as they do IPv4 addresses; the key
 * carries a family bit, and a match is confirmed against the full addresses
 * in caddr6/vaddr6/daddr6 (four words per slot, allocated when the first
 * IPv6 connection is made: an IPv4-only director does not pay for them).
 *
 * Expiry: a conn is dead from the moment `expires <= now`. Lookups compare
 * against the `now` they are given (default: the latest time the table has
 * seen through any call that takes one) and skip dead conns, so a conn whose
 * slot has not been reaped yet is a miss exactly as a reaped one is, and a
 * new conn with the same key can be created beside it. A template stays alive
 * past its expiry while conns it controls exist (the kernel re-arms its timer),
 * so template lookups count it as live then. expire() reaps dead slots in
 * bounded steps through a lazy timer wheel.
 */
export class ConnTable {
  readonly max: number;
  /** slots in use: connections and templates */
  size = 0;
  /** the table's clock: the latest `now` passed to any method */
  now = Number.NEGATIVE_INFINITY;

  readonly proto: Uint8Array;
  readonly af: Uint8Array;
  readonly state: Uint8Array;
  readonly flags: Uint16Array;
  readonly caddr: Uint32Array;
  readonly vaddr: Uint32Array;
  readonly daddr: Uint32Array;
  readonly cport: Uint16Array;
  readonly vport: Uint16Array;
  readonly dport: Uint16Array;
  /** absolute expiry time, ms */
  readonly expires: Float64Array;
  /** the conn's current timeout, ms (set by its last state change) */
  readonly timeout: Uint32Array;
  /** DestRefs number of the conn's real server */
  readonly destRef: Int32Array;
  /** slot of the controlling template, -1 if none */
  readonly control: Int32Array;
  /** IPv6 slots' addresses, four words per slot (empty until the first IPv6 conn). */
  caddr6: Uint32Array = EMPTY6;
  vaddr6: Uint32Array = EMPTY6;
  daddr6: Uint32Array = EMPTY6;
  /** number of conns this slot controls (templates) */
  readonly nControl: Int32Array;
  /**
   * The kernel's per-conn sync fields (ip_vs_sync.c), read and written by the
   * sync daemons (control/sync): client packets seen (in_pkts), when the
   * backup's copy runs out as last sent (sync_endtime, ms) with the retries
   * of it (its low bits in the kernel), and the state last sent (old_state).
   * Allocated by enableSync() when a sync daemon first starts: a director
   * without one does not pay for them.
   */
  inPkts: Uint32Array = EMPTY6;
  syncEnd: Float64Array = EMPTY_F64;
  syncRetries: Uint8Array = EMPTY_U8;
  oldState: Uint8Array = EMPTY_U8;
  /**
   * Bumped each time the slot is freed: a (slot, generation) pair kept
   * elsewhere (a fragment's decision) tells whether the slot still holds the
   * same connection.
   */
  readonly generation: Uint32Array;

  readonly timeouts = new Timeouts();
  readonly settings: ConnSettings;
  readonly counters: ConnCounters = { conns: 0, templates: 0, expired: 0, expiredEarly: 0, onePacket: 0, tableFull: 0, evicted: 0, dropEntry: 0 };
  /** secure_tcp is in force (its mode, stepped by updateDefense, is 2 or 3). */
  secureTcpOn = false;
  /** drop_entry is in force. */
  dropEntryOn = false;
  /** drop_packet: drop 1 in this many new-connection packets (0: none), and the countdown to the next drop. */
  dropRate = 0;
  dropCounter = 0;
  /** Work units done by the last expire() call (entries visited + ticks passed). */
  lastExpireWork = 0;
  /** The application helpers' per-conn state (conn/app.ts), allocated with the first bound conn. */
  readonly apps = new ConnApps();
  /** TCP virtual ports a NAT conn gets the FTP helper on (1 = bound; null: none), as ip_vs_ftp's `ports` (default 21). */
  appPorts: Uint8Array | null = null;
  /** Live conns made with CONN_F_NO_CPORT and not yet filled in: lookupIn then also tries client port 0. */
  noCport = 0;
  /** Live conns whose controller is a conn, not a template (a helper's data conns): client packets of them may meet no service. */
  appChildren = 0;

  private readonly refs = new DestRefs();
  private readonly wheel: TimerWheel;
  private readonly seed: number;
  private readonly mask: number;
  // The hash indexes keep a copy of each key in an 8-word record per slot
  // (a, b, ports, proto/template, next, 3 spare): a lookup reads one cache
  // line per chain step instead of one per field array.
  private readonly inHead: Int32Array;
  private readonly inRec: Uint32Array;
  private readonly inRecI: Int32Array;
  private readonly outHead: Int32Array;
  private readonly outRec: Uint32Array;
  private readonly outRecI: Int32Array;
  private readonly freeStack: Int32Array;
  private freeTop: number;
  /** TCP conns in their handshake, oldest first (evict_embryonic). */
  private readonly embryonic: EmbryonicList;
  /** Where drop_entry's next window of slots starts. */
  private dropCursor = 0;
  /** one past the highest slot ever used: walks stop here */
  private highWater = 0;

  private visitNow = 0;
  private visitRemoved = 0;
  private readonly visit = (i: number): void => {
    const now = this.visitNow;
    if (this.expires[i]! > now) {
      this.wheel.file(i, this.expires[i]!);
    } else if (this.nControl[i]! > 0) {
      this.expires[i] = now + CONTROL_REARM;
      this.wheel.file(i, this.expires[i]!);
    } else {
      this.free(i);
      this.visitRemoved++;
    }
  };

  constructor(opts: ConnTableOptions) {
    const max = opts.max;
    if (!Number.isInteger(max) || max < 1 || max > 0x3fffffff) throw new Error(`conn table: bad max ${max}`);
    this.max = max;
    this.proto = new Uint8Array(max);
    this.af = new Uint8Array(max);
    this.state = new Uint8Array(max);
    this.flags = new Uint16Array(max);
    this.caddr = new Uint32Array(max);
    this.vaddr = new Uint32Array(max);
    this.daddr = new Uint32Array(max);
    this.cport = new Uint16Array(max);
    this.vport = new Uint16Array(max);
    this.dport = new Uint16Array(max);
    this.expires = new Float64Array(max);
    this.timeout = new Uint32Array(max);
    this.destRef = new Int32Array(max).fill(-1);
    this.control = new Int32Array(max).fill(-1);
    this.nControl = new Int32Array(max);
    this.generation = new Uint32Array(max);

    let buckets = 1;
    const want = Math.max(opts.buckets ?? max, 1);
    while (buckets < want) buckets *= 2;
    this.mask = buckets - 1;
    this.inHead = new Int32Array(buckets).fill(-1);
    this.outHead = new Int32Array(buckets).fill(-1);
    this.inRec = new Uint32Array(max * REC);
    this.inRecI = new Int32Array(this.inRec.buffer);
    this.outRec = new Uint32Array(max * REC);
    this.outRecI = new Int32Array(this.outRec.buffer);

    this.freeStack = new Int32Array(max);
    for (let i = 0; i < max; i++) this.freeStack[i] = max - 1 - i;
    this.freeTop = max;

    this.wheel = new TimerWheel(max, opts.wheelSlots ?? 1024, opts.wheelTickMs ?? 1000);
    this.embryonic = new EmbryonicList(max);
    this.seed = (opts.seed ?? (Math.random() * 0x100000000)) | 0;
    this.settings = {
      ...IPVS_CONN_DEFAULTS,
      ...IPVS_DEFENSE_DEFAULTS,
      ...opts.settings,
    };
    this.updateDefense();
    this.setAppPorts([21]);
  }

  /** The TCP ports whose NAT conns get the FTP helper (register_ip_vs_app_inc per port); new conns only. */
  setAppPorts(ports: readonly number[]): void {
    if (ports.length === 0) {
      this.appPorts = null;
      return;
    }
    const a = new Uint8Array(65536);
    for (const p of ports) a[p & 0xffff] = 1;
    this.appPorts = a;
  }

  /** Allocates the per-conn sync fields (once; conns made before start at 0 packets). */
  enableSync(): void {
    if (this.inPkts !== EMPTY6) return;
    this.inPkts = new Uint32Array(this.max);
    this.syncEnd = new Float64Array(this.max);
    this.syncRetries = new Uint8Array(this.max);
    this.oldState = new Uint8Array(this.max);
  }

  /**
   * What a received sync record sets on a conn or template it created or
   * found (ip_vs_proc_conn): the state, active or inactive (the dest's
   * counters follow), the timeout the master sent, restarted now. A conn
   * past its handshake leaves the embryonic list.
   */
  syncApply(slot: number, state: number, inactive: boolean, timeoutMs: number, now: number): void {
    this.advance(now);
    let f = this.flags[slot]!;
    if ((f & CONN_F_TEMPLATE) === 0 && ((f & CONN_F_INACTIVE) !== 0) !== inactive) {
      const dest = this.refs.get(this.destRef[slot]!);
      if (inactive) {
        dest.activeConns--;
        dest.inactConns++;
        f |= CONN_F_INACTIVE;
      } else {
        dest.inactConns--;
        dest.activeConns++;
        f &= ~CONN_F_INACTIVE;
      }
    }
    if ((f & CONN_F_EMBRYONIC) !== 0 && !tcpEmbryonic(state)) {
      f &= ~CONN_F_EMBRYONIC;
      this.embryonic.unlink(slot);
    }
    this.flags[slot] = f;
    this.state[slot] = state;
    if (this.inPkts !== EMPTY6) this.oldState[slot] = state;
    this.timeout[slot] = timeoutMs;
    // the wheel is lazy: an entry filed earlier is looked at then and filed again for this expiry
    this.expires[slot] = now + timeoutMs;
  }

  /** Buckets of each hash index (what ipvsadm's listing header calls the table's size). */
  get buckets(): number {
    return this.mask + 1;
  }

  /** Free slots left. */
  get available(): number {
    return this.freeTop;
  }

  /**
   * Makes sure `n` slots are free for a new conn (and its template): with
   * evict_embryonic, the oldest embryonic TCP conns give up theirs. False
   * when that is not enough (the caller counts a full table).
   */
  room(n: number): boolean {
    if (this.freeTop >= n) return true;
    if (!this.settings.evictEmbryonic) return false;
    while (this.freeTop < n) {
      const i = this.embryonic.oldest();
      if (i < 0) return false;
      this.free(i);
      this.counters.evicted++;
    }
    return true;
  }

  /** Embryonic TCP conns held for evict_embryonic. */
  get embryonicCount(): number {
    return this.embryonic.size;
  }

  // ---- lookups -------------------------------------------------------------

  /** The live connection of a client packet, or -1. */
  lookupIn(proto: number, caddr: number, cport: number, vaddr: number, vport: number, now = this.now): number {
    caddr >>>= 0;
    vaddr >>>= 0;
    const ports = ((cport << 16) | vport) >>> 0;
    const rec = this.inRec;
    let i = this.inHead[connHash(this.seed, proto, caddr, cport, vaddr, vport) & this.mask]!;
    while (i >= 0) {
      const o = i * REC;
      if (rec[o] === caddr && rec[o + 2] === ports && rec[o + 1] === vaddr && rec[o + 3] === proto && this.expires[i]! > now) return i;
      i = this.inRecI[o + 4]!;
    }
    // as ip_vs_conn_in_get: while conns wait for their client port, a miss is tried again with port 0
    return this.noCport !== 0 && cport !== 0 ? this.lookupIn(proto, caddr, 0, vaddr, vport, now) : -1;
  }

  /** The live connection of a real server's reply (NAT), or -1. */
  lookupOut(proto: number, daddr: number, dport: number, caddr: number, cport: number, now = this.now): number {
    daddr >>>= 0;
    caddr >>>= 0;
    const ports = ((dport << 16) | cport) >>> 0;
    const rec = this.outRec;
    let i = this.outHead[connHash(this.seed, proto, daddr, dport, caddr, cport) & this.mask]!;
    while (i >= 0) {
      const o = i * REC;
      if (rec[o] === daddr && rec[o + 2] === ports && rec[o + 1] === caddr && rec[o + 3] === proto && this.expires[i]! > now) return i;
      i = this.outRecI[o + 4]!;
    }
    return -1;
  }

  /**
   * The valid persistence template for (proto, masked client, vaddr-or-fwmark,
   * vport-or-0), or -1. Live while not expired or while it controls conns.
   */
  lookupTemplate(proto: number, caddr: number, vaddr: number, vport: number, now = this.now): number {
    caddr >>>= 0;
    vaddr >>>= 0;
    const meta = proto | META_TEMPLATE;
    const rec = this.inRec;
    let i = this.inHead[connHash(this.seed, proto, caddr, 0, vaddr, vport) & this.mask]!;
    while (i >= 0) {
      const o = i * REC;
      if (
        rec[o] === caddr && rec[o + 2] === vport && rec[o + 1] === vaddr && rec[o + 3] === meta &&
        (this.expires[i]! > now || this.nControl[i]! > 0)
      ) return i;
      i = this.inRecI[o + 4]!;
    }
    return -1;
  }

  /** The live IPv6 connection of a client packet, or -1 (addresses: four words at c[cOff] and v[vOff]). */
  lookupIn6(proto: number, c: Uint32Array, cOff: number, cport: number, v: Uint32Array, vOff: number, vport: number, now = this.now): number {
    if (this.caddr6 === EMPTY6) return -1;
    const fc = ip6Fold(c, cOff);
    const fv = ip6Fold(v, vOff);
    const ports = ((cport << 16) | vport) >>> 0;
    const meta = proto | META_V6;
    const rec = this.inRec;
    let i = this.inHead[connHash(this.seed, meta, fc, cport, fv, vport) & this.mask]!;
    while (i >= 0) {
      const o = i * REC;
      if (rec[o] === fc && rec[o + 2] === ports && rec[o + 1] === fv && rec[o + 3] === meta && this.expires[i]! > now &&
        same6(this.caddr6, i, c, cOff) && same6(this.vaddr6, i, v, vOff)) return i;
      i = this.inRecI[o + 4]!;
    }
    return this.noCport !== 0 && cport !== 0 ? this.lookupIn6(proto, c, cOff, 0, v, vOff, vport, now) : -1;
  }

  /** The live IPv6 connection of a real server's reply (NAT), or -1. */
  lookupOut6(proto: number, d: Uint32Array, dOff: number, dport: number, c: Uint32Array, cOff: number, cport: number, now = this.now): number {
    if (this.caddr6 === EMPTY6) return -1;
    const fd = ip6Fold(d, dOff);
    const fc = ip6Fold(c, cOff);
    const ports = ((dport << 16) | cport) >>> 0;
    const meta = proto | META_V6;
    const rec = this.outRec;
    let i = this.outHead[connHash(this.seed, meta, fd, dport, fc, cport) & this.mask]!;
    while (i >= 0) {
      const o = i * REC;
      if (rec[o] === fd && rec[o + 2] === ports && rec[o + 1] === fc && rec[o + 3] === meta && this.expires[i]! > now &&
        same6(this.daddr6, i, d, dOff) && same6(this.caddr6, i, c, cOff)) return i;
      i = this.outRecI[o + 4]!;
    }
    return -1;
  }

  /** The valid IPv6 persistence template for (proto, masked client, VIP or fwmark words, vport), or -1. */
  lookupTemplate6(proto: number, c: Uint32Array, cOff: number, v: Uint32Array, vOff: number, vport: number, now = this.now): number {
    if (this.caddr6 === EMPTY6) return -1;
    const fc = ip6Fold(c, cOff);
    const fv = ip6Fold(v, vOff);
    const meta = proto | META_TEMPLATE | META_V6;
    const rec = this.inRec;
    let i = this.inHead[connHash(this.seed, meta, fc, 0, fv, vport) & this.mask]!;
    while (i >= 0) {
      const o = i * REC;
      if (
        rec[o] === fc && rec[o + 2] === vport && rec[o + 1] === fv && rec[o + 3] === meta &&
        (this.expires[i]! > now || this.nControl[i]! > 0) && same6(this.caddr6, i, c, cOff) && same6(this.vaddr6, i, v, vOff)
      ) return i;
      i = this.inRecI[o + 4]!;
    }
    return -1;
  }

  dest(slot: number): Dest {
    return this.refs.get(this.destRef[slot]!);
  }

  svc(slot: number): Service {
    return this.refs.get(this.destRef[slot]!).svc;
  }

  fwd(slot: number): number {
    return this.flags[slot]! & CONN_F_FWD_MASK;
  }

  /** What picks the conn's transmitter (xmit/index.ts): its method, and its tunnel type for TUN. */
  xmit(slot: number): number {
    return this.flags[slot]! & CONN_F_XMIT_MASK;
  }

  isTemplate(slot: number): boolean {
    return (this.flags[slot]! & CONN_F_TEMPLATE) !== 0;
  }

  /** True while the slot holds the conn it held at `gen` (its generation then). */
  holds(slot: number, gen: number): boolean {
    return (this.flags[slot]! & CONN_F_USED) !== 0 && this.generation[slot] === gen;
  }

  /** True while the slot holds a conn or template, dead-but-unreaped included. */
  used(slot: number): boolean {
    return (this.flags[slot]! & CONN_F_USED) !== 0;
  }

  // ---- creation --------------------------------------------------------------

  /**
   * Creates a connection (or with CONN_F_TEMPLATE in `extraFlags`, a
   * template) bound to `dest`, as ip_vs_conn_new + ip_vs_bind_dest: the
   * forwarding method comes from the dest, a new conn starts inactive in state
   * NONE with a short timeout until its first state change, the dest's
   * counters and overload mark are updated. Returns the slot, or TABLE_FULL.
   * Statistics (stats.conns) are the scheduler's business.
   */
  create(
    proto: number, caddr: number, cport: number, vaddr: number, vport: number,
    dest: Dest, dport: number, extraFlags: number, controlSlot: number, timeoutMs: number, now: number,
  ): number {
    return this.make(AF_INET, proto, caddr, EMPTY6, 0, cport, vaddr, EMPTY6, 0, vport, dest, dport, extraFlags, controlSlot, timeoutMs, now);
  }

  /** create() for an IPv6 connection or template: addresses are four words at c[cOff] and v[vOff]. */
  create6(
    proto: number, c: Uint32Array, cOff: number, cport: number, v: Uint32Array, vOff: number, vport: number,
    dest: Dest, dport: number, extraFlags: number, controlSlot: number, timeoutMs: number, now: number,
  ): number {
    if (this.caddr6 === EMPTY6) {
      this.caddr6 = new Uint32Array(this.max * 4);
      this.vaddr6 = new Uint32Array(this.max * 4);
      this.daddr6 = new Uint32Array(this.max * 4);
    }
    return this.make(AF_INET6, proto, ip6Fold(c, cOff), c, cOff, cport, ip6Fold(v, vOff), v, vOff, vport, dest, dport, extraFlags, controlSlot, timeoutMs, now);
  }

  private make(
    af: number, proto: number, caddr: number, c6: Uint32Array, cOff: number, cport: number,
    vaddr: number, v6: Uint32Array, vOff: number, vport: number,
    dest: Dest, dport: number, extraFlags: number, controlSlot: number, timeoutMs: number, now: number,
  ): number {
    if (this.freeTop === 0 && !this.room(1)) {
      this.counters.tableFull++;
      return TABLE_FULL;
    }
    this.advance(now);
    const i = this.freeStack[--this.freeTop]!;
    if (i >= this.highWater) this.highWater = i + 1;
    const template = (extraFlags & CONN_F_TEMPLATE) !== 0;
    const fwd = dest.fwd;
    let f = CONN_F_USED | fwd | extraFlags;
    if (fwd === FWD_TUN) f |= dest.tunType << CONN_F_TUN_SHIFT;
    if (!template) f |= CONN_F_INACTIVE;
    if (fwd !== FWD_MASQ) f |= CONN_F_NOOUTPUT;
    // ip_vs_bind_app: a NAT TCP conn to an app's port gets the app (and its state starts afresh)
    else if (!template && proto === IPPROTO_TCP && this.appPorts !== null && this.appPorts[vport] === 1) {
      f |= CONN_F_APP;
      this.apps.bind(i, this.max);
    }
    if ((f & CONN_F_NO_CPORT) !== 0) this.noCport++;

    this.proto[i] = proto;
    this.af[i] = af;
    this.state[i] = 0;
    this.caddr[i] = caddr;
    this.cport[i] = cport;
    this.vaddr[i] = vaddr;
    this.vport[i] = vport;
    this.daddr[i] = dest.addr;
    this.dport[i] = dport;
    if (af === AF_INET6) {
      const o = i * 4;
      for (let k = 0; k < 4; k++) {
        this.caddr6[o + k] = c6[cOff + k]!;
        this.vaddr6[o + k] = v6[vOff + k]!;
        this.daddr6[o + k] = dest.addr6[k]!;
      }
    }
    this.timeout[i] = timeoutMs;
    if (this.inPkts !== EMPTY6) {
      this.inPkts[i] = 0;
      this.syncEnd[i] = now;
      this.syncRetries[i] = 0;
      this.oldState[i] = 0;
    }
    this.expires[i] = (f & CONN_F_ONE_PACKET) !== 0 ? now : now + timeoutMs;
    this.destRef[i] = this.refs.acquire(dest);
    this.control[i] = controlSlot;
    this.nControl[i] = 0;
    if (controlSlot >= 0) {
      this.nControl[controlSlot]!++;
      if ((this.flags[controlSlot]! & CONN_F_TEMPLATE) === 0) this.appChildren++;
    }

    if (template) {
      dest.persistConns++;
      this.counters.templates++;
    } else {
      dest.inactConns++;
      this.counters.conns++;
    }
    if (dest.uThreshold !== 0 && dest.activeConns + dest.inactConns >= dest.uThreshold) dest.overloaded = true;

    if ((f & CONN_F_ONE_PACKET) === 0) f |= CONN_F_HASHED;
    // a new TCP conn is in its handshake: the oldest such gives way to a new conn when the table is full
    if (!template && proto === IPPROTO_TCP && this.settings.evictEmbryonic) {
      f |= CONN_F_EMBRYONIC;
      this.embryonic.link(i);
    }
    this.flags[i] = f;
    if ((f & CONN_F_HASHED) !== 0) {
      this.hashIn(i);
      if (!template) this.hashOut(i);
    }
    this.wheel.file(i, this.expires[i]!);
    this.size++;
    return i;
  }

  /** A cache_bypass conn's real-server address is the packet's own destination (its VIP address here). */
  setBypassDaddr(slot: number, pkt: { af: number; vaddr: number; vaddr6: Uint32Array }): void {
    // out of its reply chain before the key changes: unhashOut finds the chain by the current daddr
    const hashed = (this.flags[slot]! & CONN_F_HASHED) !== 0;
    if (hashed) this.unhashOut(slot);
    this.daddr[slot] = this.vaddr[slot]!;
    if (pkt.af === AF_INET6) for (let k = 0; k < 4; k++) this.daddr6[slot * 4 + k] = this.vaddr6[slot * 4 + k]!;
    if (hashed) this.hashOut(slot);
  }

  // ---- per packet ------------------------------------------------------------

  /**
   * A packet of the conn was seen in `dir` (DIR_INPUT or DIR_OUTPUT) with
   * state-machine `flags` (TCP's flag bits; 0 for stateless protocols), as
   * the kernel's ip_vs_set_state: a stateful protocol moves the conn to its
   * next state (a conn whose replies bypass the director uses the input-only
   * table until a reply is seen), the dest's active/inactive counts follow,
   * and the timer restarts with the state's timeout. A one-packet conn
   * expires at once. Returns the new state.
   */
  update(slot: number, dir: number, flags: number, now: number): number {
    this.advance(now);
    const proto = this.proto[slot]!;
    let f = this.flags[slot]!;
    let ns = this.state[slot]!;
    const ops = protoOps(proto);
    if (ops !== undefined && ops.stateful) {
      let d = dir;
      if ((f & CONN_F_NOOUTPUT) !== 0) {
        if (dir === DIR_OUTPUT) f &= ~CONN_F_NOOUTPUT;
        else d = DIR_INPUT_ONLY;
      }
      ns = ops.nextState(ns, d, flags, this.secureTcpOn);
      if ((f & CONN_F_EMBRYONIC) !== 0 && !tcpEmbryonic(ns)) {
        f &= ~CONN_F_EMBRYONIC;
        this.embryonic.unlink(slot);
      }
      if ((f & CONN_F_INACTIVE) !== 0) {
        if (ops.isActive(ns)) {
          f &= ~CONN_F_INACTIVE;
          const dest = this.refs.get(this.destRef[slot]!);
          dest.inactConns--;
          dest.activeConns++;
        }
      } else if (!ops.isActive(ns)) {
        f |= CONN_F_INACTIVE;
        const dest = this.refs.get(this.destRef[slot]!);
        dest.activeConns--;
        dest.inactConns++;
      }
      this.flags[slot] = f;
      this.state[slot] = ns;
    }
    const t = this.timeouts.of(proto, ns);
    this.timeout[slot] = t;
    this.expires[slot] = (f & CONN_F_ONE_PACKET) !== 0 ? now : now + t;
    return ns;
  }

  /**
   * The director is done with this packet's conn: a one-packet conn is freed
   * here (it was never hashed), as the kernel's ip_vs_conn_put does.
   */
  put(slot: number): void {
    if ((this.flags[slot]! & CONN_F_ONE_PACKET) !== 0 && (this.flags[slot]! & CONN_F_USED) !== 0) {
      this.free(slot);
      this.counters.onePacket++;
    }
  }

  /**
   * The checks ip_vs_in makes on a conn found for a client packet, before
   * using it. `syn`: the packet opens a new TCP connection (SYN set).
   *  - conn_reuse_mode: a packet that opens a new connection (a TCP SYN) on
   *    a conn its protocol expects to be reused (TCP: TIME_WAIT, CLOSE) and
   *    not under a template, or (with expire_nodest_conn) on a conn whose
   *    dest has weight 0, ends the old conn: returns CHECK_MISS and the
   *    packet is scheduled anew;
   *  - the conn's dest was removed: with expire_nodest_conn the conn ends
   *    (CHECK_MISS, schedule anew), without it the packet is dropped
   *    (CHECK_DROP) and the conn lives on until its timeout.
   * Otherwise returns the slot. `opensNew`: the protocol says this packet
   * starts a connection (ProtoOps.opensNew).
   */
  checkIn(slot: number, opensNew: boolean, now: number): number {
    this.advance(now);
    const dest = this.refs.get(this.destRef[slot]!);
    const mode = this.settings.connReuseMode;
    if (mode !== 0 && opensNew) {
      let resched = false;
      if (this.settings.expireNodestConn && dest.weight === 0) resched = true;
      else if (this.control[slot]! < 0) {
        const ops = protoOps(this.proto[slot]!);
        resched = ops !== undefined &&
          ops.expectsNewConn(this.state[slot]!, (this.flags[slot]! & CONN_F_NOOUTPUT) !== 0, mode);
      }
      if (resched) {
        this.expireNow(slot, now);
        return CHECK_MISS;
      }
    }
    if (!dest.available) {
      if (!this.settings.expireNodestConn) return CHECK_DROP;
      this.expireNow(slot, now);
      return CHECK_MISS;
    }
    return slot;
  }

  /** "Is this conn's real server gone?" (removed from its service). */
  destGone(slot: number): boolean {
    return !this.refs.get(this.destRef[slot]!).available;
  }

  /**
   * Ends a conn now (ip_vs_conn_expire_now). A slot that still controls
   * conns cannot go: it is marked expired and re-armed by the reaper.
   */
  expireNow(slot: number, now = this.now): void {
    if ((this.flags[slot]! & CONN_F_USED) === 0) return;
    if (this.nControl[slot]! > 0) {
      if (this.expires[slot]! > now) this.expires[slot] = now;
      return;
    }
    this.free(slot);
    this.counters.expiredEarly++;
  }

  /**
   * Invalidates a template whose dest may no longer take new conns
   * (ip_vs_check_template): it leaves the index so no lookup finds it and
   * lingers, unused, until its conns and its timer are gone.
   */
  invalidateTemplate(slot: number): void {
    const f = this.flags[slot]!;
    if ((f & CONN_F_HASHED) !== 0) this.unhashIn(slot);
    this.flags[slot] = (f & ~CONN_F_HASHED) | CONN_F_INVALID;
  }

  /**
   * ip_vs_conn_fill_cport: a conn made without its client port (a passive
   * FTP data conn) takes the port of its first client packet and is hashed
   * again under it.
   */
  fillCport(slot: number, cport: number): void {
    const f = this.flags[slot]!;
    if ((f & CONN_F_NO_CPORT) === 0) return;
    const hashed = (f & CONN_F_HASHED) !== 0;
    if (hashed) {
      this.unhashIn(slot);
      this.unhashOut(slot);
    }
    this.cport[slot] = cport;
    this.flags[slot] = f & ~CONN_F_NO_CPORT;
    this.noCport--;
    if (hashed) {
      this.hashIn(slot);
      this.hashOut(slot);
    }
  }

  /**
   * A conn's real-server address other than its dest's (IPv4): a passive FTP
   * data conn goes where the server's 227 says, as the kernel makes it. The
   * reply index follows.
   */
  setDaddr(slot: number, daddr: number): void {
    const hashed = (this.flags[slot]! & CONN_F_HASHED) !== 0;
    if (hashed) this.unhashOut(slot);
    this.daddr[slot] = daddr >>> 0;
    if (hashed) this.hashOut(slot);
  }

  /** ip_vs_tcp_conn_listen: a helper's data conn waits in LISTEN, with that state's timeout. */
  listen(slot: number, now: number): void {
    this.advance(now);
    this.state[slot] = TCP_S_LISTEN;
    const t = this.timeouts.of(this.proto[slot]!, TCP_S_LISTEN);
    this.timeout[slot] = t;
    this.expires[slot] = now + t;
  }

  /** Restarts a template's timer with its own timeout (on each use). */
  refreshTemplate(slot: number, now: number): void {
    this.advance(now);
    this.expires[slot] = now + this.timeout[slot]!;
  }

  // ---- flood defences (conn/defense.ts) ----------------------------------------

  /**
   * Works out the defence levels from the table's pressure, as the kernel's
   * defence timer does: the automatic modes (1, 2) of drop_entry,
   * drop_packet and secure_tcp turn on (and read 2) while fewer than
   * amemthresh slots are free, and off (reading 1) otherwise. Called once a
   * second and whenever a setting changes.
   */
  updateDefense(): void {
    const s = this.settings;
    const low = this.freeTop < s.amemthresh;
    s.dropEntry = defenseMode(s.dropEntry, low);
    this.dropEntryOn = s.dropEntry >= 2;
    s.dropPacket = defenseMode(s.dropPacket, low);
    const rate = dropRateOf(s.dropPacket, this.freeTop, s);
    // the automatic mode restarts its countdown at each step, as the kernel does
    if (rate !== this.dropRate || s.dropPacket === 2) this.dropCounter = rate;
    this.dropRate = rate;
    s.secureTcp = defenseMode(s.secureTcp, low);
    this.secureTcpOn = s.secureTcp >= 2;
  }

  /**
   * drop_packet: true for the packet to drop, 1 in dropRate of the packets
   * that would open a connection. Call only when dropRate is not 0.
   */
  dropNewPacket(): boolean {
    if (--this.dropCounter > 0) return false;
    this.dropCounter = this.dropRate;
    return true;
  }

  /**
   * The defence timer's work (every DEFENSE_PERIOD_MS): the levels, then, if
   * drop_entry is in force, one drop_entry pass. Returns the entries dropped.
   */
  defend(now: number): number {
    this.updateDefense();
    return this.dropEntryOn ? this.dropEntries(now) : 0;
  }

  /**
   * One drop_entry pass: looks at the next 1/32 of the slots (the kernel
   * looks at 1/32 of its hash buckets from a random one) and drops the TCP
   * conns there in SYN_RECV or SYNACK that control nothing. The kernel also
   * drops some idle ESTABLISHED and UDP entries by their packet counts,
   * which tapvs does not keep. Returns the entries dropped.
   */
  dropEntries(now: number): number {
    this.advance(now);
    const span = this.highWater;
    if (span === 0) return 0;
    const n = Math.max(1, Math.ceil(span / (1 << DROP_ENTRY_SHIFT)));
    let i = this.dropCursor < span ? this.dropCursor : 0;
    let dropped = 0;
    for (let k = 0; k < n; k++) {
      const f = this.flags[i]!;
      if ((f & CONN_F_USED) !== 0 && (f & CONN_F_TEMPLATE) === 0 && this.nControl[i] === 0 &&
        this.proto[i] === IPPROTO_TCP && tcpDropEntry(this.state[i]!)) {
        this.free(i);
        dropped++;
      }
      if (++i >= span) i = 0;
    }
    this.dropCursor = i;
    this.counters.dropEntry += dropped;
    return dropped;
  }

  // ---- expiry and changes ----------------------------------------------------

  /**
   * Reaps dead slots, doing at most `budget` units of work (one per timer
   * entry looked at, one per wheel tick passed). Returns how many slots were
   * freed; `lastExpireWork` tells the work done. Call it regularly, e.g.
   * every few ms with a budget of a few thousand.
   */
  expire(now: number, budget: number): number {
    this.advance(now);
    this.visitNow = now;
    this.visitRemoved = 0;
    this.lastExpireWork = this.wheel.run(now, budget, this.visit);
    this.counters.expired += this.visitRemoved;
    return this.visitRemoved;
  }

  /**
   * Ends every conn of `dest`, then its templates (the kernel's flush of a
   * removed dest's conns when expire_nodest_conn is set). Walks the whole
   * table: a control-plane call. Returns how many slots were freed.
   */
  expireDest(dest: Dest): number {
    const r = this.refs.find(dest);
    if (r < 0) return 0;
    let n = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < this.highWater; i++) {
        const f = this.flags[i]!;
        if ((f & CONN_F_USED) === 0 || this.destRef[i] !== r) continue;
        if ((pass === 0) === ((f & CONN_F_TEMPLATE) !== 0)) continue;
        if (this.nControl[i]! > 0) continue;
        this.free(i);
        this.counters.expiredEarly++;
        n++;
      }
    }
    return n;
  }

  /** Calls `cb` for every slot in use (conns and templates, dead-but-unreaped included), in slot order. */
  forEach(cb: (slot: number) => void): void {
    for (let i = 0; i < this.highWater; i++) if ((this.flags[i]! & CONN_F_USED) !== 0) cb(i);
  }

  /** Slots in use, for `for..of` (ipvsadm -c listings). */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.highWater; i++) if ((this.flags[i]! & CONN_F_USED) !== 0) yield i;
  }

  /** Bytes held by the table's typed arrays (the preallocated cost of `max` slots). */
  bytesAllocated(): number {
    const arrays = [
      this.proto, this.af, this.state, this.flags, this.caddr, this.vaddr, this.daddr, this.cport, this.vport,
      this.dport, this.expires, this.timeout, this.destRef, this.control, this.nControl, this.generation, this.inHead, this.inRec,
      this.outHead, this.outRec, this.freeStack, this.caddr6, this.vaddr6, this.daddr6,
      this.inPkts, this.syncEnd, this.syncRetries, this.oldState,
    ];
    return arrays.reduce((n, a) => n + a.byteLength, 0) + this.wheel.bytesAllocated() + this.embryonic.bytesAllocated() +
      this.apps.bytesAllocated();
  }

  /** Entries filed in the timer wheel (for tests: equals size when consistent). */
  wheelCount(): number {
    return this.wheel.count();
  }

  // ---- internals ---------------------------------------------------------------

  private advance(now: number): void {
    if (now > this.now) this.now = now;
    this.wheel.start(now);
  }

  private free(i: number): void {
    const f = this.flags[i]!;
    if ((f & CONN_F_HASHED) !== 0) {
      this.unhashIn(i);
      if ((f & CONN_F_TEMPLATE) === 0) this.unhashOut(i);
    }
    this.wheel.unlink(i);
    if ((f & CONN_F_EMBRYONIC) !== 0) this.embryonic.unlink(i);

    const r = this.destRef[i]!;
    const dest = this.refs.get(r);
    if ((f & CONN_F_TEMPLATE) !== 0) dest.persistConns--;
    else if ((f & CONN_F_INACTIVE) !== 0) dest.inactConns--;
    else dest.activeConns--;
    // the kernel's rule for lifting the overload mark (ip_vs_unbind_dest)
    const total = dest.activeConns + dest.inactConns;
    if (dest.lThreshold !== 0) {
      if (total < dest.lThreshold) dest.overloaded = false;
    } else if (dest.uThreshold !== 0) {
      if (total * 4 < dest.uThreshold * 3) dest.overloaded = false;
    } else {
      dest.overloaded = false;
    }
    this.refs.release(r);
    this.destRef[i] = -1;

    if ((f & CONN_F_NO_CPORT) !== 0) this.noCport--;
    const ctl = this.control[i]!;
    if (ctl >= 0) {
      this.nControl[ctl]!--;
      if ((this.flags[ctl]! & CONN_F_TEMPLATE) === 0) this.appChildren--;
      this.control[i] = -1;
    }
    this.flags[i] = 0;
    this.generation[i] = (this.generation[i]! + 1) >>> 0;
    this.freeStack[this.freeTop++] = i;
    this.size--;
  }

  /** The key's protocol word: the protocol, the template bit, the IPv6 bit. */
  private inMeta(i: number): number {
    return this.proto[i]! | ((this.flags[i]! & CONN_F_TEMPLATE) !== 0 ? META_TEMPLATE : 0) | (this.af[i] === AF_INET6 ? META_V6 : 0);
  }

  private outMeta(i: number): number {
    return this.proto[i]! | (this.af[i] === AF_INET6 ? META_V6 : 0);
  }

  private inBucket(i: number): number {
    // as the lookups hash: IPv4 keys with the bare protocol, IPv6 keys with the whole key word
    const meta = this.af[i] === AF_INET6 ? this.inMeta(i) : this.proto[i]!;
    return connHash(this.seed, meta, this.caddr[i]!, this.cport[i]!, this.vaddr[i]!, this.vport[i]!) & this.mask;
  }

  private outBucket(i: number): number {
    return connHash(this.seed, this.outMeta(i), this.daddr[i]!, this.dport[i]!, this.caddr[i]!, this.cport[i]!) & this.mask;
  }

  private hashIn(i: number): void {
    const h = this.inBucket(i);
    const o = i * REC;
    const r = this.inRec;
    r[o] = this.caddr[i]!;
    r[o + 1] = this.vaddr[i]!;
    r[o + 2] = ((this.cport[i]! << 16) | this.vport[i]!) >>> 0;
    r[o + 3] = this.inMeta(i);
    this.inRecI[o + 4] = this.inHead[h]!;
    this.inHead[h] = i;
  }

  private hashOut(i: number): void {
    const h = this.outBucket(i);
    const o = i * REC;
    const r = this.outRec;
    r[o] = this.daddr[i]!;
    r[o + 1] = this.caddr[i]!;
    r[o + 2] = ((this.dport[i]! << 16) | this.cport[i]!) >>> 0;
    r[o + 3] = this.outMeta(i);
    this.outRecI[o + 4] = this.outHead[h]!;
    this.outHead[h] = i;
  }

  private unhashIn(i: number): void {
    unlinkChain(this.inHead, this.inRecI, this.inBucket(i), i);
  }

  private unhashOut(i: number): void {
    unlinkChain(this.outHead, this.outRecI, this.outBucket(i), i);
  }
}

/** Are the four words of slot `i` in `arr` the address at a[aOff]? */
function same6(arr: Uint32Array, i: number, a: Uint32Array, aOff: number): boolean {
  const o = i * 4;
  return arr[o] === a[aOff] && arr[o + 1] === a[aOff + 1] && arr[o + 2] === a[aOff + 2] && arr[o + 3] === a[aOff + 3];
}

/** Unlinks slot `i` from chain `h`; `rec` holds each slot's next pointer at word 4 of its record. */
function unlinkChain(head: Int32Array, rec: Int32Array, h: number, i: number): void {
  const oi = i * REC + 4;
  let p = head[h]!;
  if (p === i) {
    head[h] = rec[oi]!;
  } else {
    while (p >= 0) {
      const n = rec[p * REC + 4]!;
      if (n === i) {
        rec[p * REC + 4] = rec[oi]!;
        break;
      }
      p = n;
    }
  }
  rec[oi] = -1;
}
