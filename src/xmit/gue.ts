// LVS-TUN with GUE encapsulation (ipvsadm --tun-type gue --tun-port P,
// Linux 5.2; the kernel's ipvs_gue_encap): outer IPv4, UDP to the real
// server's tun-port from a source port of the flow's hash, and a 4-byte GUE
// header (version 0, proto 4) before the client's packet. --tun-csum (and
// --tun-remcsum, which needs it) computes the UDP checksum; --tun-nocsum
// leaves 0. Remote checksum offload adds its fields only for a packet whose
// inner checksum is still partial, which no packet is here (ports complete
// partial checksums on the way in), so --tun-remcsum sends what --tun-csum
// sends, as the kernel does for such packets. The rest is tun.ts's path.
import { TUN_F_CSUM, TUN_F_REMCSUM } from '../model/dest.js';
import { encapGue, gueEncapLength, type GueTunnel } from '../wire/gue.js';
import { tunnelToDest, type Encapsulation } from './tun.js';
import type { Transmitter } from './xmit.js';

/** The real server's tunnel as encapGue reads it, refilled per packet (nothing allocated). */
const t: GueTunnel = { src: 0, dst: 0, dport: 0, csum: false, remcsum: false, pmtuDisc: true };

export const GUE_ENCAP: Encapsulation = {
  overhead: () => gueEncapLength(t),
  write(buf, ipOff, ipLen, src, dst, id, pmtuDisc, dest) {
    t.src = src;
    t.dst = dst;
    t.dport = dest.tunPort;
    t.csum = (dest.tunFlags & TUN_F_CSUM) !== 0;
    t.remcsum = (dest.tunFlags & TUN_F_REMCSUM) !== 0;
    t.pmtuDisc = pmtuDisc;
    return encapGue(buf, ipOff, ipLen, t, id);
  },
};

export const gueXmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    return tunnelToDest(x, pkt, slot, GUE_ENCAP);
  },
};
