// Between tapvs's own numbering of a connection (the ConnTable's flags and
// state cells, a dest's forwarding method) and the kernel's numbering on the
// sync wire (ipvs-sync.ts). They differ: tapvs packs the forwarding method
// in two bits with DR = 1, the kernel in three with DROUTE = 3 and
// LOCALNODE = 1, and the other flag bits sit elsewhere.
//
// wire/ imports nothing above it, so tapvs's numbers are repeated here as
// numbers; test/wire/ipvs-sync-map.test.ts compares every one with
// src/model/dest.ts, src/conn/flags.ts and src/conn/tcp-states.ts, so a
// change there fails the test instead of corrupting synced conns.

import {
  IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_MASQ, IP_VS_CONN_F_NOOUTPUT,
  IP_VS_CONN_F_ONE_PACKET, IP_VS_CONN_F_TEMPLATE, IP_VS_CONN_F_TUNNEL, IP_VS_SCTP_S_LAST, IP_VS_TCP_S_LAST,
  IP_VS_UDP_S_NORMAL,
} from './ipvs-sync.js';

// tapvs numbers (model/dest.ts FWD_*, conn/flags.ts CONN_F_*)
export const TAPVS_FWD_MASQ = 0;
export const TAPVS_FWD_DR = 1;
export const TAPVS_FWD_TUN = 2;
export const TAPVS_CONN_F_FWD_MASK = 0x0003;
export const TAPVS_CONN_F_TEMPLATE = 0x0004;
export const TAPVS_CONN_F_ONE_PACKET = 0x0008;
export const TAPVS_CONN_F_INACTIVE = 0x0010;
export const TAPVS_CONN_F_NOOUTPUT = 0x0020;

/** tapvs forwarding method (FWD_MASQ, FWD_DR, FWD_TUN) -> kernel IP_VS_CONN_F_* method. */
export const FWD_TO_SYNC: readonly number[] = [IP_VS_CONN_F_MASQ, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_TUNNEL];

/**
 * Kernel method (flags & IP_VS_CONN_F_FWD_MASK) -> tapvs method; -1 for
 * LOCALNODE, BYPASS and the unused values, which tapvs does not do.
 */
export const SYNC_TO_FWD: readonly number[] = [TAPVS_FWD_MASQ, -1, TAPVS_FWD_TUN, TAPVS_FWD_DR, -1, -1, -1, -1];

/** The flag bits that mean the same on both sides, as [tapvs bit, kernel bit]. */
const SAME_BITS: readonly (readonly [number, number])[] = [
  [TAPVS_CONN_F_TEMPLATE, IP_VS_CONN_F_TEMPLATE],
  [TAPVS_CONN_F_ONE_PACKET, IP_VS_CONN_F_ONE_PACKET],
  [TAPVS_CONN_F_INACTIVE, IP_VS_CONN_F_INACTIVE],
  [TAPVS_CONN_F_NOOUTPUT, IP_VS_CONN_F_NOOUTPUT],
];

/**
 * ConnTable flags -> wire flags: method and the shared bits. tapvs's own
 * bookkeeping bits (HASHED, INVALID, USED) are not sent. The SEQ bits come
 * from the conn's app state (an FTP helper's offsets), set by the daemon.
 */
export function connFlagsToSync(flags: number): number {
  let out = FWD_TO_SYNC[flags & TAPVS_CONN_F_FWD_MASK] ?? IP_VS_CONN_F_MASQ;
  for (const [t, k] of SAME_BITS) if (flags & t) out |= k;
  return out;
}

/**
 * Wire flags -> ConnTable flags (method and shared bits), or -1 when the
 * method is one tapvs lacks (LOCALNODE, BYPASS): the daemon drops such a
 * record. Bits tapvs has no use for (SEQ, NO_CPORT, SYNC) are dropped.
 */
export function syncFlagsToConn(flags: number): number {
  const fwd = SYNC_TO_FWD[flags & IP_VS_CONN_F_FWD_MASK]!;
  if (fwd < 0) return -1;
  let out = fwd;
  for (const [t, k] of SAME_BITS) if (flags & k) out |= t;
  return out;
}

function identity(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i);
}

/**
 * TCP: tapvs's TCP_S_* (conn/tcp-states.ts) follow the kernel's
 * IP_VS_TCP_S_* one for one, so both tables are the identity; they exist so
 * that the daemon goes through them and a future renumbering has one place
 * to change.
 */
export const TCP_STATE_TO_SYNC: Uint8Array = identity(IP_VS_TCP_S_LAST);
export const SYNC_TO_TCP_STATE: Uint8Array = identity(IP_VS_TCP_S_LAST);
/** UDP has one state on both sides (tapvs leaves a UDP conn's state at 0). */
export const UDP_STATE_TO_SYNC: Uint8Array = Uint8Array.of(IP_VS_UDP_S_NORMAL);
export const SYNC_TO_UDP_STATE: Uint8Array = Uint8Array.of(0);
/** SCTP: tapvs numbers its SCTP states as the kernel does (conn/sctp-states.ts, IP_VS_SCTP_S_*). */
export const SCTP_STATE_TO_SYNC: Uint8Array = identity(IP_VS_SCTP_S_LAST);
export const SYNC_TO_SCTP_STATE: Uint8Array = identity(IP_VS_SCTP_S_LAST);

function tableOf(protocol: number, toSync: boolean): Uint8Array | undefined {
  switch (protocol) {
    case 6: return toSync ? TCP_STATE_TO_SYNC : SYNC_TO_TCP_STATE;
    case 17: return toSync ? UDP_STATE_TO_SYNC : SYNC_TO_UDP_STATE;
    case 132: return toSync ? SCTP_STATE_TO_SYNC : SYNC_TO_SCTP_STATE;
    default: return undefined;
  }
}

/**
 * A tapvs conn's state -> wire state; -1 when out of range or for a
 * protocol without states. Templates keep their state as is (NONE/ASSURED
 * bits on both sides).
 */
export function connStateToSync(protocol: number, state: number, template = false): number {
  if (template) return state;
  const t = tableOf(protocol, true);
  return t !== undefined && state < t.length ? t[state]! : -1;
}

/**
 * A received state -> tapvs state; -1 for a state at or past the kernel's
 * count for the protocol, or an unknown protocol (the kernel skips such a
 * record: "Invalid state" / "Unsupported protocol").
 */
export function syncStateToConn(protocol: number, state: number, template = false): number {
  if (template) return state;
  const t = tableOf(protocol, false);
  return t !== undefined && state < t.length ? t[state]! : -1;
}
