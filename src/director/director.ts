import { ConnTable } from '../conn/table.js';
import { schedule } from '../conn/schedule.js';
import { CHECK_DROP, NO_DEST, TABLE_FULL } from '../conn/codes.js';
import { CONN_F_FWD_MASK } from '../conn/flags.js';
import { DIR_INPUT, DIR_OUTPUT } from '../conn/tcp-states.js';
import type { DirectorConfig } from '../model/config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN } from '../model/dest.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import type { Service } from '../model/service.js';
import { ServiceTable } from '../model/services.js';
import type { SchedPacket } from '../model/scheduler.js';
import '../sched/index.js';
import { ARP_OP_REQUEST, ArpView } from '../wire/arp.js';
import { MAC_BROADCAST, ipToString, macToString, readMac, writeMac } from '../wire/addr.js';
import { get16, get32, put16, put32 } from '../wire/bytes.js';
import { checksum, csumUpdate16, csumUpdate32, udpCsumUpdate16, udpCsumUpdate32 } from '../wire/checksum.js';
import { WIRE_OK } from '../wire/errors.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetView } from '../wire/ethernet.js';
import {
  ICMP_DEST_UNREACH, ICMP_ECHO_REQUEST, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACH, ICMP_TIME_EXCEEDED,
  IcmpView, icmpIsError, icmpMtuRest,
} from '../wire/icmp.js';
import { Ipv4View } from '../wire/ipv4.js';
import { TCP_RST, TCP_SYN, TcpView } from '../wire/tcp.js';
import { UdpView } from '../wire/udp.js';
import { natIn, natOut, type L4Rewrite } from '../xmit/nat.js';
import { TUN_FRAG_NEEDED, TUN_OK, tunEncap } from '../xmit/tun.js';
import { fragmentIpv4 } from '../xmit/fragment.js';
import { DropCode, DropCounters } from './counters.js';
import { FRAG_VERDICT_PENDING, FragmentTable } from './fragments.js';
import { buildIcmpError, echoReplyInPlace } from './icmp-out.js';
import { NeighbourTable } from './neighbours.js';
import { makePort, onPortSubnet, sourceAddrFor, type DirectorPort } from './port.js';
import { RouteTable } from './routes.js';
import { TokenBucket } from './token-bucket.js';
import { Tracer } from './trace.js';
import { validateDirectorConfig } from './validate.js';

/** Where the director's frames go: a port index and the bytes. The callee must not keep `buf`. */
export interface DirectorOutput {
  send(port: number, buf: Uint8Array, off: number, len: number): void;
}

export interface DirectorOptions {
  /** Called with each trace line; tracing costs nothing when absent. */
  trace?: (line: string) => void;
  /** Hash seed for the connection table (fixed by default so replays are identical). */
  seed?: number;
}

/** Verdict slots for fragments whose first fragment was not forwarded through a connection. */
const FRAG_ROUTED = -2;
const FRAG_DROPPED = -3;

const EXPIRE_BUDGET = 65536;

/**
 * The per-frame pipeline of DESIGN.md: decode in place, ARP, services and
 * the connection table, NAT/DR/TUN transmit, neighbour resolution. One
 * instance per director; `process` is synchronous and deterministic in
 * (frame, now), and never throws for any frame content.
 */
export class Director {
  readonly ports: DirectorPort[] = [];
  readonly portByName = new Map<string, DirectorPort>();
  readonly services = new ServiceTable();
  readonly conns: ConnTable;
  readonly drops = new DropCounters();
  readonly routes = new RouteTable();
  readonly neigh: NeighbourTable;
  readonly frags: FragmentTable;
  readonly tracer: Tracer | null;
  /** Frames handled: in, and sent out. */
  readonly counters = { framesIn: 0, framesOut: 0, forwarded: 0, icmpSent: 0, icmpRateLimited: 0, arpReplies: 0 };
  /**
   * Set by the caller, before process(), when the frame is a TCP super-frame
   * from a port with segmentation offload (io/vnet.ts). Its segments, not its
   * length, are what crosses a link, and the port that sends it cuts it to
   * fit that port's MTU (in the kernel or in software). So it skips the
   * frag-needed MTU check and, in TUN mode, IP fragmentation.
   */
  rxGso = false;

  private readonly out: DirectorOutput;
  private readonly local = new Map<number, number>(); // own address -> port index
  private readonly vips = new Map<number, number>(); // VIP -> port index
  private realServerAddrs = new Set<number>();
  private unmatchedDrop: boolean;

