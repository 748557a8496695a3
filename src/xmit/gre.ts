// LVS-TUN with GRE encapsulation (ipvsadm --tun-type gre, Linux 5.3; the
// kernel's ipvs_gre_encap): outer IPv4 with protocol 47 and a GRE header
// before the client's packet: 4 bytes (no flags, protocol 0x0800) with
// --tun-nocsum, 8 with --tun-csum (C, the checksum over GRE and payload).
// Never a key or a sequence number. The rest is tun.ts's path.
import { TUN_F_CSUM } from '../model/dest.js';
import { encapGre, greEncapLength, type GreTunnel } from '../wire/gre.js';
import { tunnelToDest, type Encapsulation } from './tun.js';
import type { Transmitter } from './xmit.js';

const t: GreTunnel = { src: 0, dst: 0, csum: false, pmtuDisc: true };

export const GRE_ENCAP: Encapsulation = {
  overhead: (dest) => greEncapLength((dest.tunFlags & TUN_F_CSUM) !== 0),
  write(buf, ipOff, ipLen, src, dst, id, pmtuDisc, dest) {
    t.src = src;
    t.dst = dst;
    t.csum = (dest.tunFlags & TUN_F_CSUM) !== 0;
    t.pmtuDisc = pmtuDisc;
    return encapGre(buf, ipOff, ipLen, t, id);
  },
};

export const greXmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    return tunnelToDest(x, pkt, slot, GRE_ENCAP);
  },
};
