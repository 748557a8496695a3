// The director as an IPv6 host, beside the IPv4 one (host4.ts) and with its
// shape: per-port addresses and prefixes (and a link-local address per port,
// from its MAC), the VIPs answered for on their port, routes with gateways,
// the neighbour cache with neighbour discovery instead of ARP, the ICMPv6 it
// originates, and output (route, MTU, neighbour, send). The LVS stages call
// down into it; it never calls up.
import type { DirectorConfig } from '../model/config.js';
import { PLAIN_FRAME, type FrameMeta } from '../model/frame.js';
import { ANSWERED, CONSUMED, DropCode, FORWARDED, HELD, type Verdict } from '../model/verdict.js';
import type { Tracer } from '../trace/tracer.js';
import { readMac, writeMac } from '../wire/addr.js';
import {
  IP6_ALL_NODES, ip6Copy, ip6Equal, ip6InSubnet, ip6IsLinkLocal, ip6IsMulticast, ip6IsSolicitedNode, ip6IsUnspecified,
  ip6LinkLocalFromMac, ip6MulticastMac,
} from '../wire/addr6.js';
import { WIRE_OK } from '../wire/errors.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import {
  ICMPV6_ECHO_REPLY, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_PACKET_TOO_BIG, ICMPV6_TIME_EXCEEDED,
  ICMPV6_EXC_HOPLIMIT, ND_HOP_LIMIT, ND_NA_OVERRIDE, ND_NA_ROUTER, ND_NA_SOLICITED, Icmpv6View, icmpv6IsError,
} from '../wire/icmpv6.js';
import { IPV6_HEADER_LEN, Ipv6Headers, Ipv6View, NEXTHDR_ICMP } from '../wire/ipv6.js';
import { ADDR_LOCAL, ADDR_REAL_SERVER, ADDR_VIP } from './addr-table.js';
import { Addr6Table } from './addr6-table.js';
import type { DirectorOutput, HostCounters } from './host4.js';
import { DEFAULT_HOP_LIMIT, ICMP6_FRAME_MAX, buildIcmp6Error, buildNa, buildNs } from './icmp6.js';
import { NeighbourTable6 } from './neighbours6.js';
import type { Packet } from './packet.js';
import type { DirectorPort } from './port.js';
import { RouteTable6 } from './routes6.js';
import { TokenBucket } from './token-bucket.js';

/** ff02::2, joined by routers: the director routes. */
const ALL_ROUTERS_W0 = 0xff020000;

/** What the IPv6 host counts beyond HostCounters. */
export interface Host6Counters extends HostCounters {
  /** Neighbour advertisements sent in answer to a solicitation. */
  ndReplies: number;
}

/** A port's IPv6 side. */
interface Port6 {
  /** fe80::/64 with the port MAC's modified EUI-64. */
  readonly ll: Uint32Array;
  readonly addrs: { addr: Uint32Array; prefix: number }[];
  readonly vips: Uint32Array[];
  /** Low 24 bits of every address answered on the port: its solicited-node groups. */
  readonly groups: Set<number>;
}

export class Host6 {
  readonly routes = new RouteTable6();
  readonly neigh: NeighbourTable6;
  /** Result of the last route(): egress port index and next hop (four words). */
  routePort = -1;
  readonly routeNextHop = new Uint32Array(4);
  /** Whether the config gives IPv6 anything (addresses, VIPs, routes): else nothing is announced. */
  readonly configured: boolean;

  private readonly p6: Port6[] = [];
  private readonly addrs = new Addr6Table();
  private readonly icmp = new Icmpv6View();
  private readonly errIp = new Ipv6View();
  private readonly errExt = new Ipv6Headers();
  private readonly errIcmp = new Icmpv6View();
  private readonly scratch = new Uint8Array(ICMP6_FRAME_MAX);
  private readonly ndScratch = new Uint8Array(128);
  private readonly from = new Uint32Array(4);
  private readonly to = new Uint32Array(4);
  private readonly tmp = new Uint32Array(4);
  /** ICMPv6 errors share Linux's limits (1000/s, burst 50); packet-too-big is exempt, as in Linux's default icmpv6 ratemask. */
  private readonly icmpTokens = new TokenBucket(1000, 50);

