// Frames for the fuzzer: valid ones aimed at a director (built with the wire
// builder: what clients, routers and real servers send it, both families),
// and mutations of them. A frame that is only noise is dropped at the first
// check, so most mutations are small and the IPv4 header checksum is often
// made right again afterwards: the deeper steps then see the damage.
import { EthernetView } from '../wire/ethernet.js';
import { Ipv4View } from '../wire/ipv4.js';
import { WIRE_OK } from '../wire/errors.js';
import { eth, type PacketBuilder } from '../wire/builder.js';
import type { Rng } from './rng.js';
import type { Target } from './topologies.js';

export interface FuzzFrame {
  port: number;
  frame: Uint8Array;
}

const TCP_FLAGS = ['S', 'S', 'A', 'PA', 'FA', 'R', 'SA', 'RA', 'F', 'U', 'SF', ''];
/** The SCTP service's port in the NAT topology (its real server's is one more). */
const SCTP_PORT = 5000;
const SCTP_CHUNKS: (string | number)[] = [
  'INIT', 'INIT', 'INIT ACK', 'COOKIE ECHO', 'COOKIE ACK', 'DATA', 'DATA', 'SACK', 'HEARTBEAT', 'ABORT', 'SHUTDOWN',
  'SHUTDOWN ACK', 'SHUTDOWN COMPLETE', 'ERROR', 64, 192, 255,
];

/** Clients: a small pool, so that connections are found again and move through their states, and now and then anyone. */
function client(rng: Rng): string {
  if (rng.chance(0.1)) return `${rng.range(1, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}`;
  return rng.chance(0.5) ? `203.0.113.${rng.range(1, 32)}` : `198.51.100.${rng.range(1, 8)}`;
}

function client6(rng: Rng): string {
  if (rng.chance(0.1)) return `2001:db8:${rng.int(0xffff).toString(16)}:${rng.int(0xffff).toString(16)}::${rng.range(1, 0xffff).toString(16)}`;
  return `2001:db8:ff::${rng.range(1, 32).toString(16)}`;
}

const cport = (rng: Rng): number => (rng.chance(0.9) ? 40000 + rng.int(64) : rng.range(0, 65535));

function payload(rng: Rng): Uint8Array {
  const r = rng.int(10);
  return r < 5 ? new Uint8Array(0) : r < 9 ? rng.bytes(rng.range(1, 200)) : rng.bytes(rng.range(1000, 1600));
}

function tcpTo(b: PacketBuilder, rng: Rng, sport: number, dport: number): Uint8Array {
  const opts = rng.chance(0.2) ? { options: rng.pick([[2, 4, 5, 0xb4], [1, 1, 4, 2], [3, 3, 7, 0], rng.bytes(4 * rng.int(4))]) } : {};
  return b.tcp({ sport, dport, flags: rng.pick(TCP_FLAGS), seq: rng.u32(), ack: rng.u32(), ...opts, payload: payload(rng) }).build();
}