  private readonly eth = new EthernetView();
  private readonly arp = new ArpView();
  private readonly ip = new Ipv4View();
  private readonly tcp = new TcpView();
  private readonly udp = new UdpView();
  private readonly icmp = new IcmpView();
  private readonly spkt: SchedPacket = { proto: 0, caddr: 0, cport: 0, vaddr: 0, vport: 0 };
  private readonly tunOut = { off: 0, len: 0 };
  private readonly scratch = new Uint8Array(2048);
  private ipId = 1;
  private lastTick = -Infinity;
  /** The time of the frame being processed (or the last tick): the clock for rate limits. */
  private lastSeen = 0;
  /** ICMP errors are rate-limited like Linux's icmp_msgs_per_sec / icmp_msgs_burst (1000/s, burst 50). */
  private readonly icmpTokens = new TokenBucket(1000, 50);

  constructor(cfg: DirectorConfig, out: DirectorOutput, opts: DirectorOptions = {}) {
    const errors = validateDirectorConfig(cfg);
    if (errors.length > 0) throw new Error(errors.join('\n'));
    this.out = out;
    this.tracer = opts.trace ? new Tracer(opts.trace) : null;
    cfg.ports.forEach((p, i) => {
      const port = makePort(i, p.name, p.mac, p.mtu, p.addrs);
      this.ports.push(port);
      this.portByName.set(p.name, port);
      for (const a of port.addrs) {
        this.local.set(a.addr, i);
        this.routes.add(a.addr, a.prefix, 0, i);
      }
    });
    for (const v of cfg.vips) {
      const p = this.portByName.get(v.port)!;
      p.vips.add(v.addr >>> 0);
      this.vips.set(v.addr >>> 0, p.index);
    }
    for (const r of cfg.routes) {
      let port = r.port !== undefined ? this.portByName.get(r.port)!.index : -1;
      if (port < 0) {
        this.routes.lookup(r.via);
        port = this.routes.port;
      }
      this.routes.add(r.dst, r.prefix, r.via, port);
    }
    this.conns = new ConnTable({
      max: cfg.options.maxConns,
      seed: opts.seed ?? 0x7a9c5,
      settings: {
        expireNodestConn: cfg.options.expireNodestConn,
        expireQuiescentTemplate: cfg.options.expireQuiescentTemplate,
      },
    });
    this.conns.timeouts.set(cfg.timeouts);
    this.unmatchedDrop = cfg.options.unmatchedFromRealServer === 'drop';
    this.neigh = new NeighbourTable(
      {
        send: (port, buf, off, len) => this.emit(port, buf, off, len),
        portMac: (port) => this.ports[port]!.mac,
        portAddrFor: (port, target) => sourceAddrFor(this.ports[port]!, target),
        dropUnresolved: (n) => { this.drops.counts[DropCode['unresolved-neighbour']]! += n; },
        dropQueueFull: () => this.drops.add(DropCode['neighbour-queue-full']),
      },
      { queue: cfg.options.neighbourQueue, retries: cfg.options.arpRetries, retryMs: cfg.options.arpRetryMs, reachableMs: 60_000 },
    );
    for (const n of cfg.neighbours ?? []) {
      this.routes.lookup(n.addr);
      this.neigh.addPermanent(n.addr, n.mac, this.routes.port >= 0 ? this.routes.port : 0);
    }
    this.frags = new FragmentTable(256, 30_000);
    this.services.setMarkRules(cfg.marks);
    for (const s of cfg.services) {
      const svc = this.services.add(s);
      for (const d of s.dests) svc.addDest(d);
    }
    this.refreshRealServers();
  }

  /** Called after the service table changed (control plane). */
  refreshRealServers(): void {
    const s = new Set<number>();
    for (const svc of this.services.all) for (const d of svc.dests) s.add(d.addr);
    this.realServerAddrs = s;
  }

  /** Announces every VIP and port address with gratuitous ARP, as a host does when an address comes up. */
  start(now: number): void {
    this.lastTick = now;
    for (const p of this.ports) {
      for (const a of p.addrs) this.neigh.announce(p.index, p.mac, a.addr);
      for (const v of p.vips) this.neigh.announce(p.index, p.mac, v);
    }
  }

