// The transmitters by forwarding method (the numbers of model/dest.ts: the
// low bits of a conn's flags). To add a method: one file here, one entry.
import { FWD_DR, FWD_MASQ, FWD_TUN } from '../model/dest.js';
import { drXmit } from './dr.js';
import { natXmit } from './nat.js';
import { tunXmit } from './tun.js';
import type { Transmitter } from './xmit.js';

export type { Transmitter, XmitEnv } from './xmit.js';
export { natIcmpFromClient, natIcmpFromDest } from './icmp-nat.js';

const byMethod: Transmitter[] = [];
byMethod[FWD_MASQ] = natXmit;
byMethod[FWD_DR] = drXmit;
byMethod[FWD_TUN] = tunXmit;

/** The transmitter of a forwarding method. */
export function transmitter(fwd: number): Transmitter {
  return byMethod[fwd]!;
}
