// The director: one instance per running LVS director, holding its tables
// and the host it forwards through, and the entry point for every frame.
// The steps a frame goes through live one file each beside this one, in the
// order a frame meets them (as ip_vs_core.c reads): ipv4-input.ts (or
// ipv6-input.ts) → lvs-in.ts / lvs-out.ts / icmp-input.ts (icmp6-input.ts) →
// the bound transmitter (xmit/) → the host's output (net/host4.ts, host6.ts).
// Every step returns a verdict; the drops among them are counted here, once.
import { DEFENSE_PERIOD_MS } from '../conn/defense.js';
import { ConnTable, connSettingsOf } from '../conn/table.js';
import type { DirectorConfig } from '../model/config.js';
import { PLAIN_FRAME, type FrameMeta } from '../model/frame.js';
import { schedPacket, type SchedPacket } from '../model/scheduler.js';
import { ServiceTable } from '../model/services.js';
import { Stats } from '../model/stats.js';
import { formatTopologyProblems, topologyProblems } from '../model/topology.js';
import { DropCode, DropCounters, type Verdict } from '../model/verdict.js';
import { Host4, type DirectorOutput } from '../net/host4.js';
import { Host6, type Host6Counters } from '../net/host6.js';
import { acceptsMcast } from '../net/local4.js';
import { Packet } from '../net/packet.js';
import type { DirectorPort } from '../net/port.js';
import '../sched/index.js';
import { Tracer } from '../trace/tracer.js';
import type { TraceSink } from '../trace/events.js';
import { WIRE_OK } from '../wire/errors.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import type { XmitEnv } from '../xmit/index.js';
import { FragmentTable } from './fragments.js';
import { DirectorHa, type SyncHook } from './ha.js';
import { ipv4Input } from './ipv4-input.js';
import { ipv6Input } from './ipv6-input.js';
import { Mutations } from './mutations.js';

export type { DirectorOutput } from '../net/host4.js';

export interface DirectorOptions {
  /** Receives every trace event; tracing costs nothing when absent (see trace/text.ts for the text form). */
  trace?: TraceSink;
  /** Hash seed for the connection table (fixed by default so replays are identical). */
  seed?: number;
}

/** ff:ff:ff:ff:ff:ff in the two parts EthernetView.dstHi/dstLo give. */
const BCAST_HI = 0xffff;
const BCAST_LO = -1;
/** 33:33:xx:xx:xx:xx, IPv6 multicast (RFC 2464 section 7): its top 16 bits. */
const IP6_MCAST_HI = 0x3333;
/** 01:00:5e:xx:xx:xx, IPv4 multicast (RFC 1112 section 6.4): its top 16 bits. */
const IP4_MCAST_HI = 0x0100;

/** Connection-table expiry work per tick, in the table's work units. */
const EXPIRE_BUDGET = 65536;
/** Held later fragments, and how long a first fragment's decision is kept. */
const FRAGMENT_QUEUE = 256;
const FRAGMENT_TIMEOUT_MS = 30_000;

export interface DirectorCounters extends Host6Counters {
  framesIn: number;
}

/**
 * The per-frame pipeline (docs/architecture.md). `process` is synchronous
 * and deterministic in (frame, now), and never throws for any frame content.
 */
export class Director implements XmitEnv {
  readonly host: Host4;
  /** The director as an IPv6 host (neighbour discovery, ICMPv6, IPv6 routes), on the same ports. */
  readonly host6: Host6;
  readonly services = new ServiceTable();
  readonly conns: ConnTable;
  readonly drops = new DropCounters();
  readonly frags: FragmentTable;
  readonly tracer: Tracer | null;
  /** Frames in, frames sent, and what the host counts. */
  readonly counters: DirectorCounters = {
    framesIn: 0, framesOut: 0, forwarded: 0, icmpSent: 0, icmpRateLimited: 0, arpReplies: 0, ndReplies: 0,
  };
  /** Every packet and byte of every service, as IPVS's totals (ipvsadm's and node_exporter's global figures). */
  readonly totals = new Stats();
  /** The one way the control plane changes the tables. */
  readonly mutate: Mutations;
  /** What `ipvsadm`-style filters read of the packet that opens a conn (reused). */
  readonly spkt: SchedPacket = schedPacket(0, 0, 0, 0, 0);
  /** `option unmatched_from_rs drop`. */
  readonly unmatchedDrop: boolean;
  /** The master sync daemon's hook on client packets of conns (director/ha.ts); null while none runs. */
  sync: SyncHook | null = null;
  /** Non-zero while VIPs are held back (VRRP backup) or backup_only is in force: the forwarding path then asks lvsAllowed. */
  lvsGate = 0;
  /** IPVS backup_only in force (the sysctl, while a backup sync daemon runs): no client packet is load-balanced. */
  backupOnly = false;

  /** The packet being processed, and the one a released fragment re-enters with. */
  private readonly pkt = new Packet();
  readonly reentry = new Packet();
  /** When the flood defences' levels are next worked out (conn/defense.ts). */
  private nextDefense = Number.NEGATIVE_INFINITY;

