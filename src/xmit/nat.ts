import type { Ipv4View } from '../wire/ipv4.js';

/** What NAT needs of a TCP or UDP view: both rewrite ports and fix checksums for address changes. */
export interface L4Rewrite {
  rewriteSport(v: number): void;
  rewriteDport(v: number): void;
  pseudoAddrChanged(oldAddr: number, newAddr: number): void;
}

/**
 * Client -> real server (ip_vs_nat_xmit): destination becomes the real
 * server. `l4` is null for a non-first fragment, which has no ports; its
 * transport checksum lives in the first fragment and covers the whole
 * datagram, so patching it there (incrementally) keeps it right.
 */
export function natIn(ip: Ipv4View, l4: L4Rewrite | null, daddr: number, dport: number): void {
  const old = ip.dst;
  ip.rewriteDst(daddr);
  if (l4) {
    l4.pseudoAddrChanged(old, daddr);
    l4.rewriteDport(dport);
  }
}

/** Real server -> client (the reply path of masquerading): source becomes the VIP. */
export function natOut(ip: Ipv4View, l4: L4Rewrite | null, vaddr: number, vport: number): void {
  const old = ip.src;
  ip.rewriteSrc(vaddr);
  if (l4) {
    l4.pseudoAddrChanged(old, vaddr);
    l4.rewriteSport(vport);
  }
}