/** A valid frame of one of the kinds a director meets. */
export function validFrame(rng: Rng, t: Target): FuzzFrame {
  const out = t.ports[0]!;
  const router = out.peers[0]!;
  const vip = rng.pick(t.vips);
  const svcPort = rng.pick(t.svcPorts);
  const last = t.ports.length - 1;
  const rs = rng.pick(t.rs);
  const rsPort = t.ports[last]!;
  const fromClient = () => eth({ src: router.mac, dst: rng.chance(0.97) ? out.mac : 'ff:ff:ff:ff:ff:ff' });
  const ipFlags = () => rng.pick([0, 'DF', 'DF', 'MF', 'evil']);
  const k = rng.int(24);
  switch (k) {
    case 0: case 1: case 2: case 3: // a client's TCP segment to a service
      return { port: 0, frame: tcpTo(fromClient().ipv4({ src: client(rng), dst: vip, ttl: rng.range(1, 64), flags: ipFlags() }), rng, cport(rng), svcPort) };
    case 4: // a client's UDP datagram
      return { port: 0, frame: fromClient().ipv4({ src: client(rng), dst: vip, flags: ipFlags() }).udp({ sport: cport(rng), dport: svcPort, payload: payload(rng) }).build() };
    case 5: { // a real server's reply (NAT: through the director; DR/TUN: it should not come here)
      const from = eth({ src: rs.mac, dst: rsPort.mac }).ipv4({ src: rs.addr, dst: client(rng), ttl: 64, flags: 'DF' });
      return { port: last, frame: rng.chance(0.7) ? tcpTo(from, rng, rs.port, cport(rng)) : from.udp({ sport: rs.port, dport: cport(rng), payload: payload(rng) }).build() };
    }
    case 6: // echo to a VIP or a port address
      return {
        port: 0,
        frame: fromClient().ipv4({ src: client(rng), dst: rng.chance(0.5) ? vip : out.addr, ttl: rng.range(1, 64) })
          .icmp({ type: 8, id: rng.int(65536), seq: rng.int(65536), payload: payload(rng) }).build(),
      };
    case 7: { // an ICMP error about a connection's packet, from the client's side or a real server's
      const quoted = eth().ipv4({ src: vip, dst: client(rng), ttl: 60 }).tcp({ sport: svcPort, dport: cport(rng), flags: 'SA', seq: rng.u32() }).build().subarray(14);
      const type = rng.pick([3, 3, 11, 12, 4, 5]);
      const code = type === 3 ? rng.pick([0, 1, 3, 4, 13]) : 0;
      const b = rng.chance(0.6) ? fromClient().ipv4({ src: rng.chance(0.5) ? client(rng) : router.addr, dst: vip })
        : eth({ src: rs.mac, dst: rsPort.mac }).ipv4({ src: rs.addr, dst: rng.chance(0.5) ? client(rng) : rsPort.addr });
      const icmp = b.icmp({ type, code, ...(code === 4 ? { mtu: rng.pick([68, 576, 1280, 1400, 0]) } : {}), ...(rng.chance(0.3) ? { quote: rng.int(40) } : {}) });
      return { port: rng.chance(0.6) ? 0 : last, frame: icmp.payload(quoted).build() };
    }
    case 8: { // ARP: who-has our address or a VIP, a peer's reply, a gratuitous announcement
      const p = rng.int(t.ports.length);
      const port = t.ports[p]!;
      const peer = rng.pick(port.peers);
      const op = rng.pick(['request', 'reply', 'request'] as const);
      const tpa = rng.chance(0.5) ? port.addr : rng.chance(0.5) ? vip : peer.addr;
      return {
        port: p,
        frame: eth({ src: peer.mac, dst: op === 'request' ? 'ff:ff:ff:ff:ff:ff' : port.mac })
          .arp({ op, sha: peer.mac, spa: rng.chance(0.9) ? peer.addr : client(rng), tha: op === 'reply' ? port.mac : '00:00:00:00:00:00', tpa })
          .padTo(60).build(),
      };
    }
    case 9: case 10: { // IPv4 fragments: first ones (with the ports), later ones, in any order
      const id = rng.int(16);
      const first = rng.chance(0.5);
      const b = fromClient().ipv4({ src: client(rng), dst: vip, id, flags: first || rng.chance(0.5) ? 'MF' : 0, fragOffset: first ? 0 : rng.range(1, 200), protocol: rng.chance(0.7) ? 17 : 6 });
      const frame = first
        ? b.udp({ sport: cport(rng), dport: svcPort, payload: rng.bytes(8 * rng.range(1, 100)), length: rng.range(8, 1500) }).build()
        : b.payload(rng.bytes(8 * rng.range(1, 100))).build();
      return { port: 0, frame };
    }
    case 11: // VLAN-tagged
      return { port: 0, frame: tcpTo(eth({ src: router.mac, dst: out.mac }).vlan(rng.int(4096)).ipv4({ src: client(rng), dst: vip }), rng, cport(rng), svcPort) };
    case 12: { // IP-in-IP to the director, or routed through it
      const inner = eth().ipv4({ src: client(rng), dst: vip }).udp({ sport: cport(rng), dport: svcPort, payload: payload(rng) }).build().subarray(14);
      return { port: 0, frame: fromClient().ipip({ src: router.addr, dst: rng.chance(0.5) ? out.addr : client(rng) }).payload(inner).build() };
    }
    case 13: // routed traffic (not for a VIP): to somewhere, maybe with its last TTL
      return {
        port: rng.int(t.ports.length),
        frame: tcpTo(eth({ src: rng.pick(t.ports[rng.int(t.ports.length)]!.peers).mac, dst: rng.pick(t.ports).mac })
          .ipv4({ src: rng.chance(0.5) ? rs.addr : client(rng), dst: rng.chance(0.5) ? client(rng) : rs.addr, ttl: rng.range(0, 3) }), rng, cport(rng), rng.range(1, 65535)),
      };
    case 14: case 15: // IPv6: a client's TCP or UDP to the IPv6 VIP
      return {
        port: 0,
        frame: rng.chance(0.7)
          ? tcpTo(eth({ src: router.mac, dst: out.mac }).ipv6({ src: client6(rng), dst: t.vip6, hopLimit: rng.range(1, 64) }), rng, cport(rng), svcPort)
          : eth({ src: router.mac, dst: out.mac }).ipv6({ src: client6(rng), dst: t.vip6 }).udp({ sport: cport(rng), dport: svcPort, payload: payload(rng) }).build(),
      };
    case 16: { // IPv6 with extension headers before the upper layer
      let b: PacketBuilder = eth({ src: router.mac, dst: out.mac }).ipv6({ src: client6(rng), dst: t.vip6 });
      for (let n = rng.range(1, 3); n > 0; n--) {
        const e = rng.int(4);
        if (e === 0) b = b.hopByHop({ options: rng.chance(0.5) ? [] : rng.bytes(rng.int(14)) });
        else if (e === 1) b = b.destOpts({ options: rng.bytes(rng.int(6)) });
        else if (e === 2) b = b.routing({ type: rng.pick([0, 2, 4]), segmentsLeft: rng.int(3), addresses: [t.vip6, client6(rng)] });
        else b = b.frag({ offset: rng.chance(0.7) ? 0 : rng.range(1, 100), m: rng.chance(0.5), id: rng.int(16) });
      }
      return { port: 0, frame: rng.chance(0.5) ? tcpTo(b, rng, cport(rng), svcPort) : b.udp({ sport: cport(rng), dport: svcPort, payload: payload(rng) }).build() };
    }
    case 17: { // ICMPv6: echo to the VIP or the port, neighbour solicitations and advertisements
      const e = rng.int(3);
      const peer = rng.pick(out.peers);
      if (e === 0) {
        return { port: 0, frame: eth({ src: router.mac, dst: out.mac }).ipv6({ src: client6(rng), dst: rng.chance(0.5) ? t.vip6 : out.addr6 }).icmpv6({ type: 128, id: rng.int(65536), seq: rng.int(65536), payload: payload(rng) }).build() };
      }
      const target6 = rng.chance(0.5) ? t.vip6 : out.addr6;
      if (e === 1) {
        return {
          port: 0,
          frame: eth({ src: peer.mac, dst: rng.chance(0.5) ? out.mac : '33:33:ff:00:00:01' }).ipv6({ src: peer.addr6, dst: rng.chance(0.5) ? target6 : 'ff02::1:ff00:1', hopLimit: 255 })
            .icmpv6({ type: 135, target: target6, options: rng.chance(0.8) ? [{ sll: peer.mac }] : [] }).build(),
        };
      }
      return {
        port: 0,
        frame: eth({ src: peer.mac, dst: out.mac }).ipv6({ src: peer.addr6, dst: out.addr6, hopLimit: 255 })
          .icmpv6({ type: 136, target: peer.addr6, flags: rng.pick(['SO', 'S', 'RSO', '']), options: [{ tll: peer.mac }] }).build(),
      };
    }
    case 18: { // an ICMPv6 error quoting a connection's packet
      const quoted = eth().ipv6({ src: t.vip6, dst: client6(rng) }).tcp({ sport: svcPort, dport: cport(rng), flags: 'SA' }).build().subarray(14);
      return {
        port: 0,
        frame: eth({ src: router.mac, dst: out.mac }).ipv6({ src: client6(rng), dst: t.vip6 })
          .icmpv6({ type: rng.pick([1, 2, 3, 4]), code: rng.int(5), ...(rng.chance(0.5) ? { mtu: rng.pick([1280, 1500, 0]) } : {}) }).payload(quoted).build(),
      };
    }
    case 19: { // a NAT real server's IPv6 reply
      const from = eth({ src: rs.mac, dst: rsPort.mac }).ipv6({ src: rs.addr6, dst: client6(rng) });
      return { port: last, frame: tcpTo(from, rng, rs.port === 53 ? 53 : 80, cport(rng)) };
    }
    case 20: // another ethertype, or an Ethernet header and nothing much after it
      return { port: rng.int(t.ports.length), frame: eth({ src: router.mac, dst: out.mac, type: rng.pick([0x88cc, 0x8100, 0x0806, 0x0800, 0x86dd, 0x88a8, rng.int(65536)]) }).payload(rng.bytes(rng.int(64))).build() };
    case 21: { // SCTP: chunks of an association, to the SCTP service or from its real server, CRC right or wrong; else GRE, ESP, ...
      if (rng.chance(0.4)) {
        return { port: 0, frame: fromClient().ipv4({ src: client(rng), dst: vip, protocol: rng.pick([132, 47, 50, 112, 255]) }).payload(rng.bytes(rng.range(0, 64))).build() };
      }
      const chunks = Array.from({ length: rng.range(0, 3) }, () => ({ type: rng.pick(SCTP_CHUNKS), data: rng.bytes(rng.int(40)) }));
      const crc = rng.chance(0.8) ? {} : { checksum: rng.u32() };
      const vtag = rng.chance(0.3) ? 0 : rng.u32();
      if (rng.chance(0.6)) {
        return { port: 0, frame: fromClient().ipv4({ src: client(rng), dst: vip, flags: ipFlags() }).sctp({ sport: cport(rng), dport: SCTP_PORT, vtag, chunks, ...crc }).build() };
      }
      const from = eth({ src: rs.mac, dst: rsPort.mac }).ipv4({ src: rs.addr, dst: client(rng), ttl: 64, flags: 'DF' });
      return { port: last, frame: from.sctp({ sport: SCTP_PORT + 1, dport: cport(rng), vtag, chunks, ...crc }).build() };
    }
    default: // the commonest case again: established traffic of the small client pool
      return { port: 0, frame: tcpTo(fromClient().ipv4({ src: `203.0.113.${rng.range(1, 4)}`, dst: t.vips[0]!, flags: 'DF' }), rng, 40000 + rng.int(4), t.svcPorts[0]!) };
  }
}

