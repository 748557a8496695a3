import { fwdName, type Fwd } from '../model/dest.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, protoName } from '../model/proto.js';
import { CONN_F_FWD_MASK, CONN_F_TEMPLATE } from './flags.js';
import type { ConnTable } from './table.js';
import { TCP_STATE_NAMES } from './tcp-states.js';

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
}

/**
 * State name as ipvsadm shows it: the TCP state; 'UDP' for UDP conns (their
 * only state); templates show 'NONE' (the kernel's template state names).
 */
export function connStateName(table: ConnTable, slot: number): string {
  if ((table.flags[slot]! & CONN_F_TEMPLATE) !== 0) return 'NONE';
  const p = table.proto[slot]!;
  if (p === IPPROTO_TCP) return TCP_STATE_NAMES[table.state[slot]!] ?? 'ERR!';
  if (p === IPPROTO_UDP) return 'UDP';
  if (p === IPPROTO_ICMP) return 'ICMP';
  return 'NONE';
}

/** Every conn and template in the table, for listings (allocates: control plane only). */
export function listConns(table: ConnTable, now: number): ConnRow[] {
  const rows: ConnRow[] = [];
  table.forEach((i) => {
    rows.push({
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
      template: (table.flags[i]! & CONN_F_TEMPLATE) !== 0,
      fwd: fwdName((table.flags[i]! & CONN_F_FWD_MASK) as Fwd),
    });
  });
  return rows;
}
