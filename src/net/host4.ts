// The director as an IPv4 host: its ports and addresses, the VIPs it answers
// for, routes and the ARP cache, the ICMP it originates, and output (route,
// MTU, neighbour, send). The LVS stages above call down into it; it never
// calls up. The IPv6 host (host6.ts: neighbour discovery, ICMPv6) sits
// beside it with the same shape: classify an address, route, output,
// forward, answer; the config's IPv6 entries (addr6, dst6) are its.
import type { DirectorConfig } from '../model/config.js';
import { PLAIN_FRAME, type FrameMeta } from '../model/frame.js';
import { ANSWERED, CONSUMED, DropCode, FORWARDED, HELD, type Verdict } from '../model/verdict.js';
import type { Tracer } from '../trace/tracer.js';
import { ARP_OP_REQUEST, ArpView } from '../wire/arp.js';
import { WIRE_OK } from '../wire/errors.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import {
  ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED, IcmpView, icmpIsError, icmpMtuRest,
} from '../wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_UDP } from '../wire/ipproto.js';
import { IPV4_MIN_HEADER_LEN, Ipv4View, emitIpv4 } from '../wire/ipv4.js';
import { fragmentIpv4 } from '../wire/ipv4-fragment.js';
import { emitUdp, UDP_HEADER_LEN, UdpView } from '../wire/udp.js';
import { readMac, writeMac } from '../wire/addr.js';
import { put16 } from '../wire/bytes.js';
import { ADDR_LOCAL, ADDR_REAL_SERVER, ADDR_VIP, ADDR_VIP_INACTIVE, AddrTable } from './addr-table.js';
import { isMulticast4, LocalIo4, mcastMac } from './local4.js';
import { buildIcmpError, echoReplyInPlace } from './icmp4.js';
import { NeighbourTable } from './neighbours.js';
import type { Packet } from './packet.js';
import { makePort, onPortSubnet, sourceAddrFor, type DirectorPort } from './port.js';
import { RouteTable } from './routes.js';
import { TokenBucket } from './token-bucket.js';

/** Where the director's frames go: a port index, the bytes and their metadata. The callee must not keep `buf`. */
export interface DirectorOutput {
  send(port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta): void;
}

/** What the host counts (the director's counters object: shared, read by metrics). */
export interface HostCounters {
  framesOut: number;
  forwarded: number;
  icmpSent: number;
  icmpRateLimited: number;
  arpReplies: number;
}

/** Room for an ICMP error frame: Ethernet, two IPv4 headers with options, ICMP header and 8 quoted bytes. */
const ICMP_SCRATCH = 2048;

export class Host4 {
  readonly ports: DirectorPort[] = [];
  readonly portByName = new Map<string, DirectorPort>();
  readonly routes = new RouteTable();
  readonly neigh: NeighbourTable;
  /** Result of the last route(): egress port index and next hop. */
  routePort = -1;
  routeNextHop = 0;

  private readonly addrs = new AddrTable();
  private readonly arp = new ArpView();
  private readonly errIp = new Ipv4View();
  private readonly errIcmp = new IcmpView();
  private readonly scratch = new Uint8Array(ICMP_SCRATCH);
  /** ICMP errors are rate-limited like Linux's icmp_msgs_per_sec / icmp_msgs_burst (1000/s, burst 50). */
  private readonly icmpTokens = new TokenBucket(1000, 50);
  private ipId = 1;
  /** The port each IPv4 VIP is answered on. */
  private readonly vipPort = new Map<number, number>();
  /**
   * The director's own traffic (VRRP adverts, IPVS sync: net/local4.ts):
   * null until something listens or joins a group, so a director without
   * HA never looks.
   */
  local: LocalIo4 | null = null;
  /** VIPs a VRRP backup holds back: while 0 the forwarding path asks nothing more. */
  inactiveVips = 0;
  /** Where sendLocal builds its packets (allocated with the first). */
  private localBuf: Uint8Array | null = null;
  private readonly localUdp = new UdpView();