const INTERESTING8 = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x45, 0x46, 0x4f, 0x60, 5, 6, 17, 58, 41, 4, 0x11];
const INTERESTING16 = [0, 1, 0xffff, 0x7fff, 0x8000, 0x0800, 0x86dd, 0x0806, 0x8100, 20, 40, 60, 576, 1280, 1500, 9000, 65535];

const ethv = new EthernetView();
const ipv = new Ipv4View();

/** One to four damages to a copy of `f`: bits, bytes, 16-bit fields, lengths, splices. */
export function mutate(rng: Rng, f: Uint8Array, other: () => Uint8Array): Uint8Array {
  let b: Uint8Array = f.slice();
  for (let n = rng.range(1, 4); n > 0; n--) {
    const m = rng.int(10);
    // aim most damage at the headers, where the parsing is
    const at = () => (b.length === 0 ? 0 : rng.chance(0.8) ? rng.int(Math.min(b.length, 80)) : rng.int(b.length));
    if (b.length === 0 && m < 6) continue;
    switch (m) {
      case 0: case 1: { const i = at(); b[i]! ^= 1 << rng.int(8); break; }
      case 2: { b[at()] = rng.pick(INTERESTING8); break; }
      case 3: {
        const i = at() & ~1;
        if (i + 1 < b.length) {
          const v = rng.chance(0.7) ? rng.pick(INTERESTING16) : (b.length + rng.range(-20, 20)) & 0xffff;
          b[i] = v >> 8;
          b[i + 1] = v & 0xff;
        }
        break;
      }
      case 4: { b[at()] = rng.int(256); break; }
      case 5: { const i = at(); for (let j = i; j < Math.min(b.length, i + rng.range(2, 16)); j++) b[j] = rng.int(256); break; }
      case 6: b = b.slice(0, rng.int(b.length + 1)); break; // truncated
      case 7: { // longer: random or repeated tail
        const extra = rng.chance(0.5) ? rng.bytes(rng.range(1, 64)) : b.slice(rng.int(b.length + 1));
        const c = new Uint8Array(b.length + extra.length);
        c.set(b);
        c.set(extra, b.length);
        b = c;
        break;
      }
      case 8: { // a slice removed from the middle
        const i = rng.int(b.length + 1);
        const j = Math.min(b.length, i + rng.range(1, 24));
        const c = new Uint8Array(b.length - (j - i));
        c.set(b.subarray(0, i));
        c.set(b.subarray(j), i);
        b = c;
        break;
      }
      default: { // the head of this frame, the tail of another
        const o = other();
        const i = rng.int(Math.min(b.length, 80) + 1);
        const j = rng.int(o.length + 1);
        const c = new Uint8Array(i + o.length - j);
        c.set(b.subarray(0, i));
        c.set(o.subarray(j), i);
        b = c;
      }
    }
  }
  // an IPv4 header that still parses gets its checksum made right again, most of the time
  if (rng.chance(0.7)) fixIpv4Checksum(b);
  return b;
}