  constructor(
    cfg: DirectorConfig,
    readonly ports: readonly DirectorPort[],
    private readonly out: DirectorOutput,
    readonly counters: Host6Counters,
    private readonly tracer: Tracer | null,
    dropUnresolved: (n: number) => void,
  ) {
    cfg.ports.forEach((pc, i) => {
      const ll = new Uint32Array(4);
      ip6LinkLocalFromMac(pc.mac, ll);
      const p: Port6 = { ll, addrs: (pc.addrs6 ?? []).map((a) => ({ addr: Uint32Array.from(a.addr), prefix: a.prefix })), vips: [], groups: new Set() };
      this.p6.push(p);
      this.addrs.add(ll, ADDR_LOCAL, i);
      p.groups.add(ll[3]! & 0xffffff);
      for (const a of p.addrs) {
        this.addrs.add(a.addr, ADDR_LOCAL, i);
        this.routes.add(a.addr, a.prefix, null, i);
        p.groups.add(a.addr[3]! & 0xffffff);
      }
    });
    const byName = new Map(cfg.ports.map((p, i) => [p.name, i]));
    for (const v of cfg.vips) {
      if (!v.addr6) continue;
      const i = byName.get(v.port)!;
      this.p6[i]!.vips.push(Uint32Array.from(v.addr6));
      this.p6[i]!.groups.add(v.addr6[3]! & 0xffffff);
      this.addrs.add(v.addr6, ADDR_VIP, i);
    }
    for (const r of cfg.routes) {
      if (!r.dst6) continue;
      let port = r.port !== undefined ? byName.get(r.port)! : -1;
      if (port < 0 && r.via6 && this.routes.lookup(r.via6)) port = this.routes.port;
      if (port < 0) continue; // the topology check has said why
      this.routes.add(r.dst6, r.prefix, r.via6 ?? null, port);
    }
    this.neigh = new NeighbourTable6(
      {
        send: (port, buf, off, len, meta) => this.emit(port, buf, off, len, meta),
        solicit: (port, target, held) => this.solicit(port, target, held),
        dropUnresolved,
      },
      { queue: cfg.options.neighbourQueue, retries: cfg.options.arpRetries, retryMs: cfg.options.arpRetryMs, reachableMs: 60_000 },
    );
    for (const n of cfg.neighbours ?? []) {
      if (!n.addr6) continue;
      this.neigh.addPermanent(n.addr6, n.mac, this.neighbourPort(cfg, n.addr6));
    }
    this.configured = this.p6.some((p) => p.addrs.length > 0 || p.vips.length > 0) || this.routes.size > 0 ||
      cfg.services.some((s) => s.addr6 !== undefined);
  }

  /** The port a static neighbour is on: its connected network's, a route's whose gateway it is, else the first. */
  private neighbourPort(cfg: DirectorConfig, a: Uint32Array): number {
    if (!ip6IsLinkLocal(a) && this.routes.lookup(a)) return this.routes.port;
    const r = cfg.routes.find((x) => x.via6 !== undefined && ip6Equal(x.via6, 0, a, 0) && x.port !== undefined);
    if (r) return cfg.ports.findIndex((p) => p.name === r.port);
    return 0;
  }

  // ---------------------------------------------------------------- addresses

  /** ADDR_LOCAL | ADDR_VIP | ADDR_REAL_SERVER bits of the address at a[aOff..]. */
  classOf(a: Uint32Array, aOff = 0): number {
    return this.addrs.classOf(a, aOff);
  }