  /** Timers: ARP retries, connection expiry (bounded work), fragment timeouts. */
  tick(now: number): void {
    this.neigh.tick(now);
    this.conns.expire(now, EXPIRE_BUDGET);
    if (this.frags.size > 0) {
      const n = this.frags.expire(now);
      if (n > 0) this.drops.counts[DropCode['fragment-timeout']]! += n;
    }
    this.lastTick = now;
  }

  private emit(port: number, buf: Uint8Array, off: number, len: number): void {
    this.counters.framesOut++;
    this.tracer?.sent(this.ports[port]!.name, buf, off, len);
    this.out.send(port, buf, off, len);
  }

  private drop(code: number): void {
    this.drops.add(code);
    this.tracer?.dropped(code);
  }

  // ---------------------------------------------------------------- input

  /** Handles one received frame at buf[off, off+len) on `portIndex`. */
  process(portIndex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.counters.framesIn++;
    this.lastSeen = now;
    const port = this.ports[portIndex];
    if (port === undefined) return;
    if (this.tracer) this.tracer.begin(now, port.name, buf, off, len);
    const eth = this.eth;
    if (eth.wrap(buf, off, len) !== WIRE_OK) return this.drop(DropCode['malformed-ethernet']);
    const dmac = eth.dst;
    if (dmac !== port.mac && dmac !== MAC_BROADCAST) return this.drop(DropCode['not-for-us']);
    if (eth.hasVlan) return this.drop(DropCode['vlan-tagged']);
    const et = eth.etherType;
    if (et === ETHERTYPE_IPV4) return this.ipInput(port, buf, off, eth.payloadOffset, len - 14, dmac === MAC_BROADCAST, now);
    if (et === ETHERTYPE_ARP) return this.arpInput(port, buf, eth.payloadOffset, len - 14, now);
    this.drop(DropCode['not-ipv4']);
  }

  private arpInput(port: DirectorPort, buf: Uint8Array, off: number, len: number, now: number): void {
    const arp = this.arp;
    if (arp.wrap(buf, off, len) !== WIRE_OK) return this.drop(DropCode['malformed-arp']);
    const spa = arp.spa;
    const sha = arp.sha;
    const tpa = arp.tpa;
    // learn only from the subnets this port is on, as a host would
    const request = arp.op === ARP_OP_REQUEST;
    if (onPortSubnet(port, spa)) {
      this.tracer?.note(`arp: learned ${ipToString(spa)} is-at ${macToString(sha)}`);
      this.neigh.learn(spa, sha, port.index, now);
    }
    if (!request) return;
    const owns = this.local.get(tpa) === port.index || port.vips.has(tpa);
    if (!owns || spa === tpa) return this.tracer?.note('arp: not ours');
    this.counters.arpReplies++;
    this.tracer?.note(`arp: ${ipToString(tpa)} is-at our MAC (${port.vips.has(tpa) ? 'VIP' : 'own address'})`);
    this.neigh.reply(port.index, port.mac, tpa, sha, spa);
  }