  constructor(cfg: DirectorConfig, out: DirectorOutput, opts: DirectorOptions = {}) {
    const problems = topologyProblems(cfg);
    if (problems.length > 0) throw new Error(formatTopologyProblems(problems));
    this.tracer = opts.trace ? new Tracer(opts.trace) : null;
    this.host = new Host4(cfg, out, this.counters, this.tracer, (n) => { this.drops.counts[DropCode['unresolved-neighbour']]! += n; });
    this.host6 = new Host6(cfg, this.host.ports, out, this.counters, this.tracer, (n) => { this.drops.counts[DropCode['unresolved-neighbour']]! += n; });
    this.conns = new ConnTable({
      max: cfg.options.maxConns,
      seed: opts.seed ?? 0x7a9c5,
      settings: connSettingsOf(cfg.options),
    });
    this.conns.timeouts.set(cfg.timeouts);
    if (cfg.options.ftpPorts !== undefined) this.conns.setAppPorts(cfg.options.ftpPorts);
    this.unmatchedDrop = cfg.options.unmatchedFromRealServer === 'drop';
    this.frags = new FragmentTable(FRAGMENT_QUEUE, FRAGMENT_TIMEOUT_MS);
    this.mutate = new Mutations(this.services, this.conns, (a) => this.host.setRealServers(a), (a) => this.host6.setRealServers(a), this.totals);
    this.mutate.ha = new DirectorHa(this);
    // one batch: the host hears of the real-server addresses once, not after each server
    this.mutate.batch(() => {
      this.mutate.setMarks(cfg.marks);
      for (const s of cfg.services) {
        const svc = this.mutate.addService(s);
        for (const d of s.dests) this.mutate.addDest(svc, d);
      }
    });
  }

  get ports(): readonly DirectorPort[] {
    return this.host.ports;
  }

  get portByName(): ReadonlyMap<string, DirectorPort> {
    return this.host.portByName;
  }

  /**
   * Announces every VIP and port address with gratuitous ARP, and the IPv6
   * ones with unsolicited neighbour advertisements, as a host does when an
   * address comes up.
   */
  start(_now: number): void {
    this.host.announce();
    this.host6.announce();
  }

  /** Timers: ARP retries, connection expiry (bounded work), fragment timeouts, the flood defences once a second. */
  tick(now: number): void {
    this.host.tick(now);
    this.host6.tick(now);
    this.conns.expire(now, EXPIRE_BUDGET);
    if (!(now < this.nextDefense)) {
      this.nextDefense = now + DEFENSE_PERIOD_MS;
      this.conns.defend(now);
    }
    if (this.frags.size > 0) {
      const n = this.frags.expire(now);
      if (n > 0) this.drops.counts[DropCode['fragment-timeout']]! += n;
    }
  }

  /** Handles one received frame at buf[off, off+len) on `portIndex`. */
  process(portIndex: number, buf: Uint8Array, off: number, len: number, now: number, meta: FrameMeta = PLAIN_FRAME): void {
    this.counters.framesIn++;
    const port = this.host.ports[portIndex];
    if (port === undefined) return;
    if (this.tracer) this.tracer.frameIn(now, port.name, buf, off, len, meta);
    const pkt = this.pkt;
    pkt.reset(port, buf, off, len, now, meta);
    this.count(this.input(pkt));
  }

  /** Counts a verdict that is a drop (the one place drops are counted). */
  count(v: Verdict): void {
    if (v < 0) return;
    this.drops.counts[v]!++;
    this.tracer?.drop(v);
  }

  private input(pkt: Packet): Verdict {
    const eth = pkt.eth;
    if (eth.wrap(pkt.buf, pkt.ethOff, pkt.len) !== WIRE_OK) return DropCode['malformed-ethernet'];
    const hi = eth.dstHi;
    const lo = eth.dstLo;
    const port = pkt.port;
    if (hi !== port.macHi || lo !== port.macLo) {
      if (hi === BCAST_HI && lo === BCAST_LO) pkt.bcast = true;
      else if (hi === IP6_MCAST_HI && eth.etherType === ETHERTYPE_IPV6) pkt.mcast = true;
      // an IPv4 group the director joined on this port (net/local4.ts: VRRP, IPVS sync)
      else if (hi === IP4_MCAST_HI && port.mcast4 !== null && eth.etherType === ETHERTYPE_IPV4 && acceptsMcast(port.mcast4, lo)) pkt.mcast = true;
      else return DropCode['not-for-us'];
    }
    if (eth.hasVlan) return DropCode['vlan-tagged'];
    const et = eth.etherType;
    if (et === ETHERTYPE_IPV4) return ipv4Input(this, pkt);
    if (et === ETHERTYPE_IPV6) return ipv6Input(this, pkt);
    if (et === ETHERTYPE_ARP) return this.host.arpInput(pkt);
    return DropCode['not-ip'];
  }
}