  /** Replaces the set of IPv6 real-server addresses. */
  setRealServers(addrs: Iterable<Uint32Array>): void {
    this.addrs.clearClass(ADDR_REAL_SERVER);
    for (const a of addrs) this.addrs.add(a, ADDR_REAL_SERVER);
  }

  /** The link-local address of a port. */
  linkLocal(port: number): Uint32Array {
    return this.p6[port]!.ll;
  }

  /**
   * Whether the port listens to the multicast address: all-nodes,
   * all-routers (the director routes), and the solicited-node group of each
   * of its addresses and VIPs.
   */
  listens(port: number, a: Uint32Array): boolean {
    if (a[0] === ALL_ROUTERS_W0 && a[1] === 0 && a[2] === 0 && (a[3] === 1 || a[3] === 2)) return true;
    return ip6IsSolicitedNode(a) && this.p6[port]!.groups.has(a[3]! & 0xffffff);
  }

  /**
   * The source the director uses towards `target` out of `port` (RFC 6724
   * in its simplest form): the port's link-local address for a link-local
   * target; else the port's address on the target's network, else its first
   * global address, else any port's first, else its link-local. Into out.
   */
  sourceFor(port: number, target: Uint32Array, tOff: number, out: Uint32Array): void {
    const p = this.p6[port]!;
    if (!ip6IsLinkLocal(target, tOff)) {
      for (const a of p.addrs) {
        if (ip6InSubnet(target, tOff, a.addr, 0, a.prefix)) return ip6Copy(a.addr, 0, out, 0);
      }
      const any = p.addrs[0] ?? this.p6.find((q) => q.addrs.length > 0)?.addrs[0];
      if (any) return ip6Copy(any.addr, 0, out, 0);
    }
    ip6Copy(p.ll, 0, out, 0);
  }

  // ---------------------------------------------------------------- neighbour discovery

  /** Unsolicited advertisements (to all-nodes, override set) for every address and VIP, as Linux sends when they come up. */
  announce(): void {
    if (!this.configured) return;
    this.ports.forEach((port, i) => {
      const p = this.p6[i]!;
      for (const a of [p.ll, ...p.addrs.map((x) => x.addr), ...p.vips]) {
        const n = buildNa(this.ndScratch, ip6MulticastMac(IP6_ALL_NODES), port.mac, a, IP6_ALL_NODES, ND_NA_ROUTER | ND_NA_OVERRIDE, true);
        this.emit(i, this.ndScratch, 0, n, PLAIN_FRAME);
      }
    });
  }

