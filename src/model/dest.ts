import { ip6Equal, ip6Fold } from '../wire/addr6.js';
import { AF_INET, AF_INET6 } from './proto.js';
import { Stats } from './stats.js';
import type { Service } from './service.js';

/** The address of an IPv4 thing in addr6 (never read for IPv4). */
export const NO_ADDR6: Uint32Array = new Uint32Array(4);

// Forwarding methods, named as ipvsadm names them (-m, -g, -i).
export const FWD_MASQ = 0; // masquerading = NAT
export const FWD_DR = 1; // gatewaying = direct routing
export const FWD_TUN = 2; // ipip = tunnelling
export type Fwd = typeof FWD_MASQ | typeof FWD_DR | typeof FWD_TUN;
/**
 * Not a real server's method: a cache_bypass connection (ip_vs_leave) sends
 * its packets on to their own destination (the kernel's IP_VS_CONN_F_BYPASS).
 */
export const FWD_BYPASS = 3;

// Tunnel types of a tunnelling real server (ipvsadm --tun-type), with the
// kernel's numbers (IP_VS_CONN_F_TUNNEL_TYPE_*), and its encapsulation flags.
export const TUN_IPIP = 0;
export const TUN_GUE = 1;
export const TUN_GRE = 2;
export type TunType = typeof TUN_IPIP | typeof TUN_GUE | typeof TUN_GRE;
export const TUN_NAMES: readonly string[] = ['ipip', 'gue', 'gre'];
/** net.ipv4.route.min_pmtu: a reported MTU below it is taken as this (512 + 20 + 20). */
export const MIN_PMTU = 552;
/** net.ipv4.route.mtu_expires: how long a learned path MTU holds, 10 minutes. */
export const PMTU_EXPIRES_MS = 600_000;

/** --tun-nocsum (0), --tun-csum, --tun-remcsum: IP_VS_TUNNEL_ENCAP_FLAG_*. */
export const TUN_F_NOCSUM = 0;
export const TUN_F_CSUM = 1;
export const TUN_F_REMCSUM = 2;

export function fwdName(f: Fwd): 'Masq' | 'Route' | 'Tunnel' {
  return f === FWD_MASQ ? 'Masq' : f === FWD_DR ? 'Route' : 'Tunnel';
}

export interface DestSpec {
  /** IPv4 as uint32 (ignored when addr6 is given). */
  addr: number;
  /** An IPv6 real server's address, four 32-bit words. */
  addr6?: Uint32Array;
  port: number;
  weight?: number;
  fwd?: Fwd;
  uThreshold?: number;
  lThreshold?: number;
  /** Tunnelling servers: --tun-type (TUN_IPIP by default), --tun-port (GUE's UDP port), the checksum flag. */
  tunType?: TunType;
  tunPort?: number;
  tunFlags?: number;
}

/** A real server ("destination") of one virtual service, as ip_vs_dest. */
export class Dest {
  svc: Service;
  readonly af: number;
  /** IPv4: the address. IPv6: its four words XORed (ip6Fold), for hashing only. */
  readonly addr: number;
  /** IPv6: the address (four words); NO_ADDR6 for IPv4. */
  readonly addr6: Uint32Array;
  readonly port: number;
  weight: number;
  fwd: Fwd;
  uThreshold: number;
  lThreshold: number;
  /** --tun-type, --tun-port, --tun-*csum: read when a tunnelling server's conn is made (type) and per packet (port, flags), as the kernel. */
  tunType: TunType;
  tunPort: number;
  tunFlags: number;

  activeConns = 0;
  inactConns = 0;
  persistConns = 0;

  /**
   * The path MTU toward this tunnelling real server, learned from a
   * need-to-frag about one of the director's tunnel packets (the kernel keeps
   * it as a route exception, ipv4_update_pmtu); 0: none learned. Its MTU
   * check uses it until pmtuExpires (ms).
   */
  pmtu = 0;
  pmtuExpires = 0;

  /** IP_VS_DEST_F_AVAILABLE: false once removed from its service. */
  available = true;
  /** IP_VS_DEST_F_OVERLOAD: set when conns reach uThreshold. */
  overloaded = false;

  readonly stats = new Stats();

  constructor(svc: Service, spec: DestSpec) {
    this.svc = svc;
    if (spec.addr6) {
      this.af = AF_INET6;
      this.addr6 = Uint32Array.from(spec.addr6);
      this.addr = ip6Fold(this.addr6);
    } else {
      this.af = AF_INET;
      this.addr6 = NO_ADDR6;
      this.addr = spec.addr >>> 0;
    }
    this.port = spec.port;
    this.weight = spec.weight ?? 1;
    this.fwd = spec.fwd ?? FWD_DR;
    this.uThreshold = spec.uThreshold ?? 0;
    this.lThreshold = spec.lThreshold ?? 0;
    this.tunType = spec.tunType ?? TUN_IPIP;
    this.tunPort = spec.tunPort ?? 0;
    this.tunFlags = spec.tunFlags ?? TUN_F_NOCSUM;
  }

  /** The path MTU toward this real server over a link of `linkMtu`: the learned one while it lasts. */
  pathMtu(linkMtu: number, now: number): number {
    return this.pmtu !== 0 && now < this.pmtuExpires && this.pmtu < linkMtu ? this.pmtu : linkMtu;
  }

  /**
   * Learns a reported next-hop MTU as __ip_rt_update_pmtu does: only a
   * lower one than the path has now, never under 552 (ip_rt_min_pmtu), good
   * for PMTU_EXPIRES_MS (ip_rt_mtu_expires).
   */
  learnPmtu(reported: number, linkMtu: number, now: number): void {
    const old = this.pathMtu(linkMtu, now);
    if (reported >= old) return;
    this.pmtu = reported < MIN_PMTU ? Math.min(old, MIN_PMTU) : reported;
    this.pmtuExpires = now + PMTU_EXPIRES_MS;
  }

  /** Is this the real server at (addr or addr6, port)? */
  is(spec: Pick<DestSpec, 'addr' | 'addr6' | 'port'>): boolean {
    if (this.port !== spec.port) return false;
    if (this.af === AF_INET6) return spec.addr6 !== undefined && ip6Equal(this.addr6, 0, spec.addr6, 0);
    return spec.addr6 === undefined && this.addr === spec.addr >>> 0;
  }

  /** Connection count used by thresholds (ip_vs_dest_totalconns). */
  get totalConns(): number {
    return this.activeConns + this.inactConns;
  }
}
