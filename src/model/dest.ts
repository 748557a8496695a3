import { Stats } from './stats.js';
import type { Service } from './service.js';

// Forwarding methods, named as ipvsadm names them (-m, -g, -i).
export const FWD_MASQ = 0; // masquerading = NAT
export const FWD_DR = 1; // gatewaying = direct routing
export const FWD_TUN = 2; // ipip = tunnelling
export type Fwd = typeof FWD_MASQ | typeof FWD_DR | typeof FWD_TUN;

export function fwdName(f: Fwd): 'Masq' | 'Route' | 'Tunnel' {
  return f === FWD_MASQ ? 'Masq' : f === FWD_DR ? 'Route' : 'Tunnel';
}

export interface DestSpec {
  addr: number; // IPv4 as uint32
  port: number;
  weight?: number;
  fwd?: Fwd;
  uThreshold?: number;
  lThreshold?: number;
}

/** A real server ("destination") of one virtual service, as ip_vs_dest. */
export class Dest {
  svc: Service;
  readonly af = 2;
  readonly addr: number;
  readonly port: number;
  weight: number;
  fwd: Fwd;
  uThreshold: number;
  lThreshold: number;

  activeConns = 0;
  inactConns = 0;
  persistConns = 0;

  /** IP_VS_DEST_F_AVAILABLE: false once removed from its service. */
  available = true;
  /** IP_VS_DEST_F_OVERLOAD: set when conns reach uThreshold. */
  overloaded = false;

  readonly stats = new Stats();

  constructor(svc: Service, spec: DestSpec) {
    this.svc = svc;
    this.addr = spec.addr >>> 0;
    this.port = spec.port;
    this.weight = spec.weight ?? 1;
    this.fwd = spec.fwd ?? FWD_DR;
    this.uThreshold = spec.uThreshold ?? 0;
    this.lThreshold = spec.lThreshold ?? 0;
  }

  /** Connection count used by thresholds (ip_vs_dest_totalconns). */
  get totalConns(): number {
    return this.activeConns + this.inactConns;
  }
}