function fixIpv4Checksum(b: Uint8Array): void {
  if (ethv.wrap(b, 0, b.length) !== WIRE_OK || ethv.etherType !== 0x0800) return;
  const off = ethv.payloadOffset;
  if (ipv.wrap(b, off, b.length - off) === WIRE_OK) ipv.fillChecksum();
}

/**
 * Valid frames to start from. Building one with the wire builder costs more
 * than a director takes to handle it, so a pool is kept and one slot in ten
 * draws is rebuilt: the frames stay varied, the run stays fast.
 */
export class FramePool {
  private readonly pool: FuzzFrame[] = [];

  constructor(private readonly rng: Rng, private readonly t: Target, size = 4096) {
    for (let i = 0; i < size; i++) this.pool.push(validFrame(rng, t));
  }

  draw(): FuzzFrame {
    const i = this.rng.int(this.pool.length);
    if (this.rng.chance(0.1)) this.pool[i] = validFrame(this.rng, this.t);
    return this.pool[i]!;
  }

  /** The next frame of a fuzz run: valid, mutated, or noise. */
  next(): FuzzFrame {
    const rng = this.rng;
    const t = this.t;
    const r = rng.int(100);
    if (r < 30) return this.draw();
    if (r < 95) {
      const v = this.draw();
      return { port: v.port, frame: mutate(rng, v.frame, () => this.draw().frame) };
    }
    // noise: random bytes, mostly addressed to a port so that they get past the MAC check
    const p = rng.int(t.ports.length);
    const noise = rng.bytes(rng.int(10) === 0 ? rng.range(1500, 9300) : rng.range(0, 128));
    if (noise.length >= 6 && rng.chance(0.8)) {
      const mac = t.ports[p]!.mac.split(':').map((x) => parseInt(x, 16));
      noise.set(mac, 0);
    }
    return { port: p, frame: noise };
  }
}