  /**
   * A neighbour solicitation or advertisement (pkt.icmp6 wrapped): checked
   * as RFC 4861 section 7.1 says, learned from, and a solicitation for an
   * address of this port (a VIP only on the VIP's port) answered.
   */
  ndInput(pkt: Packet): Verdict {
    const icmp = pkt.icmp6;
    const ip = pkt.ip6;
    const type = icmp.type;
    if (ip.hopLimit !== ND_HOP_LIMIT || icmp.code !== 0 || !icmp.checksumOk(ip.pseudoAddrSum()) ||
      icmp.ndOptionsOk() !== WIRE_OK) return DropCode['malformed-icmp'];
    const target = this.tmp;
    icmp.readTarget(target, 0);
    if (ip6IsMulticast(target)) return DropCode['malformed-icmp'];
    const port = pkt.port;
    const dad = ip6IsUnspecified(pkt.src6);
    if (type === ICMPV6_NEIGHBOR_ADVERT) {
      if (ip6IsMulticast(pkt.dst6) && icmp.solicitedFlag) return DropCode['malformed-icmp'];
      const tll = icmp.targetLinkAddr;
      // as Linux (accept_untracked_na 0): an advertisement updates an entry, never makes one
      if (tll >= 0 && (this.addrs.classOf(target) & (ADDR_LOCAL | ADDR_VIP)) === 0 && this.neigh.has(target)) {
        this.tracer?.ndLearned(target, tll);
        this.neigh.learn(target, 0, tll, port.index, pkt.now);
      }
      return CONSUMED;
    }
    const sll = icmp.sourceLinkAddr;
    if (dad && (sll >= 0 || !ip6IsSolicitedNode(pkt.dst6))) return DropCode['malformed-icmp'];
    const vip = this.addrs.vipPortOf(target) === port.index;
    if (!vip && this.addrs.localPortOf(target) !== port.index) {
      this.tracer?.mark('nd-ignored');
      return CONSUMED;
    }
    // a multicast solicitation is answered with our MAC and override (Linux's `inc`)
    const inc = ip6IsMulticast(pkt.dst6);
    let n: number;
    if (dad) {
      n = buildNa(this.ndScratch, ip6MulticastMac(IP6_ALL_NODES), port.mac, target, IP6_ALL_NODES, ND_NA_ROUTER | ND_NA_OVERRIDE, true);
    } else {
      if (sll >= 0) {
        this.tracer?.ndLearned(pkt.src6, sll);
        this.neigh.learn(pkt.src6, 0, sll, port.index, pkt.now);
      }
      const toMac = sll >= 0 ? sll : pkt.eth.src;
      const flags = ND_NA_ROUTER | ND_NA_SOLICITED | (inc ? ND_NA_OVERRIDE : 0);
      n = buildNa(this.ndScratch, toMac, port.mac, target, pkt.src6, flags, inc);
    }
    this.counters.ndReplies++;
    this.tracer?.ndAnswered(target, vip);
    this.emit(port.index, this.ndScratch, 0, n, PLAIN_FRAME);
    return ANSWERED;
  }

  /**
   * A solicitation for `target` on `port`: from the held packet's source when it is ours there (an address of
   * the port, or a VIP on it, as a NAT reply rewritten to the VIP), else the port's link-local (as Linux's
   * ndisc_solicit, which takes the packet's source when it is an address of the device).
   */
  private solicit(port: number, target: Uint32Array, held: Uint8Array | undefined): void {
    const src = this.from;
    const ip = this.errIp;
    if (held !== undefined && ip.wrap(held, ETH_HEADER_LEN, held.length - ETH_HEADER_LEN) === WIRE_OK) {
      ip.readSrc(src, 0);
      if (this.addrs.localPortOf(src) !== port && this.addrs.vipPortOf(src) !== port) ip6Copy(this.p6[port]!.ll, 0, src, 0);
    } else {
      ip6Copy(this.p6[port]!.ll, 0, src, 0);
    }
    const n = buildNs(this.ndScratch, this.ports[port]!.mac, src, target);
    this.emit(port, this.ndScratch, 0, n, PLAIN_FRAME);
  }

  // ---------------------------------------------------------------- ICMPv6 it originates

  /** An echo request to one of our addresses or VIPs (pkt.icmp6 wrapped): answered in place, on the port it came from. */
  echoReply(pkt: Packet): Verdict {
    const ip = pkt.ip6;
    const icmp = pkt.icmp6;
    const len = icmp.len;
    const o = ip.payloadOffset;
    // the reply carries no extension headers of the request
    if (icmp.off !== o) pkt.buf.copyWithin(o, icmp.off, icmp.off + len);
    pkt.eth.swapMacs();
    ip.flowLabel = 0;
    ip.payloadLength = len;
    ip.nextHeader = NEXTHDR_ICMP;
    ip.hopLimit = DEFAULT_HOP_LIMIT;
    ip.writeSrc(pkt.dst6);
    ip.writeDst(pkt.src6);
    const r = this.icmp;
    r.wrap(pkt.buf, o, len);
    r.type = ICMPV6_ECHO_REPLY;
    r.code = 0;
    r.fillChecksum(ip.pseudoAddrSum());
    this.counters.icmpSent++;
    this.tracer?.echoReply6(pkt.dst6, (this.addrs.classOf(pkt.dst6) & ADDR_VIP) !== 0);
    this.emit(pkt.port.index, pkt.buf, pkt.ethOff, ETH_HEADER_LEN + IPV6_HEADER_LEN + len, PLAIN_FRAME);
    return ANSWERED;
  }