  constructor(
    cfg: DirectorConfig,
    private readonly out: DirectorOutput,
    readonly counters: HostCounters,
    private readonly tracer: Tracer | null,
    dropUnresolved: (n: number) => void,
  ) {
    cfg.ports.forEach((p, i) => {
      const port = makePort(i, p.name, p.mac, p.mtu, p.addrs);
      this.ports.push(port);
      this.portByName.set(p.name, port);
      for (const a of port.addrs) {
        this.addrs.add(a.addr, ADDR_LOCAL, i);
        this.routes.add(a.addr, a.prefix, 0, i);
      }
    });
    for (const v of cfg.vips) {
      if (v.addr6) continue; // IPv6 VIPs are Host6's
      const p = this.portByName.get(v.port)!;
      p.vips.add(v.addr >>> 0);
      this.vipPort.set(v.addr >>> 0, p.index);
      this.addrs.add(v.addr, ADDR_VIP, p.index);
    }
    for (const r of cfg.routes) {
      if (r.dst6) continue;
      let port = r.port !== undefined ? this.portByName.get(r.port)!.index : -1;
      if (port < 0) {
        this.routes.lookup(r.via);
        port = this.routes.port;
      }
      this.routes.add(r.dst, r.prefix, r.via, port);
    }
    this.neigh = new NeighbourTable(
      {
        send: (port, buf, off, len, meta) => this.emit(port, buf, off, len, meta),
        portMac: (port) => this.ports[port]!.mac,
        portAddrFor: (port, target) => sourceAddrFor(this.ports[port]!, target),
        dropUnresolved,
      },
      { queue: cfg.options.neighbourQueue, retries: cfg.options.arpRetries, retryMs: cfg.options.arpRetryMs, reachableMs: 60_000 },
    );
    for (const n of cfg.neighbours ?? []) {
      if (n.addr6) continue;
      this.routes.lookup(n.addr);
      this.neigh.addPermanent(n.addr, n.mac, this.routes.port >= 0 ? this.routes.port : 0);
    }
  }

  // ---------------------------------------------------------------- addresses

  /** ADDR_LOCAL | ADDR_VIP | ADDR_REAL_SERVER bits of `addr`. */
  classOf(addr: number): number {
    return this.addrs.classOf(addr);
  }

  /** Replaces the set of real-server addresses (after the service table changed). */
  setRealServers(addrs: Iterable<number>): void {
    this.addrs.clearClass(ADDR_REAL_SERVER);
    for (const a of addrs) this.addrs.add(a, ADDR_REAL_SERVER);
  }

  /**
   * Activates or holds back one VIP (the VRRP master has it, a backup does
   * not): an inactive VIP is not answered for in ARP or ICMP and traffic to
   * it is not the director's (it is routed, as a host without the address
   * would). Called through Director.mutate only. Returns whether it changed;
   * false for an address that is no IPv4 VIP.
   */
  setVipActive(addr: number, active: boolean): boolean {
    const a = addr >>> 0;
    const port = this.vipPort.get(a);
    if (port === undefined) return false;
    const p = this.ports[port]!;
    if (p.vips.has(a) === active) return false;
    if (active) {
      p.vips.add(a);
      this.addrs.setBits(a, ADDR_VIP_INACTIVE, false);
      this.addrs.setBits(a, ADDR_VIP, true);
      this.inactiveVips--;
    } else {
      p.vips.delete(a);
      this.addrs.setBits(a, ADDR_VIP, false);
      this.addrs.setBits(a, ADDR_VIP_INACTIVE, true);
      this.inactiveVips++;
    }
    return true;
  }

  /** 'active', 'inactive', or undefined for an address that is no IPv4 VIP. */
  vipState(addr: number): 'active' | 'inactive' | undefined {
    const port = this.vipPort.get(addr >>> 0);
    if (port === undefined) return undefined;
    return this.ports[port]!.vips.has(addr >>> 0) ? 'active' : 'inactive';
  }

  /** The port an IPv4 VIP is answered on, or -1. */
  vipPortOf(addr: number): number {
    return this.vipPort.get(addr >>> 0) ?? -1;
  }

  /** Gratuitous ARP for one active VIP, on its port (a VRRP master taking over). */
  announceVip(addr: number): boolean {
    const port = this.vipPort.get(addr >>> 0);
    if (port === undefined || !this.ports[port]!.vips.has(addr >>> 0)) return false;
    this.neigh.announce(port, this.ports[port]!.mac, addr >>> 0);
    return true;
  }