  private ipInput(port: DirectorPort, buf: Uint8Array, ethOff: number, ipOff: number, avail: number, bcast: boolean, now: number): void {
    const ip = this.ip;
    if (ip.wrap(buf, ipOff, avail) !== WIRE_OK) return this.drop(DropCode['malformed-ip']);
    if (!ip.checksumOk()) return this.drop(DropCode['bad-ip-checksum']);
    const proto = ip.protocol;
    const src = ip.src;
    const dst = ip.dst;
    const frameLen = ipOff - ethOff + ip.totalLength; // Ethernet padding is not forwarded
    if (bcast && !this.local.has(dst) && !this.vips.has(dst)) return this.drop(DropCode['not-for-us']);
    if (this.local.has(src) || this.vips.has(src)) return this.drop(DropCode['martian-source']);

    if (ip.isFragment && ip.fragOffset !== 0) return this.laterFragment(port, buf, ethOff, frameLen, now);

    if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
      if (!ip.isFragment) return this.l4Input(port, buf, ethOff, frameLen, proto, src, dst, now);
      // a first fragment: whatever becomes of it, its later fragments follow
      const id = ip.id;
      this.l4Input(port, buf, ethOff, frameLen, proto, src, dst, now);
      return this.settleFirstFragment(src, dst, proto, id, now);
    }
    if (proto === IPPROTO_ICMP) return this.icmpInput(port, buf, ethOff, frameLen, src, dst, now);
    return this.notLvs(port, buf, ethOff, frameLen, src, dst, now);
  }

  private l4Input(port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number, proto: number, src: number, dst: number, now: number): void {
    const ip = this.ip;
    const l4 = proto === IPPROTO_TCP ? this.tcp : this.udp;
    const l4len = ip.totalLength - ip.headerLength;
    // a first fragment holds only the start of the datagram: take the UDP header alone
    const rc = proto === IPPROTO_UDP && ip.isFragment
      ? this.udp.wrapHeader(buf, ip.payloadOffset, l4len)
      : l4.wrap(buf, ip.payloadOffset, l4len);
    if (rc !== WIRE_OK) return this.drop(DropCode['malformed-l4']);
    const sport = l4.sport;
    const dport = l4.dport;
    const svc = this.services.find(proto, dst, dport);
    if (svc !== undefined) return this.toService(svc, port, buf, ethOff, frameLen, proto, l4, src, sport, dst, dport, now);
    const slot = this.conns.lookupOut(proto, src, sport, dst, dport, now);
    if (slot >= 0) return this.fromRealServer(slot, port, buf, ethOff, frameLen, proto, l4, now);
    if (ip.isFragment) this.frags.decide(src, dst, proto, ip.id, FRAG_ROUTED, false, now);
    return this.notLvs(port, buf, ethOff, frameLen, src, dst, now);
  }

  /**
   * After a first fragment was handled: if nothing recorded a verdict for its
   * datagram, it was dropped, and so are its later fragments — those held now
   * and those still to come — instead of waiting out the fragment timeout.
   */
  private settleFirstFragment(src: number, dst: number, proto: number, id: number, now: number): void {
    const e = this.frags.get(src, dst, proto, id);
    if (e !== undefined && e.slot !== FRAG_VERDICT_PENDING) return;
    const held = this.frags.take(this.frags.decide(src, dst, proto, id, FRAG_DROPPED, false, now));
    if (held.length > 0) this.drops.counts[DropCode['fragment-first-dropped']]! += held.length;
  }

  /** Traffic that belongs to no virtual service and no connection. */
  private notLvs(port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number, src: number, dst: number, now: number): void {
    if (this.local.has(dst) || this.vips.has(dst)) {
      if (this.vips.has(dst) && !this.local.has(dst)) {
        // a VIP port with no service: the director's stack would answer port-unreachable
        const ip = this.ip;
        if (ip.protocol === IPPROTO_UDP && !ip.isFragment) this.icmpError(port, buf, ethOff, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, dst);
        return this.drop(DropCode['no-service']);
      }
      return this.drop(DropCode['to-director-unhandled']);
    }
    if (this.unmatchedDrop && this.realServerAddrs.has(src)) return this.drop(DropCode['unmatched-from-real-server']);
    this.tracer?.note('routed: no service, no connection');
    this.forward(port, buf, ethOff, frameLen, now);
  }

  /** Plain IP forwarding: TTL, next hop, MACs. */
  private forward(port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number, now: number): void {
    const ip = this.ip;
    if (ip.ttl <= 1) {
      this.icmpError(port, buf, ethOff, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, sourceAddrFor(port, ip.src));
      return this.drop(DropCode['ttl-exceeded']);
    }
    if (!this.routes.lookup(ip.dst)) return this.drop(DropCode['no-route']);
    ip.decTtl();
    this.counters.forwarded++;
    this.sendVia(this.routes.port, this.routes.nextHop, buf, ethOff, frameLen, now);
  }

  // ---------------------------------------------------------------- LVS in

  private toService(
    svc: Service, port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number,
    proto: number, l4: TcpView | UdpView, caddr: number, cport: number, vaddr: number, vport: number, now: number,
  ): void {
    const conns = this.conns;
    const tcpFlags = proto === IPPROTO_TCP ? this.tcp.flags : 0;
    const syn = (tcpFlags & (TCP_SYN | TCP_RST)) === TCP_SYN;
    let slot = conns.lookupIn(proto, caddr, cport, vaddr, vport, now);
    if (slot >= 0) {
      const c = conns.checkIn(slot, syn, now);
      if (c === CHECK_DROP) return this.drop(DropCode['dest-removed']);
      slot = c;
    }
    let isNew = false;
    if (slot < 0) {
      // as tcp_conn_schedule: only a SYN opens a TCP connection
      if (proto === IPPROTO_TCP && !syn) return this.drop(DropCode['no-conn-not-syn']);
      const sp = this.spkt;
      sp.proto = proto;
      sp.caddr = caddr;
      sp.cport = cport;
      sp.vaddr = vaddr;
      sp.vport = vport;
      slot = schedule(conns, svc, sp, now);
      if (slot === NO_DEST) {
        // ip_vs_leave: nothing to serve it, tell the client at once
        this.icmpError(port, buf, ethOff, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, vaddr);
        return this.drop(DropCode['no-real-server']);
      }
      if (slot === TABLE_FULL || slot < 0) return this.drop(DropCode['table-full']);
      isNew = true;
    }
    if (proto === IPPROTO_TCP) conns.tcpState(slot, DIR_INPUT, tcpFlags, now);
    else conns.touch(slot, now);
    const dest = conns.dest(slot);
    const ipLen = this.ip.totalLength;
    dest.stats.inpkts++;
    dest.stats.inbytes += ipLen;
    svc.stats.inpkts++;
    svc.stats.inbytes += ipLen;
    if (this.tracer) this.tracer.conn(svc, dest, isNew, conns, slot, this.spkt);
    if (this.ip.isFragment) this.frags.decide(caddr, vaddr, proto, this.ip.id, slot, false, now);
    this.xmitIn(slot, buf, ethOff, frameLen, l4, now);
    conns.put(slot);
    if (this.ip.isFragment) this.releaseHeldFragments(caddr, vaddr, proto, this.ip.id, now);
  }

  /** Sends a client packet (first fragment or whole, or a later fragment with l4 null) to the conn's real server. */
  private xmitIn(slot: number, buf: Uint8Array, ethOff: number, frameLen: number, l4: L4Rewrite | null, now: number): void {
    const conns = this.conns;
    const daddr = conns.daddr[slot]!;
    const fwd = conns.flags[slot]! & CONN_F_FWD_MASK;
    const ip = this.ip;
    if (fwd === FWD_MASQ) {
      natIn(ip, l4, daddr, conns.dport[slot]!);
      if (!this.routes.lookup(daddr)) return this.drop(DropCode['no-route']);
      return this.sendVia(this.routes.port, this.routes.nextHop, buf, ethOff, frameLen, now);
    }
    if (fwd === FWD_DR) {
      // only the MACs change; validation guarantees the real server is on a connected subnet
      if (!this.routes.lookup(daddr)) return this.drop(DropCode['no-route']);
      return this.sendVia(this.routes.port, daddr, buf, ethOff, frameLen, now);
    }
    if (fwd === FWD_TUN) {
      if (!this.routes.lookup(daddr)) return this.drop(DropCode['no-route']);
      const egress = this.routes.port;
      const nh = this.routes.nextHop;
      const p = this.ports[egress]!;
      const ipOff = ethOff + 14;
      const ipLen = frameLen - 14;
      const rc = tunEncap(buf, ipOff, ipLen, sourceAddrFor(p, nh), daddr, this.nextId(), this.rxGso ? 0x10000 : p.mtu, this.tunOut);
      if (rc === TUN_FRAG_NEEDED) {
        // the client must send smaller packets: say how small, from the VIP it talked to
        const mtu = p.mtu - 20;
        this.icmpError(this.ports[0]!, buf, ethOff, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest(mtu), ip.dst, true);
        return this.drop(DropCode['frag-needed']);
      }
      if (rc !== TUN_OK) return this.drop(DropCode['frame-too-big']);
      const o = this.tunOut;
      if (o.len - 14 > p.mtu && !this.rxGso) return this.sendFragmented(egress, nh, buf, o.off + 14, o.len - 14, p.mtu, now);
      return this.sendVia(egress, nh, buf, o.off, o.len, now);
    }
  }

  private sendFragmented(port: number, nh: number, buf: Uint8Array, ipOff: number, ipLen: number, mtu: number, now: number): void {
    for (const f of fragmentIpv4(buf, ipOff, ipLen, mtu)) {
      const frame = new Uint8Array(14 + f.length);
      frame.set(f, 14);
      put16(frame, 12, ETHERTYPE_IPV4);
      this.sendVia(port, nh, frame, 0, frame.length, now);
    }
  }

  private nextId(): number {
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff || 1;
    return id;
  }

  // ---------------------------------------------------------------- LVS out (NAT replies)

  private fromRealServer(
    slot: number, port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number,
    proto: number, l4: L4Rewrite | null, now: number,
  ): void {
    const conns = this.conns;
    const ip = this.ip;
    if ((conns.flags[slot]! & CONN_F_FWD_MASK) !== FWD_MASQ) {
      // a DR/TUN real server's reply through the director: just route it
      return this.forward(port, buf, ethOff, frameLen, now);
    }
    if (ip.ttl <= 1) {
      this.icmpError(port, buf, ethOff, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, sourceAddrFor(port, ip.src));
      return this.drop(DropCode['ttl-exceeded']);
    }
    if (l4 !== null) {
      if (proto === IPPROTO_TCP) conns.tcpState(slot, DIR_OUTPUT, this.tcp.flags, now);
      else conns.touch(slot, now);
    }
    const dest = conns.dest(slot);
    const svc = dest.svc;
    const ipLen = ip.totalLength;
    dest.stats.outpkts++;
    dest.stats.outbytes += ipLen;
    svc.stats.outpkts++;
    svc.stats.outbytes += ipLen;
    if (this.tracer) this.tracer.reply(conns, slot);
    const caddr = conns.caddr[slot]!;
    const src = ip.src;
    const id = ip.id;
    const frag = ip.isFragment && l4 !== null;
    if (frag) this.frags.decide(src, caddr, proto, id, slot, true, now);
    ip.decTtl();
    natOut(ip, l4, conns.vaddr[slot]!, conns.vport[slot]!);
    if (!this.routes.lookup(caddr)) return this.drop(DropCode['no-route']);
    this.sendVia(this.routes.port, this.routes.nextHop, buf, ethOff, frameLen, now);
    if (frag) this.releaseHeldFragments(src, caddr, proto, id, now);
  }

  // ---------------------------------------------------------------- fragments

  private laterFragment(port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number, now: number): void {
    const ip = this.ip;
    const e = this.frags.get(ip.src, ip.dst, ip.protocol, ip.id);
    if (e === undefined || e.slot === FRAG_VERDICT_PENDING) {
      if (!this.frags.hold(ip.src, ip.dst, ip.protocol, ip.id, port.index, buf.slice(ethOff, ethOff + frameLen), now)) {
        return this.drop(DropCode['fragment-queue-full']);
      }
      return this.tracer?.note('fragment held until its first fragment arrives');
    }
    this.sendFragmentByVerdict(e.slot, e.outbound, port, buf, ethOff, frameLen, now);
  }

  private sendFragmentByVerdict(
    slot: number, outbound: boolean, port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number, now: number,
  ): void {
    if (slot === FRAG_DROPPED) return this.drop(DropCode['fragment-first-dropped']);
    if (slot === FRAG_ROUTED) return this.notLvs(port, buf, ethOff, frameLen, this.ip.src, this.ip.dst, now);
    if (!this.conns.used(slot)) return this.drop(DropCode['fragment-timeout']);
    const ipLen = this.ip.totalLength;
    // fromRealServer counts reply traffic itself
    if (outbound) return this.fromRealServer(slot, port, buf, ethOff, frameLen, this.ip.protocol, null, now);
    const dest = this.conns.dest(slot);
    dest.stats.inpkts++;
    dest.stats.inbytes += ipLen;
    dest.svc.stats.inpkts++;
    dest.svc.stats.inbytes += ipLen;
    this.xmitIn(slot, buf, ethOff, frameLen, null, now);
  }

  private releaseHeldFragments(src: number, dst: number, proto: number, id: number, now: number): void {
    const e = this.frags.get(src, dst, proto, id);
    if (e === undefined || e.held.length === 0) return;
    for (const h of this.frags.take(e)) {
      const port = this.ports[h.port]!;
      const b = new Uint8Array(64 + h.frame.length + 64);
      b.set(h.frame, 64);
      if (this.ip.wrap(b, 64 + 14, h.frame.length - 14) !== WIRE_OK) continue;
      this.tracer?.note('releasing a held fragment');
      this.sendFragmentByVerdict(e.slot, e.outbound, port, b, 64, h.frame.length, now);
    }
  }

  // ---------------------------------------------------------------- ICMP

  private icmpInput(port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number, src: number, dst: number, now: number): void {
    const ip = this.ip;
    const icmp = this.icmp;
    if (ip.isFragment) return this.notLvs(port, buf, ethOff, frameLen, src, dst, now);
    if (icmp.wrap(buf, ip.payloadOffset, ip.totalLength - ip.headerLength) !== WIRE_OK) {
      return this.drop(DropCode['malformed-icmp']);
    }
    const type = icmp.type;
    const ours = this.local.has(dst) || this.vips.has(dst);
    if (type === ICMP_ECHO_REQUEST && ours) {
      if (!icmp.checksumOk()) return this.drop(DropCode['malformed-icmp']);
      const n = echoReplyInPlace(buf, ethOff, ip.off, ip.totalLength, dst);
      this.counters.icmpSent++;
      this.tracer?.note(`icmp: echo reply from ${this.vips.has(dst) ? 'VIP' : 'director'} ${ipToString(dst)}`);
      return this.emit(port.index, buf, ethOff, n);
    }
    if (icmpIsError(type)) {
      if (!icmp.embeddedComplete) return this.drop(DropCode['malformed-icmp']);
      if (this.icmpErrorForConn(port, buf, ethOff, frameLen, now)) return;
      if (ours) return this.drop(DropCode['icmp-error-no-conn']);
    }
    this.notLvs(port, buf, ethOff, frameLen, src, dst, now);
  }

  /**
   * An ICMP error quoting a packet of a connection (ip_vs_in_icmp /
   * ip_vs_out_icmp). Returns false when it concerns no connection.
   */
  private icmpErrorForConn(port: DirectorPort, buf: Uint8Array, ethOff: number, frameLen: number, now: number): boolean {
    const ip = this.ip;
    const icmpOff = ip.payloadOffset;
    const icmpLen = ip.totalLength - ip.headerLength;
    const inner = icmpOff + 8;
    const ihl = (buf[inner]! & 0x0f) << 2;
    const iproto = buf[inner + 9]!;
    if (iproto !== IPPROTO_TCP && iproto !== IPPROTO_UDP) return false;
    // a quoted non-first fragment has no ports
    if ((get16(buf, inner + 6) & 0x1fff) !== 0) return false;
    const isrc = get32(buf, inner + 12);
    const idst = get32(buf, inner + 16);
    const isport = get16(buf, inner + ihl);
    const idport = get16(buf, inner + ihl + 2);
    const conns = this.conns;

    // about a packet we sent to a client (VIP:vport -> caddr:cport): the error travels client -> real server
    let slot = conns.lookupIn(iproto, idst, idport, isrc, isport, now);
    if (slot >= 0) {
      const fwd = conns.flags[slot]! & CONN_F_FWD_MASK;
      this.tracer?.note(`icmp error from the client side about ${connLabel(conns, slot)}`);
      if (fwd !== FWD_MASQ) {
        this.xmitIn(slot, buf, ethOff, frameLen, null, now);
        return true;
      }
      const daddr = conns.daddr[slot]!;
      const dport = conns.dport[slot]!;
      ip.rewriteDst(daddr);
      rewriteQuoted(buf, inner, ihl, iproto, true, daddr, dport, icmpOff + 8 + icmpLen - inner);
      put16(buf, icmpOff + 2, 0);
      put16(buf, icmpOff + 2, checksum(buf, icmpOff, icmpLen));
      if (!this.routes.lookup(daddr)) return (this.drop(DropCode['no-route']), true);
      this.sendVia(this.routes.port, this.routes.nextHop, buf, ethOff, frameLen, now);
      return true;
    }
    // about a packet we sent to a real server (caddr:cport -> daddr:dport): the error travels to the client
    slot = conns.lookupOut(iproto, idst, idport, isrc, isport, now);
    if (slot >= 0 && (conns.flags[slot]! & CONN_F_FWD_MASK) === FWD_MASQ) {
      this.tracer?.note(`icmp error from the real-server side about ${connLabel(conns, slot)}`);
      if (ip.ttl <= 1) {
        this.icmpError(port, buf, ethOff, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, sourceAddrFor(port, ip.src));
        this.drop(DropCode['ttl-exceeded']);
        return true;
      }
      const vaddr = conns.vaddr[slot]!;
      const vport = conns.vport[slot]!;
      ip.decTtl();
      ip.rewriteSrc(vaddr);
      rewriteQuoted(buf, inner, ihl, iproto, false, vaddr, vport, icmpOff + 8 + icmpLen - inner);
      put16(buf, icmpOff + 2, 0);
      put16(buf, icmpOff + 2, checksum(buf, icmpOff, icmpLen));
      if (!this.routes.lookup(ip.dst)) return (this.drop(DropCode['no-route']), true);
      this.sendVia(this.routes.port, this.routes.nextHop, buf, ethOff, frameLen, now);
      return true;
    }
    return false;
  }

  /**
   * Sends an ICMP error about the packet in `buf` back to its sender, from
   * `from`. `viaRoute` picks the egress by routing to the sender instead of
   * answering on the ingress port.
   */
  private icmpError(
    port: DirectorPort, buf: Uint8Array, ethOff: number, type: number, code: number, rest: number, from: number, viaRoute = false,
  ): void {
    const ipOff = ethOff + 14;
    const to = get32(buf, ipOff + 12);
    // never answer an ICMP error with an error (RFC 1122 3.2.2)
    if (buf[ipOff + 9] === IPPROTO_ICMP) {
      const ihl = (buf[ipOff]! & 0x0f) << 2;
      if (icmpIsError(buf[ipOff + ihl]!)) return;
    }
    if (!this.icmpTokens.take(this.lastSeen)) {
      this.counters.icmpRateLimited++;
      return;
    }
    const ipLen = get16(buf, ipOff + 2);
    const b = this.scratch;
    let egress = port.index;
    let toMac = readMac(buf, ethOff + 6);
    if (viaRoute) {
      if (!this.routes.lookup(to)) return;
      egress = this.routes.port;
      const m = this.neigh.lookup(this.routes.nextHop, this.lastTick);
      if (m < 0) return;
      toMac = m;
    }
    const n = buildIcmpError(b, toMac, this.ports[egress]!.mac, from, to, this.nextId(), type, code, rest, buf, ipOff, ipLen);
    this.counters.icmpSent++;
    this.tracer?.note(`icmp: type ${type} code ${code} sent to ${ipToString(to)}`);
    this.emit(egress, b, 0, n);
  }

  // ---------------------------------------------------------------- output

  /** Writes MACs for the next hop and sends, or holds the frame while ARP resolves it. */
  private sendVia(port: number, nextHop: number, buf: Uint8Array, ethOff: number, len: number, now: number): void {
    const p = this.ports[port]!;
    if (len - 14 > p.mtu && (buf[ethOff + 14 + 6]! & 0x40) !== 0 && !this.rxGso) {
      // DF set and too big for the egress link
      this.icmpError(p, buf, ethOff, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest(p.mtu), sourceAddrFor(p, nextHop), true);
      return this.drop(DropCode['frag-needed']);
    }
    writeMac(buf, ethOff + 6, p.mac);
    const mac = this.neigh.lookup(nextHop, now);
    if (mac < 0) {
      this.tracer?.note(`arp: resolving ${ipToString(nextHop)} on ${p.name}, frame held`);
      this.neigh.hold(nextHop, port, buf, ethOff, len, now);
      return;
    }
    writeMac(buf, ethOff, mac);
    this.emit(port, buf, ethOff, len);
  }
}