  /**
   * Sends an ICMPv6 error about the IPv6 packet in the frame at buf[ethOff..]
   * back to its source, from `from` (null: the address the egress port
   * uses towards the source): on `ingress` to the frame's source MAC, or
   * with `viaRoute` the way the route to the source goes. As Linux's
   * icmp6_send: never about an ICMPv6 error, nor to an unspecified or
   * multicast source, nor (but packet too big) about a packet sent to a
   * multicast address; rate-limited, packet too big excepted.
   */
  icmpError(
    buf: Uint8Array, ethOff: number, ingress: DirectorPort, type: number, code: number, info: number,
    from: Uint32Array | null, viaRoute: boolean, now: number,
  ): void {
    const ip = this.errIp;
    const ipOff = ethOff + ETH_HEADER_LEN;
    if (ip.wrap(buf, ipOff, buf.length - ipOff) !== WIRE_OK) return;
    const to = this.to;
    ip.readSrc(to, 0);
    if (ip6IsUnspecified(to) || ip6IsMulticast(to)) return;
    ip.readDst(this.tmp, 0);
    if (ip6IsMulticast(this.tmp) && type !== ICMPV6_PACKET_TOO_BIG) return;
    const ext = this.errExt;
    if (ext.walk(ip) === WIRE_OK && ext.upperProtocol === NEXTHDR_ICMP && !ext.isLaterFragment &&
      (this.errIcmp.wrap(buf, ext.upperOffset, ext.upperLength) !== WIRE_OK || icmpv6IsError(this.errIcmp.type))) return;
    if (type !== ICMPV6_PACKET_TOO_BIG && !this.icmpTokens.take(now)) {
      this.counters.icmpRateLimited++;
      return;
    }
    let egress = ingress.index;
    let toMac = readMac(buf, ethOff + 6);
    if (viaRoute) {
      if (!this.route(to, 0)) return;
      egress = this.routePort;
      const m = this.neigh.lookup(this.routeNextHop, 0, now);
      if (m < 0) return;
      toMac = m;
    }
    const src = this.from;
    if (from !== null) ip6Copy(from, 0, src, 0);
    else this.sourceFor(egress, to, 0, src);
    const b = this.scratch;
    const n = buildIcmp6Error(b, toMac, this.ports[egress]!.mac, src, to, type, code, info, buf, ipOff, ip.totalLength);
    this.counters.icmpSent++;
    this.tracer?.icmpSent6(type, code, to);
    this.emit(egress, b, 0, n, PLAIN_FRAME);
  }