  /** The local delivery (created on first use). */
  localIo(): LocalIo4 {
    return (this.local ??= new LocalIo4(this.ports));
  }

  /**
   * Sends an IPv4 packet the director originates: `len` payload bytes at
   * payload[off] as IP protocol `proto` (UDP: a header from sport to dport is
   * put before them, with its checksum) from `src` to `dst` with `ttl` and
   * `tos`. A multicast destination goes out of `port` to the group's MAC
   * (never routed); a unicast one is routed and its next hop resolved.
   * DF is clear: a packet over the port's MTU is fragmented, as the
   * kernel's sync sockets allow. Not for the forwarding path.
   */
  sendLocal(
    port: number, src: number, dst: number, proto: number, ttl: number, tos: number,
    payload: Uint8Array, off: number, len: number, sport: number, dport: number, now: number,
  ): Verdict {
    const udp = proto === IPPROTO_UDP;
    const ipLen = IPV4_MIN_HEADER_LEN + (udp ? UDP_HEADER_LEN : 0) + len;
    if (ipLen > 0xffff) return DropCode['frame-too-big'];
    const b = (this.localBuf ??= new Uint8Array(ETH_HEADER_LEN + 0xffff));
    const ipOff = ETH_HEADER_LEN;
    const l4 = ipOff + IPV4_MIN_HEADER_LEN;
    const data = l4 + (udp ? UDP_HEADER_LEN : 0);
    b.set(payload.subarray(off, off + len), data);
    if (udp) {
      emitUdp({ sport, dport, length: UDP_HEADER_LEN + len }, b, l4);
      const u = this.localUdp;
      u.wrap(b, l4, UDP_HEADER_LEN + len);
      u.fillChecksum(src, dst);
    }
    emitIpv4({ tos, totalLength: ipLen, id: this.nextId(), flags: 0, fragOffset: 0, ttl, protocol: proto, src, dst }, b, ipOff);
    put16(b, 12, ETHERTYPE_IPV4);
    if (!isMulticast4(dst)) {
      // routed: the next hop's MAC, or held until it is resolved
      if (!this.route(dst)) return DropCode['no-route'];
      const len2 = ETH_HEADER_LEN + ipLen;
      if (ipLen <= this.ports[this.routePort]!.mtu) return this.output(b, 0, len2, PLAIN_FRAME, this.routePort, this.routeNextHop, now);
      for (const f of fragmentIpv4(b, ipOff, ipLen, this.ports[this.routePort]!.mtu)) {
        const fr = new Uint8Array(ETH_HEADER_LEN + f.length);
        fr.set(b.subarray(0, ETH_HEADER_LEN));
        fr.set(f, ETH_HEADER_LEN);
        this.output(fr, 0, fr.length, PLAIN_FRAME, this.routePort, this.routeNextHop, now);
      }
      return FORWARDED;
    }
    const p = this.ports[port];
    if (p === undefined) return DropCode['no-route'];
    writeMac(b, 0, mcastMac(dst));
    writeMac(b, 6, p.mac);
    if (ipLen <= p.mtu) {
      this.emit(port, b, 0, ETH_HEADER_LEN + ipLen, PLAIN_FRAME);
      return FORWARDED;
    }
    for (const f of fragmentIpv4(b, ipOff, ipLen, p.mtu)) {
      const fr = new Uint8Array(ETH_HEADER_LEN + f.length);
      fr.set(b.subarray(0, ETH_HEADER_LEN));
      fr.set(f, ETH_HEADER_LEN);
      this.emit(port, fr, 0, fr.length, PLAIN_FRAME);
    }
    return FORWARDED;
  }

  /** The next IPv4 identification for a packet the director originates. */
  nextId(): number {
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff || 1;
    return id;
  }

  // ---------------------------------------------------------------- ARP

  /** Announces every port address and VIP with gratuitous ARP, as a host does when an address comes up. */
  announce(): void {
    for (const p of this.ports) {
      for (const a of p.addrs) this.neigh.announce(p.index, p.mac, a.addr);
      for (const v of p.vips) this.neigh.announce(p.index, p.mac, v);
    }
  }

