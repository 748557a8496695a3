import { prefixToMask } from '../wire/addr.js';

/** One of the director's interfaces, as the pipeline sees it. */
export interface DirectorPort {
  index: number;
  name: string;
  mac: number;
  /** The MAC's top 16 bits and low 32 bits (signed), for the per-frame compare. */
  macHi: number;
  macLo: number;
  mtu: number;
  addrs: { addr: number; prefix: number; mask: number }[];
  /** VIPs answered for on this port (ARP, ICMP echo); a VRRP backup's VIPs are out of it while inactive. */
  vips: Set<number>;
  /** The multicast MACs (low 32 bits) of the IPv4 groups joined on this port (net/local4.ts); null: none, the usual case. */
  mcast4: Int32Array | null;
}

export function makePort(index: number, name: string, mac: number, mtu: number, addrs: { addr: number; prefix: number }[]): DirectorPort {
  return {
    index, name, mac, mtu, macHi: Math.floor(mac / 0x100000000), macLo: mac % 0x100000000 | 0,
    addrs: addrs.map((a) => ({ addr: a.addr >>> 0, prefix: a.prefix, mask: prefixToMask(a.prefix) })),
    vips: new Set(),
    mcast4: null,
  };
}

/** The port's address whose subnet holds `addr`, or -1. */
function subnetAddr(p: DirectorPort, addr: number): number {
  for (const a of p.addrs) if (((addr & a.mask) >>> 0) === ((a.addr & a.mask) >>> 0)) return a.addr;
  return -1;
}

/** Is `addr` on one of the port's connected subnets? */
export function onPortSubnet(p: DirectorPort, addr: number): boolean {
  return subnetAddr(p, addr) !== -1;
}

/** The port's address on the subnet of `target`, else its first address (as Linux picks an ARP/ICMP source). */
export function sourceAddrFor(p: DirectorPort, target: number): number {
  const a = subnetAddr(p, target);
  return a !== -1 ? a : p.addrs[0]?.addr ?? 0;
}
