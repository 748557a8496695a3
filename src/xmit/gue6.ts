// LVS-TUN with GUE towards an IPv6 real server (ip_vs_tunnel_xmit_v6 with
// ipvs_gue_encap and udp6_set_csum): outer IPv6, next header 17, UDP to the
// real server's tun-port and the 4-byte GUE header (proto 41), then the
// client's packet. The UDP checksum is computed with --tun-csum and
// --tun-remcsum and left 0 with --tun-nocsum, as the kernel does; a plain
// IPv6 UDP receiver drops zero-checksum datagrams unless it allows them
// (UDP_NO_CHECK6_RX, RFC 6936), so IPv6 GUE real servers want --tun-csum.
// As for IPv4 (gue.ts), no packet here has a partial inner checksum, so
// --tun-remcsum sends what --tun-csum sends. The rest is tun6.ts's path.
import { TUN_F_CSUM, TUN_F_REMCSUM } from '../model/dest.js';
import { encapGue6, gueEncapLength6, type GueTunnel6 } from '../wire/gue.js';
import { tunnel6ToDest, type Encapsulation6 } from './tun6.js';
import type { Transmitter } from './xmit.js';

/** The real server's tunnel as encapGue6 reads it, refilled per packet (nothing allocated). */
const t: GueTunnel6 = { dport: 0, csum: false, remcsum: false };

export const GUE6_ENCAP: Encapsulation6 = {
  overhead: () => gueEncapLength6(t),
  write(buf, ipOff, ipLen, src, dst, dstOff, dest) {
    t.dport = dest.tunPort;
    t.csum = (dest.tunFlags & TUN_F_CSUM) !== 0;
    t.remcsum = (dest.tunFlags & TUN_F_REMCSUM) !== 0;
    return encapGue6(buf, ipOff, ipLen, t, src, 0, dst, dstOff);
  },
};

export const gue6Xmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    return tunnel6ToDest(x, pkt, slot, GUE6_ENCAP);
  },
};