  /** An ARP packet at the Ethernet payload of `pkt`: learn from it, answer for ours. */
  arpInput(pkt: Packet): Verdict {
    const arp = this.arp;
    const port = pkt.port;
    if (arp.wrap(pkt.buf, pkt.eth.payloadOffset, pkt.eth.payloadLength) !== WIRE_OK) return DropCode['malformed-arp'];
    const spa = arp.spa;
    const sha = arp.sha;
    const tpa = arp.tpa;
    // learn only from the subnets this port is on, as a host would
    if (onPortSubnet(port, spa)) {
      this.tracer?.arpLearned(spa, sha);
      this.neigh.learn(spa, sha, port.index, pkt.now);
    }
    if (arp.op !== ARP_OP_REQUEST) return CONSUMED;
    const vip = port.vips.has(tpa);
    const owns = this.addrs.localPortOf(tpa) === port.index || vip;
    if (!owns || spa === tpa) {
      this.tracer?.mark('arp-ignored');
      return CONSUMED;
    }
    this.counters.arpReplies++;
    this.tracer?.arpAnswered(tpa, vip);
    this.neigh.reply(port.index, port.mac, tpa, sha, spa);
    return ANSWERED;
  }

  // ---------------------------------------------------------------- ICMP it originates

  /** An echo request to one of our addresses or VIPs: answered in place, on the port it came from. */
  echoReply(pkt: Packet): Verdict {
    const ip = pkt.ip;
    const n = echoReplyInPlace(pkt.buf, pkt.ethOff, ip.off, ip.totalLength, pkt.dst, pkt.port.mac);
    this.counters.icmpSent++;
    this.tracer?.echoReply(pkt.dst, (this.addrs.classOf(pkt.dst) & ADDR_VIP) !== 0);
    this.emit(pkt.port.index, pkt.buf, pkt.ethOff, n, PLAIN_FRAME);
    return ANSWERED;
  }

  /**
   * Sends an ICMP error about the IPv4 packet in the frame at buf[ethOff..]
   * back to its sender, from `from`: on `ingress` to the frame's source MAC,
   * or with `viaRoute` out of the port that routes to the sender. Never about
   * an ICMP error (RFC 1122 §3.2.2), and rate-limited.
   */
  icmpError(
    buf: Uint8Array, ethOff: number, ingress: DirectorPort, type: number, code: number, rest: number,
    from: number, viaRoute: boolean, now: number,
  ): void {
    const ip = this.errIp;
    const ipOff = ethOff + ETH_HEADER_LEN;
    if (ip.wrap(buf, ipOff, buf.length - ipOff) !== WIRE_OK) return;
    if (ip.protocol === IPPROTO_ICMP && this.errIcmp.wrap(buf, ip.payloadOffset, ip.payloadLength) === WIRE_OK &&
      icmpIsError(this.errIcmp.type)) return;
    // as icmpv4_mask_allow: "don't limit PMTU discovery"
    if (!(type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) && !this.icmpTokens.take(now)) {
      this.counters.icmpRateLimited++;
      return;
    }
    const to = ip.src;
    let egress = ingress.index;
    let toMac = readMac(buf, ethOff + 6);
    if (viaRoute) {
      if (!this.route(to)) return;
      egress = this.routePort;
      const m = this.neigh.lookup(this.routeNextHop, now);
      if (m < 0) return;
      toMac = m;
    }
    const b = this.scratch;
    const n = buildIcmpError(b, toMac, this.ports[egress]!.mac, from, to, this.nextId(), type, code, rest, buf, ipOff, ip.totalLength);
    if (n === 0) return;
    this.counters.icmpSent++;
    this.tracer?.icmpSent(type, code, to);
    this.emit(egress, b, 0, n, PLAIN_FRAME);
  }

