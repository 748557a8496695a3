import { fwdName, type Fwd } from '../model/dest.js';
import { AF_INET6, protoName } from '../model/proto.js';
import { protoOps } from './proto/index.js';
import type { ConnTable } from './table.js';

/** One line of `ipvsadm -L -c` (and /proc/net/ip_vs_conn). */
export interface ConnRow {
  slot: number;
  /** 'TCP', 'UDP', 'ICMP', or 'IP' for a fwmark template */
  proto: string;
  caddr: number;
  cport: number;
  /** VIP, or the fwmark for a fwmark template */
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  state: string;
  /** ms until the timer runs out (0 once due) */
  expiresIn: number;
  template: boolean;
  fwd: 'Masq' | 'Route' | 'Tunnel';
  /** An IPv6 conn's addresses (caddr/vaddr/daddr then hold their folds). */
  caddr6?: Uint32Array;
  vaddr6?: Uint32Array;
  daddr6?: Uint32Array;
}

/**
 * State name as ipvsadm shows it: the protocol's name for the state (TCP's
 * states, 'UDP' for UDP's only state); templates show 'NONE' (the kernel's
 * template state names).
 */
export function connStateName(table: ConnTable, slot: number): string {
  if (table.isTemplate(slot)) return 'NONE';
  const ops = protoOps(table.proto[slot]!);
  if (ops === undefined) return 'NONE';
  return ops.stateNames[ops.stateful ? table.state[slot]! : 0] ?? 'ERR!';
}

/** Every conn and template in the table, for listings (allocates: control plane only). */
export function listConns(table: ConnTable, now: number): ConnRow[] {
  const rows: ConnRow[] = [];
  table.forEach((i) => {
    const row: ConnRow = {
      slot: i,
      proto: protoName(table.proto[i]!),
      caddr: table.caddr[i]!,
      cport: table.cport[i]!,
      vaddr: table.vaddr[i]!,
      vport: table.vport[i]!,
      daddr: table.daddr[i]!,
      dport: table.dport[i]!,
      state: connStateName(table, i),
      expiresIn: Math.max(0, table.expires[i]! - now),
      template: table.isTemplate(i),
      fwd: fwdName(table.fwd(i) as Fwd),
    };
    if (table.af[i] === AF_INET6) {
      row.caddr6 = table.caddr6.slice(i * 4, i * 4 + 4);
      row.vaddr6 = table.vaddr6.slice(i * 4, i * 4 + 4);
      row.daddr6 = table.daddr6.slice(i * 4, i * 4 + 4);
    }
    rows.push(row);
  });
  return rows;
}
