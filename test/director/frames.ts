// Small helpers over the packet builder for the frames the golden tests use.
// Every expected frame is built from scratch here (fresh checksums), never
// derived from the director's output.
import { eth } from '../../src/wire/builder.js';

export interface TcpSpec {
  smac: string;
  dmac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: string;
  seq?: number;
  ack?: number;
  ttl?: number;
  id?: number;
  tos?: number;
  df?: boolean;
  payload?: string | Uint8Array;
  options?: number[];
}

export function tcpFrame(s: TcpSpec): Uint8Array {
  return eth({ src: s.smac, dst: s.dmac })
    .ipv4({ src: s.src, dst: s.dst, ttl: s.ttl ?? 64, id: s.id ?? 0, tos: s.tos ?? 0, flags: s.df === false ? 0 : 'DF' })
    .tcp({
      sport: s.sport, dport: s.dport, flags: s.flags, seq: s.seq ?? 0, ack: s.ack ?? 0,
      ...(s.options ? { options: s.options } : {}),
      ...(s.payload !== undefined ? { payload: s.payload } : {}),
    })
    .build();
}

export interface UdpSpec {
  smac: string;
  dmac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  ttl?: number;
  id?: number;
  payload?: string | Uint8Array;
}

export function udpFrame(s: UdpSpec): Uint8Array {
  return eth({ src: s.smac, dst: s.dmac })
    .ipv4({ src: s.src, dst: s.dst, ttl: s.ttl ?? 64, id: s.id ?? 0 })
    .udp({ sport: s.sport, dport: s.dport, payload: s.payload ?? '' })
    .build();
}

/** The frame padded to Ethernet's 60-byte minimum, as it arrives from a NIC; the director forwards without the pad. */
export function pad60(frame: Uint8Array): Uint8Array {
  if (frame.length >= 60) return frame;
  const out = new Uint8Array(60);
  out.set(frame, 0);
  return out;
}

export function arpRequest(o: { smac: string; sip: string; tip: string; dmac?: string }): Uint8Array {
  return eth({ src: o.smac, dst: o.dmac ?? 'ff:ff:ff:ff:ff:ff' })
    .arp({ op: 'request', sha: o.smac, spa: o.sip, tha: '00:00:00:00:00:00', tpa: o.tip })
    .padTo(60)
    .build();
}

export function arpReply(o: { smac: string; sip: string; dmac: string; dip: string }): Uint8Array {
  return eth({ src: o.smac, dst: o.dmac })
    .arp({ op: 'reply', sha: o.smac, spa: o.sip, tha: o.dmac, tpa: o.dip })
    .build();
}

/** The director's own ARP frames are not padded (42 bytes), as a host's stack hands them to the NIC. */
export function arpRequestFrom(o: { smac: string; sip: string; tip: string }): Uint8Array {
  return eth({ src: o.smac, dst: 'ff:ff:ff:ff:ff:ff' })
    .arp({ op: 'request', sha: o.smac, spa: o.sip, tha: '00:00:00:00:00:00', tpa: o.tip })
    .build();
}

// ---- byte lists, for frames written out byte by byte (tun-types tests) ----

/** RFC 1071 over a byte list, written out here (not src/wire's): the folded sum, not yet complemented. */
export function sum16(b: number[], init = 0): number {
  let s = init;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
/** The Internet checksum of a byte list (init: a pseudo-header's sum16). */
export const csum = (b: number[], init = 0): number => (~sum16(b, init)) & 0xffff;
export const be16 = (n: number): number[] => [n >>> 8, n & 0xff];