  /**
   * The hop-limit check of everything the director routes (ip6_forward's
   * first): a packet with hop limit 1 gets time-exceeded (from the ingress
   * port's address towards the sender) and is dropped. The hop limit itself
   * goes down only once the MTU check has passed, as ip6_forward does it, so
   * a packet-too-big quotes the packet as it came: see decHopLimit.
   */
  checkHopLimit(pkt: Packet): Verdict {
    if (pkt.ip6.hopLimit <= 1) {
      this.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_TIME_EXCEEDED, ICMPV6_EXC_HOPLIMIT, 0, null, false, pkt.now);
      return DropCode['ttl-exceeded'];
    }
    return FORWARDED;
  }

  /** checkHopLimit, then one hop less: for what has no MTU check of its own (ICMPv6 errors, never too big). */
  decHopLimit(pkt: Packet): Verdict {
    const v = this.checkHopLimit(pkt);
    if (v === FORWARDED) pkt.ip6.decHopLimit();
    return v;
  }

  /**
   * Whether the packet is too big for `mtu` (a super-frame never is): then
   * packet-too-big telling `mtu` goes to its source, from `from` (null: as
   * icmpError chooses), by the route back — except for a later fragment, as
   * IPVS (the first one has been told) — and the caller drops it.
   */
  tooBig(pkt: Packet, mtu: number, from: Uint32Array | null): boolean {
    if (pkt.frameLen - ETH_HEADER_LEN <= mtu || pkt.isSuperFrame) return false;
    if (!pkt.ext6.isLaterFragment) {
      this.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_PACKET_TOO_BIG, 0, mtu, from, true, pkt.now);
    }
    return true;
  }

  // ---------------------------------------------------------------- routing and output

  /** Longest-prefix match for a[aOff..]: sets routePort and routeNextHop, or returns false. */
  route(a: Uint32Array, aOff: number): boolean {
    const r = this.routes;
    if (!r.lookup(a, aOff)) return false;
    this.routePort = r.port;
    const nh = this.routeNextHop;
    const h = r.nextHop;
    nh[0] = h[0]!; nh[1] = h[1]!; nh[2] = h[2]!; nh[3] = h[3]!;
    return true;
  }

  /** Plain forwarding of a packet addressed to someone else, in ip6_forward's order: hop limit, route, MTU, one hop less, output. */
  forward(pkt: Packet): Verdict {
    if (ip6IsLinkLocal(pkt.src6) || ip6IsLinkLocal(pkt.dst6)) return DropCode['ipv6-link-local-not-routed'];
    const v = this.checkHopLimit(pkt);
    if (v !== FORWARDED) return v;
    if (!this.route(pkt.dst6, 0)) return DropCode['no-route'];
    const port = this.routePort;
    if (this.tooBig(pkt, this.ports[port]!.mtu, null)) return DropCode['frag-needed'];
    pkt.ip6.decHopLimit();
    this.counters.forwarded++;
    return this.output(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, this.routeNextHop, 0, pkt.now);
  }

  /** Routes to d[dOff..] and sends the frame that way (no MTU check: the caller made it). */
  routeOutput(buf: Uint8Array, ethOff: number, len: number, meta: FrameMeta, d: Uint32Array, dOff: number, now: number): Verdict {
    if (!this.route(d, dOff)) return DropCode['no-route'];
    return this.output(buf, ethOff, len, meta, this.routePort, this.routeNextHop, 0, now);
  }

  /**
   * Sends the frame at buf[ethOff, ethOff+len) out of `port` to the next
   * hop nh[nhOff..]: the source MAC is the port's, the destination MAC the
   * next hop's — or, while that is unknown, the frame waits and it is
   * solicited. MTU checks are the callers' (IPv6 routers never fragment:
   * each sends packet-too-big before it rewrites anything).
   */
  output(buf: Uint8Array, ethOff: number, len: number, meta: FrameMeta, port: number, nh: Uint32Array, nhOff: number, now: number): Verdict {
    const p = this.ports[port]!;
    writeMac(buf, ethOff + 6, p.mac);
    const mac = this.neigh.lookup(nh, nhOff, now);
    if (mac < 0) {
      this.tracer?.neighbourWait6(nh, nhOff, p.name);
      if (!this.neigh.hold(nh, nhOff, port, buf, ethOff, len, meta, now)) return DropCode['neighbour-queue-full'];
      return HELD;
    }
    writeMac(buf, ethOff, mac);
    this.emit(port, buf, ethOff, len, meta);
    return FORWARDED;
  }

  /** Every IPv6 frame the director sends goes through here. */
  emit(port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta): void {
    this.counters.framesOut++;
    this.tracer?.frameOut(this.ports[port]!.name, buf, off, len, meta);
    this.out.send(port, buf, off, len, meta);
  }

  /** Solicitation retries and give-ups. */
  tick(now: number): void {
    this.neigh.tick(now);
  }
}
