// The transmitters by address family and forwarding method (the numbers of
// model/dest.ts: the low bits of a conn's flags). To add a method: one file
// here (one per family), one entry.
import { FWD_DR, FWD_MASQ, FWD_TUN } from '../model/dest.js';
import { drXmit } from './dr.js';
import { dr6Xmit } from './dr6.js';
import { natXmit } from './nat.js';
import { nat6Xmit } from './nat6.js';
import { tunXmit } from './tun.js';
import { tun6Xmit } from './tun6.js';
import type { Transmitter } from './xmit.js';

export type { Transmitter, XmitEnv } from './xmit.js';
export { natIcmpFromClient, natIcmpFromDest } from './icmp-nat.js';
export { natIcmp6FromClient, natIcmp6FromDest } from './icmp-nat6.js';

const byMethod: Transmitter[] = [];
byMethod[FWD_MASQ] = natXmit;
byMethod[FWD_DR] = drXmit;
byMethod[FWD_TUN] = tunXmit;

const byMethod6: Transmitter[] = [];
byMethod6[FWD_MASQ] = nat6Xmit;
byMethod6[FWD_DR] = dr6Xmit;
byMethod6[FWD_TUN] = tun6Xmit;

/** The transmitter of a forwarding method, for IPv4 connections (the kernel's packet_xmit for AF_INET). */
export function transmitter(fwd: number): Transmitter {
  return byMethod[fwd]!;
}

/** The transmitter of a forwarding method for IPv6 connections (the *_xmit_v6 family). */
export function transmitter6(fwd: number): Transmitter {
  return byMethod6[fwd]!;
}
