// Everything in src/wire, for callers that prefer one import. The data path
// imports the protocol files directly.
export * from './addr.js';
export * from './addr6.js';
export * from './arp.js';
export * from './bytes.js';
export * from './checksum.js';
export * from './checksum6.js';
export * from './crc32c.js';
export * from './errors.js';
export * from './ethernet.js';
export * from './gre.js';
export * from './gue.js';
export * from './icmp.js';
export * from './icmpv6.js';
export * from './ipip.js';
export * from './ip6ip6.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './sctp.js';
export * from './tcp.js';
export * from './tunnel.js';
export * from './udp.js';
export * from './vrrp.js';
export * from './ipvs-sync.js';
export * from './ipvs-sync-map.js';
export * from './builder.js';
export * from './printer.js';
