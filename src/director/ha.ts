// What the high-availability pair changes in a running director, and the
// one look it takes at the forwarding path. The VRRP instances and the sync
// daemons live in the control plane (control/vrrp, control/sync); here are
// only the switches they turn through Director.mutate — a VIP active or held
// back, IPVS's backup_only — and the hook the master sync daemon puts on
// each client packet of a connection (the kernel calls ip_vs_sync_conn from
// ip_vs_in). With HA off the hook is null and the gate is 0: one compare each.
import { ADDR_VIP_INACTIVE } from '../net/addr-table.js';
import type { Packet } from '../net/packet.js';
import type { Director } from './director.js';

/** The master sync daemon's look at a client packet of a conn, after its state moved and it was sent on. */
export interface SyncHook {
  inPacket(slot: number, now: number): void;
}

/** What Mutations turns on behalf of the HA pair. */
export interface HaSwitches {
  setVipActive(addr: number, active: boolean): boolean;
  setBackupOnly(on: boolean): void;
}

export class DirectorHa implements HaSwitches {
  constructor(private readonly d: Director) {}

  setVipActive(addr: number, active: boolean): boolean {
    const changed = this.d.host.setVipActive(addr, active);
    this.gate();
    return changed;
  }

  setBackupOnly(on: boolean): void {
    this.d.backupOnly = on;
    this.gate();
  }

  private gate(): void {
    this.d.lvsGate = this.d.host.inactiveVips + (this.d.backupOnly ? 1 : 0);
  }
}

/**
 * Whether a client packet to a virtual service may be load-balanced while
 * the gate is up: not under backup_only, and not to a VIP this director
 * holds back as a VRRP backup (that packet is not the director's: it is
 * routed, as a host without the address would).
 */
export function lvsAllowed(d: Director, pkt: Packet): boolean {
  if (d.backupOnly) return false;
  return (d.host.classOf(pkt.dst) & ADDR_VIP_INACTIVE) === 0;
}
