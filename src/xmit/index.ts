// The transmitters by address family and by what a conn's flags say
// (ConnTable.xmit: the forwarding method of model/dest.ts in the low bits,
// and for TUN the tunnel type, conn/flags.ts). To add a method or a tunnel
// type: one file here (one per family), one entry.
import { CONN_F_FWD_MASK, CONN_F_TUN_SHIFT } from '../conn/flags.js';
import { FWD_BYPASS, FWD_DR, FWD_MASQ, FWD_TUN, TUN_GRE, TUN_GUE, TUN_IPIP } from '../model/dest.js';
import { bypass6Xmit, bypassXmit } from './bypass.js';
import { drXmit } from './dr.js';
import { dr6Xmit } from './dr6.js';
import { greXmit } from './gre.js';
import { gueXmit } from './gue.js';
import { gre6Xmit } from './gre6.js';
import { gue6Xmit } from './gue6.js';
import { natXmit } from './nat.js';
import { nat6Xmit } from './nat6.js';
import { tunXmit } from './tun.js';
import { tun6Xmit } from './tun6.js';
import type { Transmitter } from './xmit.js';

export type { Transmitter, XmitEnv } from './xmit.js';
export { natIcmpFromClient, natIcmpFromDest } from './icmp-nat.js';
export { natIcmp6FromClient, natIcmp6FromDest } from './icmp-nat6.js';

/** A table index from a conn's xmit bits: the method (2 bits), the tunnel type (2 bits) above it. */
function index(method: number, tunType: number): number {
  return method | (tunType << 2);
}
const slotOf = (x: number): number => (x & CONN_F_FWD_MASK) | ((x >>> (CONN_F_TUN_SHIFT - 2)) & 0xc);

const byMethod: Transmitter[] = new Array<Transmitter>(16).fill(tunXmit);
byMethod[index(FWD_MASQ, 0)] = natXmit;
byMethod[index(FWD_DR, 0)] = drXmit;
byMethod[index(FWD_TUN, TUN_IPIP)] = tunXmit;
byMethod[index(FWD_TUN, TUN_GUE)] = gueXmit;
byMethod[index(FWD_TUN, TUN_GRE)] = greXmit;
byMethod[index(FWD_BYPASS, 0)] = bypassXmit;

// IPv6: IPv6-in-IPv6, GUE or GRE over an outer IPv6 header
const byMethod6: Transmitter[] = new Array<Transmitter>(16).fill(tun6Xmit);
byMethod6[index(FWD_TUN, TUN_GUE)] = gue6Xmit;
byMethod6[index(FWD_TUN, TUN_GRE)] = gre6Xmit;
byMethod6[index(FWD_MASQ, 0)] = nat6Xmit;
byMethod6[index(FWD_DR, 0)] = dr6Xmit;
byMethod6[index(FWD_BYPASS, 0)] = bypass6Xmit;

/** The transmitter of a conn's xmit bits (ConnTable.xmit), for IPv4 connections (the kernel's packet_xmit for AF_INET). */
export function transmitter(xmit: number): Transmitter {
  return byMethod[slotOf(xmit)]!;
}

/** The transmitter for IPv6 connections (the *_xmit_v6 family). */
export function transmitter6(xmit: number): Transmitter {
  return byMethod6[slotOf(xmit)]!;
}
