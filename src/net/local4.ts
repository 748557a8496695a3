// The director's own IPv4 traffic, in user space as everything else: the
// high-availability pair's VRRP advertisements (IP protocol 112 to
// 224.0.0.18) and IPVS sync messages (UDP to 224.0.0.81:8848). The host
// delivers a frame for one of its port addresses, or for a multicast group
// joined on the port it came in on, to the listener registered for its
// protocol (raw) or UDP port, and says CONSUMED; the listeners build their
// answers with Host4.sendLocal. Nothing here runs unless a listener or group
// exists: with HA off the host's `local` is null and the forwarding path
// pays one null check where it already knows the frame is for the director.
import { CONSUMED, DropCode, type Verdict } from '../model/verdict.js';
import { WIRE_OK } from '../wire/errors.js';
import { IPPROTO_UDP } from '../wire/ipproto.js';
import { UdpView } from '../wire/udp.js';
import type { Packet } from './packet.js';
import type { DirectorPort } from './port.js';

/** A datagram for a raw listener: the IP payload at pkt.buf[off, off+len); pkt.ip is the header. */
export type RawListener = (pkt: Packet, off: number, len: number) => void;
/** A UDP datagram: its payload at pkt.buf[off, off+len), from pkt.src:sport. */
export type UdpListener = (pkt: Packet, sport: number, off: number, len: number) => void;

/** 01:00:5e:00:00:00, the IPv4 multicast MAC prefix (RFC 1112 section 6.4): its top 16 bits as EthernetView.dstHi reads them. */
export const IP4_MCAST_MAC_HI = 0x0100;

/** The low 32 bits of the multicast MAC of group `g` (01:00:5e + its low 23 bits), as EthernetView.dstLo reads them. */
export function mcastMacLo(g: number): number {
  return (0x5e000000 | (g & 0x7fffff)) | 0;
}

/** The 48-bit multicast MAC of IPv4 group `g`. */
export function mcastMac(g: number): number {
  return 0x01005e000000 + (g & 0x7fffff);
}

export function isMulticast4(a: number): boolean {
  return a >>> 28 === 0xe;
}

export class LocalIo4 {
  private readonly udp = new Map<number, UdpListener>();
  private readonly raw = new Map<number, RawListener>();
  /** Groups joined, by port index: group -> how many joined it. */
  private readonly groups = new Map<number, Map<number, number>>();
  private readonly udpView = new UdpView();
  /** Received by a listener, and refused (bad checksum, no listener, group not joined), for the host's counters. */
  delivered = 0;
  refused = 0;

  constructor(private readonly ports: readonly DirectorPort[]) {}

  /** Receives UDP datagrams to `dport` (one listener per port number). */
  listenUdp(dport: number, fn: UdpListener): void {
    if (this.udp.has(dport)) throw new Error(`UDP port ${dport} already has a listener in the director`);
    this.udp.set(dport, fn);
  }

  unlistenUdp(dport: number, fn: UdpListener): void {
    if (this.udp.get(dport) === fn) this.udp.delete(dport);
  }

  /** Receives every packet of IP protocol `proto` for the director (one listener per protocol). */
  listenRaw(proto: number, fn: RawListener): void {
    if (this.raw.has(proto)) throw new Error(`IP protocol ${proto} already has a listener in the director`);
    this.raw.set(proto, fn);
  }

  unlistenRaw(proto: number, fn: RawListener): void {
    if (this.raw.get(proto) === fn) this.raw.delete(proto);
  }

  /** Joins multicast group `g` on a port: its frames are taken from then on (counted: leave as often as joined). */
  join(port: number, g: number): void {
    g >>>= 0;
    if (!isMulticast4(g)) throw new Error(`join: ${g >>> 24}.${(g >>> 16) & 255}.${(g >>> 8) & 255}.${g & 255} is not a multicast group`);
    let m = this.groups.get(port);
    if (!m) this.groups.set(port, (m = new Map()));
    m.set(g, (m.get(g) ?? 0) + 1);
    this.syncMacs(port);
  }

  leave(port: number, g: number): void {
    g >>>= 0;
    const m = this.groups.get(port);
    const n = m?.get(g);
    if (!m || n === undefined) return;
    if (n > 1) m.set(g, n - 1);
    else m.delete(g);
    this.syncMacs(port);
  }

  joined(port: number, g: number): boolean {
    return this.groups.get(port)?.has(g >>> 0) ?? false;
  }

  /** The groups joined on each port (for listings). */
  joinedGroups(): { port: string; group: number }[] {
    const out: { port: string; group: number }[] = [];
    for (const [p, m] of this.groups) for (const g of m.keys()) out.push({ port: this.ports[p]!.name, group: g });
    return out;
  }

  /** The port's table of accepted multicast MACs, which Director.input reads. */
  private syncMacs(port: number): void {
    const p = this.ports[port]!;
    const los = [...new Set([...(this.groups.get(port)?.keys() ?? [])].map(mcastMacLo))];
    p.mcast4 = los.length > 0 ? Int32Array.from(los) : null;
  }

  /**
   * An IPv4 packet for the director: to one of its port addresses, or (`pkt.mcast`)
   * to a multicast group. Returns CONSUMED when a listener took it.
   */
  input(pkt: Packet): Verdict {
    const ip = pkt.ip;
    if (pkt.mcast && !this.joined(pkt.port.index, pkt.dst)) return this.refuse(DropCode['not-for-us']);
    // the director's own traffic is never fragmented here (sync messages fit sync_maxlen, adverts are small)
    if (ip.isFragment) return this.refuse(DropCode['to-director-unhandled']);
    if (pkt.proto === IPPROTO_UDP) {
      const u = this.udpView;
      if (u.wrap(pkt.buf, ip.payloadOffset, ip.payloadLength) !== WIRE_OK) return this.refuse(DropCode['malformed-l4']);
      // a partial checksum (offload) was made by the sending host's kernel: trusted, as the kernel trusts CHECKSUM_PARTIAL
      if (pkt.csumStart === 0 && !u.checksumOk(pkt.src, pkt.dst)) return this.refuse(DropCode['malformed-l4']);
      const fn = this.udp.get(u.dport);
      if (fn === undefined) return this.refuse(DropCode['to-director-unhandled']);
      this.delivered++;
      fn(pkt, u.sport, u.payloadOffset, u.payloadLength);
      return CONSUMED;
    }
    const fn = this.raw.get(pkt.proto);
    if (fn === undefined) return this.refuse(DropCode['to-director-unhandled']);
    this.delivered++;
    fn(pkt, ip.payloadOffset, ip.payloadLength);
    return CONSUMED;
  }

  private refuse(code: number): Verdict {
    this.refused++;
    return code;
  }
}

/** Is the frame's destination MAC (dstLo of an 01:00:5e frame) one of a port's joined groups? */
export function acceptsMcast(macs: Int32Array, lo: number): boolean {
  for (let i = 0; i < macs.length; i++) if (macs[i] === lo) return true;
  return false;
}