  /**
   * An ICMP error about the IPv4 packet whose first `avail` bytes are at
   * buf[ipOff..] (a packet the director knows only from the quote of an
   * error about it: ip_vs_in_icmp relaying a real server's or a router's
   * error about a tunnelled packet), to that packet's source by the route,
   * from `from`. Rate-limited as icmpError (frag-needed never).
   */
  icmpErrorAbout(buf: Uint8Array, ipOff: number, avail: number, type: number, code: number, rest: number, from: number, now: number): void {
    if (avail < 20 || ipOff + avail > buf.length) return;
    if (!(type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) && !this.icmpTokens.take(now)) {
      this.counters.icmpRateLimited++;
      return;
    }
    this.errIp.wrapHeaderOnly(buf, ipOff);
    const to = this.errIp.src;
    if (!this.route(to)) return;
    const egress = this.routePort;
    const m = this.neigh.lookup(this.routeNextHop, now);
    if (m < 0) return;
    const b = this.scratch;
    const n = buildIcmpError(b, m, this.ports[egress]!.mac, from, to, this.nextId(), type, code, rest, buf, ipOff, avail);
    if (n === 0) return;
    this.counters.icmpSent++;
    this.tracer?.icmpSent(type, code, to);
    this.emit(egress, b, 0, n, PLAIN_FRAME);
  }

  /**
   * The one TTL step of everything the director routes: a packet with TTL 1
   * gets time-exceeded (from the ingress port's address on the sender's
   * subnet) and is dropped; otherwise its TTL goes down by one.
   * Returns FORWARDED to go on, or the drop.
   */
  decTtl(pkt: Packet): Verdict {
    const ip = pkt.ip;
    if (ip.ttl <= 1) {
      this.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, sourceAddrFor(pkt.port, pkt.src), false, pkt.now);
      return DropCode['ttl-exceeded'];
    }
    ip.decTtl();
    return FORWARDED;
  }

  // ---------------------------------------------------------------- routing and output

  /** Longest-prefix match: sets routePort and routeNextHop, or returns false. */
  route(dst: number): boolean {
    if (!this.routes.lookup(dst)) return false;
    this.routePort = this.routes.port;
    this.routeNextHop = this.routes.nextHop;
    return true;
  }

  /** Plain IP forwarding of a packet addressed to someone else: TTL, route, output. */
  forward(pkt: Packet): Verdict {
    const v = this.decTtl(pkt);
    if (v !== FORWARDED) return v;
    if (!this.route(pkt.ip.dst)) return DropCode['no-route'];
    this.counters.forwarded++;
    return this.output(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, this.routePort, this.routeNextHop, pkt.now);
  }

  /** Routes to `dst` and sends the frame that way: the common tail of every transmitter. */
  routeOutput(buf: Uint8Array, ethOff: number, len: number, meta: FrameMeta, dst: number, now: number): Verdict {
    if (!this.route(dst)) return DropCode['no-route'];
    return this.output(buf, ethOff, len, meta, this.routePort, this.routeNextHop, now);
  }

  /**
   * Sends the frame at buf[ethOff, ethOff+len) out of `port` to `nextHop`:
   * too big for the link with DF set is frag-needed (to the packet's
   * sender), the source MAC is the port's, the destination MAC the next
   * hop's — or, while that is unknown, the frame waits and it is asked for.
   * A super-frame is exempt from the MTU check: the sending port cuts it.
   */
  output(buf: Uint8Array, ethOff: number, len: number, meta: FrameMeta, port: number, nextHop: number, now: number): Verdict {
    const p = this.ports[port]!;
    if (len - ETH_HEADER_LEN > p.mtu && meta.gsoSize === 0) {
      const ip = this.errIp;
      if (ip.wrap(buf, ethOff + ETH_HEADER_LEN, len - ETH_HEADER_LEN) === WIRE_OK && ip.df) {
        this.icmpError(buf, ethOff, p, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest(p.mtu), sourceAddrFor(p, nextHop), true, now);
        return DropCode['frag-needed'];
      }
    }
    writeMac(buf, ethOff + 6, p.mac);
    const mac = this.neigh.lookup(nextHop, now);
    if (mac < 0) {
      this.tracer?.neighbourWait(nextHop, p.name);
      if (!this.neigh.hold(nextHop, port, buf, ethOff, len, meta, now)) return DropCode['neighbour-queue-full'];
      return HELD;
    }
    writeMac(buf, ethOff, mac);
    this.emit(port, buf, ethOff, len, meta);
    return FORWARDED;
  }

  /** Every frame the director sends goes through here. */
  emit(port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta): void {
    this.counters.framesOut++;
    this.tracer?.frameOut(this.ports[port]!.name, buf, off, len, meta);
    this.out.send(port, buf, off, len, meta);
  }

  /** ARP retries and give-ups. */
  tick(now: number): void {
    this.neigh.tick(now);
  }
}