/**
 * Translates the packet quoted in an ICMP error: its source (client side:
 * VIP -> real server) or its destination (real-server side: real server ->
 * VIP), the matching port, the quoted header checksum, and the quoted
 * transport checksum when those bytes are present.
 */
function rewriteQuoted(
  buf: Uint8Array, inner: number, ihl: number, proto: number, srcSide: boolean, addr: number, port: number, avail: number,
): void {
  const aOff = inner + (srcSide ? 12 : 16);
  const pOff = inner + ihl + (srcSide ? 0 : 2);
  const oldAddr = get32(buf, aOff);
  const oldPort = get16(buf, pOff);
  put32(buf, aOff, addr);
  put16(buf, inner + 10, csumUpdate32(get16(buf, inner + 10), oldAddr, addr >>> 0));
  put16(buf, pOff, port);
  const cOff = inner + ihl + (proto === IPPROTO_TCP ? 16 : 6);
  if (cOff + 2 - inner <= avail) {
    let c = get16(buf, cOff);
    if (proto === IPPROTO_TCP) {
      c = csumUpdate16(csumUpdate32(c, oldAddr, addr >>> 0), oldPort, port);
    } else {
      c = udpCsumUpdate16(udpCsumUpdate32(c, oldAddr, addr >>> 0), oldPort, port);
    }
    put16(buf, cOff, c);
  }
}

function connLabel(t: ConnTable, slot: number): string {
  return `${ipToString(t.caddr[slot]!)}:${t.cport[slot]} -> ${ipToString(t.vaddr[slot]!)}:${t.vport[slot]} -> ${ipToString(t.daddr[slot]!)}:${t.dport[slot]}`;
}

