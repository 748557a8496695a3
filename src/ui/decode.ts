// Frames as the browser view shows them: layer by layer, one row per header
// field, and what changed between the frame the director received and the
// frame it sent. Read through the wire views (never by byte offset here);
// allocates strings, so it runs only when a page asks for a packet walk.
import { ipToString, macToString } from '../wire/addr.js';
import { ip6BytesToString } from '../wire/addr6.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ArpView } from '../wire/arp.js';
import { WIRE_OK } from '../wire/errors.js';
import { EthernetView, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import { tcpChecksumOk6, udpChecksumOk6 } from '../wire/checksum6.js';
import { IcmpView } from '../wire/icmp.js';
import {
  ICMPV6_DEST_UNREACH, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_PACKET_TOO_BIG, ICMPV6_PARAM_PROBLEM, ICMPV6_TIME_EXCEEDED, Icmpv6View,
} from '../wire/icmpv6.js';
import { IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipproto.js';
import { Ipv4View } from '../wire/ipv4.js';
import { Ipv6Headers, Ipv6View, NEXTHDR_ICMP, NEXTHDR_IPV6, NEXTHDR_TCP, NEXTHDR_UDP } from '../wire/ipv6.js';
import { formatFrameLine } from '../wire/printer.js';
import { SctpChunkWalker, sctpChunkName, SctpView } from '../wire/sctp.js';
import { tcpFlagsString, TcpView } from '../wire/tcp.js';
import { UdpView } from '../wire/udp.js';

/** One header field: `id` is stable (the page and the diff key on it), `name` is what a reader sees. */
export interface Field {
  id: string;
  name: string;
  value: string;
  /** Set by diffFrames on a sent frame's field whose value differs from the received one. */
  changed?: 'rewrite' | 'hop';
  /** The received frame's value, when changed. */
  before?: string;
}

export interface Layer {
  /**
   * eth, arp, ip-outer, ip, tcp, udp, icmp, icmpv6, payload: how layers of two frames are matched. IPv4
   * and IPv6 headers are both `ip` (`ip-outer` for a tunnel's), so a walk reads either the same way.
   */
  id: string;
  name: string;
  fields: Field[];
  /** Set by diffFrames on a layer the received frame did not have (TUN's outer header). */
  added?: boolean;
}

export interface DecodedFrame {
  len: number;
  /** The frame as one line of the text trace. */
  summary: string;
  layers: Layer[];
}

/** The innermost transport endpoints of a frame: how a frame is tied to a connection. */
export interface Endpoints {
  /** ICMP for ICMPv6 too (the hub ties an error to nothing by its endpoints). */
  proto: 'TCP' | 'UDP' | 'ICMP' | 'SCTP';
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

const hex4 = (n: number): string => '0x' + n.toString(16).padStart(4, '0');
const f = (id: string, name: string, value: string | number): Field => ({ id, name, value: String(value) });

function etherTypeText(t: number): string {
  if (t === ETHERTYPE_IPV4) return 'IPv4 (0x0800)';
  if (t === ETHERTYPE_ARP) return 'ARP (0x0806)';
  if (t === ETHERTYPE_IPV6) return 'IPv6 (0x86dd)';
  return hex4(t);
}

function protoText(p: number): string {
  switch (p) {
    case IPPROTO_TCP: return 'TCP (6)';
    case IPPROTO_UDP: return 'UDP (17)';
    case IPPROTO_ICMP: return 'ICMP (1)';
    case IPPROTO_IPIP: return 'IPIP (4)';
    case IPPROTO_SCTP: return 'SCTP (132)';
    default: return String(p);
  }
}

/** Decodes a whole Ethernet frame into layers. Never throws: a layer it cannot read ends the list with a note. */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const layers: Layer[] = [];
  const out: DecodedFrame = { len: bytes.length, summary: formatFrameLine(bytes), layers };
  const eth = new EthernetView();
  if (eth.wrap(bytes, 0, bytes.length) !== WIRE_OK) {
    layers.push({ id: 'payload', name: 'Unreadable', fields: [f('len', 'length', `${bytes.length} bytes`)] });
    return out;
  }
  const type = eth.innerEtherType;
  layers.push({
    id: 'eth', name: 'Ethernet',
    fields: [f('dst', 'destination MAC', macToString(eth.dst)), f('src', 'source MAC', macToString(eth.src)), f('type', 'type', etherTypeText(type))],
  });
  if (type === ETHERTYPE_IPV4) decodeIpv4(bytes, eth.payloadOffset, eth.payloadLength, layers, false);
  else if (type === ETHERTYPE_IPV6) decodeIpv6(bytes, eth.payloadOffset, eth.payloadLength, layers, false);
  else if (type === ETHERTYPE_ARP) decodeArp(bytes, eth.payloadOffset, eth.payloadLength, layers);
  else if (eth.payloadLength > 0) layers.push({ id: 'payload', name: 'Payload', fields: [f('len', 'length', `${eth.payloadLength} bytes`)] });
  return out;
}

function decodeArp(buf: Uint8Array, off: number, len: number, layers: Layer[]): void {
  const arp = new ArpView();
  if (arp.wrap(buf, off, len) !== WIRE_OK) {
    layers.push({ id: 'arp', name: 'ARP', fields: [f('bad', 'unreadable', `${len} bytes`)] });
    return;
  }
  const op = arp.op === ARP_OP_REQUEST ? 'request (1)' : arp.op === ARP_OP_REPLY ? 'reply (2)' : String(arp.op);
  layers.push({
    id: 'arp', name: 'ARP',
    fields: [
      f('op', 'operation', op),
      f('sha', 'sender MAC', macToString(arp.sha)), f('spa', 'sender IP', ipToString(arp.spa)),
      f('tha', 'target MAC', macToString(arp.tha)), f('tpa', 'target IP', ipToString(arp.tpa)),
    ],
  });
}

function decodeIpv4(buf: Uint8Array, off: number, len: number, layers: Layer[], inner: boolean): void {
  const ip = new Ipv4View();
  if (ip.wrap(buf, off, len) !== WIRE_OK) {
    layers.push({ id: inner ? 'ip' : 'ip', name: 'IPv4', fields: [f('bad', 'unreadable', `${len} bytes`)] });
    return;
  }
  const outer = !inner && ip.protocol === IPPROTO_IPIP;
  layers.push({
    id: outer ? 'ip-outer' : 'ip',
    name: outer ? 'IPv4, outer (IP-in-IP)' : inner ? 'IPv4, inner' : 'IPv4',
    fields: [
      f('src', 'source address', ipToString(ip.src)),
      f('dst', 'destination address', ipToString(ip.dst)),
      f('ttl', 'TTL', ip.ttl),
      f('proto', 'protocol', protoText(ip.protocol)),
      f('id', 'identification', ip.id),
      f('df', "don't fragment", ip.df ? 'set' : 'clear'),
      f('len', 'total length', ip.totalLength),
      f('tos', 'TOS', hex4(ip.tos).replace('0x00', '0x')),
      f('checksum', 'header checksum', `${hex4(ip.checksum)} (${ip.checksumOk() ? 'ok' : 'bad'})`),
    ],
  });
  if (ip.fragOffset !== 0) {
    layers.push({ id: 'payload', name: 'Fragment', fields: [f('len', 'data', `${ip.payloadLength} bytes`)] });
    return;
  }
  const p = ip.payloadOffset;
  const n = ip.payloadLength;
  const whole = !ip.mf;
  switch (ip.protocol) {
    case IPPROTO_TCP: {
      const tcp = new TcpView();
      if (tcp.wrap(buf, p, n) !== WIRE_OK) break;
      const sum = whole ? (tcp.checksumOk(ip.src, ip.dst) ? 'ok' : 'bad') : 'fragment';
      layers.push(tcpLayer(tcp, sum));
      return;
    }
    case IPPROTO_UDP: {
      const udp = new UdpView();
      if ((whole ? udp.wrap(buf, p, n) : udp.wrapHeader(buf, p, n)) !== WIRE_OK) break;
      const sum = !udp.hasChecksum ? 'none' : !whole ? 'fragment' : udp.checksumOk(ip.src, ip.dst) ? 'ok' : 'bad';
      layers.push(udpLayer(udp, sum));
      return;
    }
    case IPPROTO_ICMP: {
      const icmp = new IcmpView();
      if (icmp.wrap(buf, p, n) !== WIRE_OK) break;
      const fields = [f('type', 'type', icmp.type), f('code', 'code', icmp.code)];
      if (icmp.isEcho) fields.push(f('id', 'identifier', icmp.id), f('seq', 'sequence', icmp.seq));
      if (icmp.isError && icmp.embeddedComplete) {
        fields.push(f('quoted', 'quoted packet',
          `${ipToString(icmp.embeddedSrc)}:${icmp.embeddedSport} > ${ipToString(icmp.embeddedDst)}:${icmp.embeddedDport}`));
      }
      fields.push(f('checksum', 'checksum', `${hex4(icmp.checksum)} (${icmp.checksumOk() ? 'ok' : 'bad'})`));
      layers.push({ id: 'icmp', name: 'ICMP', fields });
      return;
    }
    case IPPROTO_SCTP:
      if (sctpLayer(buf, p, n, whole, layers)) return;
      break;
    case IPPROTO_IPIP:
      if (!inner) {
        decodeIpv4(buf, p, n, layers, true);
        return;
      }
      break;
    default:
      break;
  }
  if (n > 0) layers.push({ id: 'payload', name: 'Payload', fields: [f('len', 'length', `${n} bytes`)] });
}

/**
 * SCTP: ports, verification tag, the CRC32c and whether it is right (no
 * pseudo-header: the same over IPv4 and IPv6), and the chunks by name.
 */
function sctpLayer(buf: Uint8Array, p: number, n: number, whole: boolean, layers: Layer[]): boolean {
  const v = new SctpView();
  if (v.wrap(buf, p, n) !== WIRE_OK) return false;
  const w = new SctpChunkWalker();
  w.reset(v);
  const names: string[] = [];
  while (w.next()) names.push(sctpChunkName(w.type));
  if (w.rc !== WIRE_OK && names.length > 0) names.push('(bad chunk)');
  const sum = !whole ? 'fragment' : v.crcOk() ? 'ok' : 'bad';
  layers.push({
    id: 'sctp', name: 'SCTP',
    fields: [
      f('sport', 'source port', v.sport), f('dport', 'destination port', v.dport),
      f('vtag', 'verification tag', '0x' + v.vtag.toString(16).padStart(8, '0')),
      f('checksum', 'CRC32c', `0x${v.storedCrc.toString(16).padStart(8, '0')} (${sum})`),
      f('chunks', 'chunks', names.length > 0 ? names.join(', ') : 'none'),
    ],
  });
  return true;
}

function nextHeaderText(p: number): string {
  switch (p) {
    case NEXTHDR_TCP: return 'TCP (6)';
    case NEXTHDR_UDP: return 'UDP (17)';
    case IPPROTO_SCTP: return 'SCTP (132)';
    case NEXTHDR_ICMP: return 'ICMPv6 (58)';
    case NEXTHDR_IPV6: return 'IPv6 (41)';
    case 0: return 'hop-by-hop options (0)';
    case 43: return 'routing (43)';
    case 44: return 'fragment (44)';
    case 60: return 'destination options (60)';
    case 59: return 'none (59)';
    default: return String(p);
  }
}

const hex = (n: number, digits: number): string => '0x' + n.toString(16).padStart(digits, '0');

/** [addr]:port, as ipvsadm writes an IPv6 address with a port. */
const at6 = (addr: string, port: number): string => `[${addr}]:${port}`;

function icmpv6TypeText(t: number): string {
  switch (t) {
    case ICMPV6_DEST_UNREACH: return 'destination unreachable (1)';
    case ICMPV6_PACKET_TOO_BIG: return 'packet too big (2)';
    case ICMPV6_TIME_EXCEEDED: return 'time exceeded (3)';
    case ICMPV6_PARAM_PROBLEM: return 'parameter problem (4)';
    case ICMPV6_ECHO_REQUEST: return 'echo request (128)';
    case ICMPV6_ECHO_REPLY: return 'echo reply (129)';
    case ICMPV6_NEIGHBOR_SOLICIT: return 'neighbour solicitation (135)';
    case ICMPV6_NEIGHBOR_ADVERT: return 'neighbour advertisement (136)';
    default: return String(t);
  }
}

/**
 * An IPv6 packet: the fixed header (its extension headers named in one
 * field), then the upper layer; through one IPv6-in-IPv6 header, as TUN
 * sends it (the outer header is `ip-outer`, the packet inside `ip`).
 */
function decodeIpv6(buf: Uint8Array, off: number, len: number, layers: Layer[], inner: boolean): void {
  const ip = new Ipv6View();
  const x = new Ipv6Headers();
  if (ip.wrap(buf, off, len) !== WIRE_OK) {
    layers.push({ id: 'ip', name: 'IPv6', fields: [f('bad', 'unreadable', `${len} bytes`)] });
    return;
  }
  const walked = x.walk(ip) === WIRE_OK;
  const outer = !inner && walked && x.upperProtocol === NEXTHDR_IPV6 && !x.isLaterFragment;
  const fields = [
    f('src', 'source address', ip6BytesToString(buf, ip.srcOffset)),
    f('dst', 'destination address', ip6BytesToString(buf, ip.dstOffset)),
    f('hlim', 'hop limit', ip.hopLimit),
    f('nxt', 'next header', nextHeaderText(ip.nextHeader)),
    f('plen', 'payload length', ip.payloadLength),
    f('tc', 'traffic class', hex(ip.trafficClass, 2)),
    f('flow', 'flow label', hex(ip.flowLabel, 5)),
  ];
  if (walked && x.extLength > 0) fields.push(f('ext', 'extension headers', `${x.extLength} bytes, then ${nextHeaderText(x.upperProtocol)}`));
  layers.push({ id: outer ? 'ip-outer' : 'ip', name: outer ? 'IPv6, outer (IPv6-in-IPv6)' : inner ? 'IPv6, inner' : 'IPv6', fields });
  if (!walked) {
    layers.push({ id: 'payload', name: 'Payload', fields: [f('len', 'extension headers', 'unreadable')] });
    return;
  }
  if (x.isLaterFragment) {
    layers.push({ id: 'payload', name: 'Fragment', fields: [f('len', 'data', `${x.upperLength} bytes`)] });
    return;
  }
  const p = x.upperOffset;
  const n = x.upperLength;
  const whole = !x.isFragment;
  const addrSum = x.pseudoAddrSum();
  switch (x.upperProtocol) {
    case NEXTHDR_TCP: {
      const tcp = new TcpView();
      if (tcp.wrap(buf, p, n) !== WIRE_OK) break;
      const sum = whole ? (tcpChecksumOk6(tcp, addrSum) ? 'ok' : 'bad') : 'fragment';
      layers.push(tcpLayer(tcp, sum));
      return;
    }
    case IPPROTO_SCTP:
      if (sctpLayer(buf, p, n, whole, layers)) return;
      break;
    case NEXTHDR_UDP: {
      const udp = new UdpView();
      if ((whole ? udp.wrap(buf, p, n) : udp.wrapHeader(buf, p, n)) !== WIRE_OK) break;
      // over IPv6 a zero checksum is not "none" but invalid
      const sum = !whole ? 'fragment' : udpChecksumOk6(udp, addrSum) ? 'ok' : 'bad';
      layers.push(udpLayer(udp, sum));
      return;
    }
    case NEXTHDR_ICMP: {
      const icmp = new Icmpv6View();
      if (icmp.wrap(buf, p, n) !== WIRE_OK) break;
      layers.push({ id: 'icmpv6', name: 'ICMPv6', fields: icmpv6Fields(icmp, addrSum) });
      return;
    }
    case NEXTHDR_IPV6:
      if (outer) {
        decodeIpv6(buf, p, n, layers, true);
        return;
      }
      break;
    default:
      break;
  }
  if (n > 0) layers.push({ id: 'payload', name: 'Payload', fields: [f('len', 'length', `${n} bytes`)] });
}

/** ICMPv6 fields by type: echo's id and sequence; ND's target, flags and link-layer options; an error's MTU and quoted packet. */
function icmpv6Fields(icmp: Icmpv6View, addrSum: number): Field[] {
  const t = icmp.type;
  const fields = [f('type', 'type', icmpv6TypeText(t)), f('code', 'code', icmp.code)];
  if (icmp.isEcho) fields.push(f('id', 'identifier', icmp.id), f('seq', 'sequence', icmp.seq));
  if (t === ICMPV6_NEIGHBOR_SOLICIT || t === ICMPV6_NEIGHBOR_ADVERT) {
    fields.push(f('target', 'target address', ip6BytesToString(icmp.buf, icmp.targetOffset)));
    if (t === ICMPV6_NEIGHBOR_ADVERT) {
      const fl = [icmp.routerFlag ? 'router' : '', icmp.solicitedFlag ? 'solicited' : '', icmp.overrideFlag ? 'override' : ''].filter((z) => z);
      fields.push(f('naflags', 'flags', fl.length ? fl.join(', ') : 'none'));
    }
    const sll = icmp.sourceLinkAddr;
    const tll = icmp.targetLinkAddr;
    if (sll >= 0) fields.push(f('sll', 'option: source link-layer address', macToString(sll)));
    if (tll >= 0) fields.push(f('tll', 'option: target link-layer address', macToString(tll)));
  }
  if (t === ICMPV6_PACKET_TOO_BIG) fields.push(f('mtu', 'MTU', icmp.mtu));
  if (t === ICMPV6_PARAM_PROBLEM) fields.push(f('pointer', 'pointer', icmp.pointer));
  if (icmp.isError) {
    fields.push(f('qlen', 'quoted bytes', icmp.embeddedLength));
    if (icmp.embeddedComplete) {
      const src = ip6BytesToString(icmp.buf, icmp.embeddedSrcOffset);
      const dst = ip6BytesToString(icmp.buf, icmp.embeddedDstOffset);
      const proto = icmp.embeddedProtocol;
      const ports = proto === NEXTHDR_TCP || proto === NEXTHDR_UDP;
      fields.push(f('quoted', 'quoted packet', ports
        ? `${proto === NEXTHDR_TCP ? 'TCP' : 'UDP'} ${at6(src, icmp.embeddedSport)} > ${at6(dst, icmp.embeddedDport)}`
        : `${src} > ${dst} (${nextHeaderText(proto)})`));
      // the quoted segment's own checksum, when the quote holds it (NAT rewrites it with the quoted address and port)
      const q = icmp.embeddedTransportOffset;
      const qEnd = icmp.off + icmp.len;
      if (proto === NEXTHDR_TCP) {
        const tcp = new TcpView();
        if (tcp.wrap(icmp.buf, q, qEnd - q) === WIRE_OK) fields.push(f('qsum', 'quoted TCP checksum', hex4(tcp.checksum)));
      } else if (proto === NEXTHDR_UDP) {
        const udp = new UdpView();
        if (udp.wrapHeader(icmp.buf, q, qEnd - q) === WIRE_OK) fields.push(f('qsum', 'quoted UDP checksum', hex4(udp.checksum)));
      }
    }
  }
  fields.push(f('checksum', 'checksum', `${hex4(icmp.checksum)} (${icmp.checksumOk(addrSum) ? 'ok' : 'bad'})`));
  return fields;
}

/**
 * The innermost TCP/UDP/ICMP endpoints (through one IP-in-IP header), or
 * null for ARP and anything unreadable. Views only: cheap enough to run for
 * every traced frame that no connection event names.
 */
export function endpointsOf(bytes: Uint8Array): Endpoints | null {
  const eth = new EthernetView();
  if (eth.wrap(bytes, 0, bytes.length) !== WIRE_OK) return null;
  if (eth.innerEtherType === ETHERTYPE_IPV6) return endpointsOf6(bytes, eth.payloadOffset, eth.payloadLength);
  if (eth.innerEtherType !== ETHERTYPE_IPV4) return null;
  const ip = new Ipv4View();
  if (ip.wrap(bytes, eth.payloadOffset, eth.payloadLength) !== WIRE_OK) return null;
  if (ip.protocol === IPPROTO_IPIP && ip.fragOffset === 0) {
    const outerOff = ip.payloadOffset;
    const outerLen = ip.payloadLength;
    if (ip.wrap(bytes, outerOff, outerLen) !== WIRE_OK) return null;
  }
  const src = ipToString(ip.src);
  const dst = ipToString(ip.dst);
  if (ip.fragOffset !== 0) return null;
  if (ip.protocol === IPPROTO_TCP) {
    const t = new TcpView();
    return t.wrap(bytes, ip.payloadOffset, ip.payloadLength) === WIRE_OK ? { proto: 'TCP', src, sport: t.sport, dst, dport: t.dport } : null;
  }
  if (ip.protocol === IPPROTO_UDP) {
    const u = new UdpView();
    return u.wrapHeader(bytes, ip.payloadOffset, ip.payloadLength) === WIRE_OK ? { proto: 'UDP', src, sport: u.sport, dst, dport: u.dport } : null;
  }
  if (ip.protocol === IPPROTO_ICMP) return { proto: 'ICMP', src, sport: 0, dst, dport: 0 };
  if (ip.protocol === IPPROTO_SCTP) {
    const v = new SctpView();
    return v.wrap(bytes, ip.payloadOffset, ip.payloadLength) === WIRE_OK ? { proto: 'SCTP', src, sport: v.sport, dst, dport: v.dport } : null;
  }
  return null;
}

/** endpointsOf for an IPv6 packet, through one IPv6-in-IPv6 header and the extension headers. */
function endpointsOf6(bytes: Uint8Array, off: number, len: number): Endpoints | null {
  const ip = new Ipv6View();
  const x = new Ipv6Headers();
  if (ip.wrap(bytes, off, len) !== WIRE_OK || x.walk(ip) !== WIRE_OK) return null;
  if (x.upperProtocol === NEXTHDR_IPV6 && !x.isLaterFragment) {
    if (ip.wrap(bytes, x.upperOffset, x.upperLength) !== WIRE_OK || x.walk(ip) !== WIRE_OK) return null;
  }
  if (x.isLaterFragment) return null;
  const src = ip6BytesToString(bytes, ip.srcOffset);
  const dst = ip6BytesToString(bytes, ip.dstOffset);
  if (x.upperProtocol === NEXTHDR_TCP) {
    const t = new TcpView();
    return t.wrap(bytes, x.upperOffset, x.upperLength) === WIRE_OK ? { proto: 'TCP', src, sport: t.sport, dst, dport: t.dport } : null;
  }
  if (x.upperProtocol === NEXTHDR_UDP) {
    const u = new UdpView();
    return u.wrapHeader(bytes, x.upperOffset, x.upperLength) === WIRE_OK ? { proto: 'UDP', src, sport: u.sport, dst, dport: u.dport } : null;
  }
  if (x.upperProtocol === NEXTHDR_ICMP) return { proto: 'ICMP', src, sport: 0, dst, dport: 0 };
  if (x.upperProtocol === IPPROTO_SCTP) {
    const v = new SctpView();
    return v.wrap(bytes, x.upperOffset, x.upperLength) === WIRE_OK ? { proto: 'SCTP', src, sport: v.sport, dst, dport: v.dport } : null;
  }
  return null;
}

/** Which way a frame went through the director: to a real server, or back to the client (NAT replies). */
export type Direction = 'to-real-server' | 'to-client' | 'other';

/**
 * Marks what changed from `before` (received) to `after` (sent), in place on
 * `after`: fields whose value differs get `changed` and `before`, layers the
 * received frame lacked get `added`. A change is a 'rewrite' when it is the
 * forwarding method's work, a 'hop' when any router would make it (the new
 * sender's MAC, the TTL and the header checksum that follows it): that is
 * what lets the page say "DR changes only the destination MAC".
 */
export function diffFrames(before: DecodedFrame, after: DecodedFrame, mode: string, dir: Direction): DecodedFrame {
  const byId = new Map(before.layers.map((l) => [l.id, l]));
  for (const layer of after.layers) {
    const old = byId.get(layer.id);
    if (!old) {
      layer.added = true;
      continue;
    }
    const oldFields = new Map(old.fields.map((x) => [x.id, x.value]));
    for (const fl of layer.fields) {
      const was = oldFields.get(fl.id);
      if (was === undefined || was === fl.value) continue;
      fl.before = was;
      fl.changed = classify(layer.id, fl.id, mode, dir);
    }
    // the IP header checksum follows whatever else changed in its header
    const sum = layer.fields.find((x) => x.id === 'checksum');
    if (layer.id.startsWith('ip') && sum?.changed) {
      const rewritten = layer.fields.some((x) => x.id !== 'checksum' && x.changed === 'rewrite');
      sum.changed = rewritten ? 'rewrite' : 'hop';
    }
  }
  return after;
}

function classify(layer: string, field: string, mode: string, dir: Direction): 'rewrite' | 'hop' {
  if (layer === 'eth') {
    // in DR the destination MAC is the whole rewrite; otherwise MACs change as on any routed hop
    return field === 'dst' && mode === 'DR' && dir === 'to-real-server' ? 'rewrite' : 'hop';
  }
  if (layer.startsWith('ip') && (field === 'ttl' || field === 'hlim')) return 'hop';
  return 'rewrite';
}

/** The TCP layer of either family; `sum`: what its checksum is ('ok', 'bad', 'fragment'). */
function tcpLayer(tcp: TcpView, sum: string): Layer {
  return {
    id: 'tcp', name: 'TCP',
    fields: [
      f('sport', 'source port', tcp.sport), f('dport', 'destination port', tcp.dport),
      f('flags', 'flags', `[${tcpFlagsString(tcp.flags)}]`), f('seq', 'sequence', tcp.seq), f('ack', 'acknowledgement', tcp.ack),
      f('window', 'window', tcp.window), f('checksum', 'checksum', `${hex4(tcp.checksum)} (${sum})`),
      f('data', 'payload', `${tcp.payloadLength} bytes`),
    ],
  };
}

/** The UDP layer of either family, `sum` as for tcpLayer (or 'none'). */
function udpLayer(udp: UdpView, sum: string): Layer {
  return {
    id: 'udp', name: 'UDP',
    fields: [
      f('sport', 'source port', udp.sport), f('dport', 'destination port', udp.dport),
      f('len', 'length', udp.length), f('checksum', 'checksum', `${hex4(udp.checksum)} (${sum})`),
    ],
  };
}
