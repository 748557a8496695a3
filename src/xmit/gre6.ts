// LVS-TUN with GRE towards an IPv6 real server (ip_vs_tunnel_xmit_v6 with
// ipvs_gre_encap): outer IPv6, next header 47, the GRE header of gre.ts
// (checksum with --tun-csum), then the client's packet. The rest is
// tun6.ts's path.
import { TUN_F_CSUM } from '../model/dest.js';
import { encapGre6, greEncapLength6 } from '../wire/gre.js';
import { tunnel6ToDest, type Encapsulation6 } from './tun6.js';
import type { Transmitter } from './xmit.js';

export const GRE6_ENCAP: Encapsulation6 = {
  overhead: (dest) => greEncapLength6((dest.tunFlags & TUN_F_CSUM) !== 0),
  write: (buf, ipOff, ipLen, src, dst, dstOff, dest) => encapGre6(buf, ipOff, ipLen, (dest.tunFlags & TUN_F_CSUM) !== 0, src, 0, dst, dstOff),
};

export const gre6Xmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    return tunnel6ToDest(x, pkt, slot, GRE6_ENCAP);
  },
};
