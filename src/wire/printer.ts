// Readable, tcpdump-like rendering of a frame: one line per layer. Used by
// tracing and tests; it allocates (strings), so keep it off the data path.

import { ipToString, macToString } from './addr.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ArpView } from './arp.js';
import { get16 } from './bytes.js';
import { WIRE_OK, wireErrorName } from './errors.js';
import { EthernetView, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethernet.js';
import {
  ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_FRAG_NEEDED, ICMP_PARAM_PROBLEM,
  ICMP_REDIRECT, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, IcmpView,
} from './icmp.js';
import { Ipv4View } from './ipv4.js';
import { tcpFlagsString, TcpView } from './tcp.js';
import { UdpView } from './udp.js';

const INDENT = '  ';

function hex4(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}

function cksum(ok: boolean, expected: number): string {
  return ok ? 'cksum ok' : `cksum BAD (expected ${hex4(expected)})`;
}

function etherTypeName(t: number): string {
  switch (t) {
    case ETHERTYPE_IPV4: return 'IPv4';
    case ETHERTYPE_ARP: return 'ARP';
    case ETHERTYPE_IPV6: return 'IPv6';
    default: return hex4(t);
  }
}

function protoName(p: number): string {
  switch (p) {
    case 1: return 'ICMP';
    case 4: return 'IPIP';
    case 6: return 'TCP';
    case 17: return 'UDP';
    default: return `proto-${p}`;
  }
}

const UNREACH_CODES = [
  'net', 'host', 'protocol', 'port', 'frag-needed', 'srcroute-failed', 'net-unknown', 'host-unknown',
  'host-isolated', 'net-prohibited', 'host-prohibited', 'net-tos', 'host-tos', 'admin-prohibited',
  'host-precedence', 'precedence-cutoff',
];

function icmpTypeName(type: number, code: number): string {
  switch (type) {
    case ICMP_ECHO_REPLY: return 'echo reply';
    case ICMP_ECHO_REQUEST: return 'echo request';
    case ICMP_DEST_UNREACH: return `unreachable ${UNREACH_CODES[code] ?? `code ${code}`}`;
    case ICMP_SOURCE_QUENCH: return 'source quench';
    case ICMP_REDIRECT: return `redirect code ${code}`;
    case ICMP_TIME_EXCEEDED: return code === 0 ? 'time exceeded ttl' : code === 1 ? 'time exceeded reassembly' : `time exceeded code ${code}`;
    case ICMP_PARAM_PROBLEM: return `param problem code ${code}`;
    default: return `type ${type} code ${code}`;
  }
}

/** One line per layer, starting with the Ethernet header. */
export function formatFrame(buf: Uint8Array, off = 0, len = buf.length - off): string[] {
  const lines: string[] = [];
  const eth = new EthernetView();
  const rc = eth.wrap(buf, off, len);
  if (rc !== WIRE_OK) {
    lines.push(`eth ${wireErrorName(rc)} (${len} bytes)`);
    return lines;
  }
  const type = eth.innerEtherType;
  const vlan = eth.hasVlan ? ` vlan ${eth.vlanId}${eth.vlanPcp ? ` pcp ${eth.vlanPcp}` : ''}` : '';
  lines.push(`eth ${macToString(eth.src)} > ${macToString(eth.dst)}${vlan} ${etherTypeName(type)} len ${len}`);
  if (type === ETHERTYPE_IPV4) formatIpv4Into(lines, buf, eth.payloadOffset, eth.payloadLength, '');
  else if (type === ETHERTYPE_ARP) lines.push(formatArp(buf, eth.payloadOffset, eth.payloadLength));
  else if (eth.payloadLength > 0) lines.push(`payload ${eth.payloadLength} bytes`);
  return lines;
}

/** The same as one string, layers separated by " | ". */
export function formatFrameLine(buf: Uint8Array, off = 0, len = buf.length - off): string {
  return formatFrame(buf, off, len).map((l) => l.trim()).join(' | ');
}

/** One line per layer for a bare IPv4 packet (no link layer). */
export function formatIpv4(buf: Uint8Array, off = 0, len = buf.length - off): string[] {
  const lines: string[] = [];
  formatIpv4Into(lines, buf, off, len, '');
  return lines;
}

function formatArp(buf: Uint8Array, off: number, len: number): string {
  const arp = new ArpView();
  const rc = arp.wrap(buf, off, len);
  if (rc !== WIRE_OK) return `arp ${wireErrorName(rc)} (${len} bytes)`;
  if (arp.op === ARP_OP_REQUEST) {
    return `arp who-has ${ipToString(arp.tpa)} tell ${ipToString(arp.spa)} (${macToString(arp.sha)})`;
  }
  if (arp.op === ARP_OP_REPLY) {
    return `arp ${ipToString(arp.spa)} is-at ${macToString(arp.sha)} (to ${ipToString(arp.tpa)} ${macToString(arp.tha)})`;
  }
  return `arp op ${arp.op} ${ipToString(arp.spa)} > ${ipToString(arp.tpa)}`;
}

function formatIpv4Into(lines: string[], buf: Uint8Array, off: number, len: number, indent: string): void {
  const ip = new Ipv4View();
  const rc = ip.wrap(buf, off, len);
  if (rc !== WIRE_OK) {
    lines.push(`${indent}ip ${wireErrorName(rc)} (${len} bytes)`);
    return;
  }
  let frag = '';
  if (ip.df) frag += ' DF';
  if (ip.mf) frag += ' MF';
  if (ip.flags & 4) frag += ' evil';
  if (ip.fragOffset !== 0) frag += ` off ${ip.fragOffset * 8}`;
  const opts = ip.optionsLength > 0 ? ` opts ${ip.optionsLength}` : '';
  const tos = ip.tos !== 0 ? ` tos ${'0x' + ip.tos.toString(16)}` : '';
  lines.push(
    `${indent}ip ${ipToString(ip.src)} > ${ipToString(ip.dst)} ttl ${ip.ttl} id ${ip.id}${frag}${tos}${opts} ` +
    `${protoName(ip.protocol)} len ${ip.totalLength} ${cksum(ip.checksumOk(), ip.expectedChecksum())}`,
  );
  if (ip.fragOffset !== 0) {
    lines.push(`${indent}fragment data ${ip.payloadLength} bytes`);
    return;
  }
  // the transport checksum covers the whole datagram: a first fragment cannot be checked
  const wholeDatagram = !ip.mf;
  const p = ip.payloadOffset;
  const n = ip.payloadLength;
  switch (ip.protocol) {
    case 6: lines.push(indent + formatTcp(buf, p, n, ip.src, ip.dst, wholeDatagram)); break;
    case 17: lines.push(indent + formatUdp(buf, p, n, ip.src, ip.dst, wholeDatagram)); break;
    case 1: formatIcmpInto(lines, buf, p, n, indent, wholeDatagram); break;
    case 4: formatIpv4Into(lines, buf, p, n, indent + INDENT); break;
    default: if (n > 0) lines.push(`${indent}payload ${n} bytes`);
  }
}

function formatTcp(buf: Uint8Array, off: number, len: number, src: number, dst: number, checkable: boolean): string {
  const tcp = new TcpView();
  const rc = tcp.wrap(buf, off, len);
  if (rc !== WIRE_OK) return `tcp ${wireErrorName(rc)} (${len} bytes)`;
  const opts = tcp.optionsLength > 0 ? ` opts ${tcp.optionsLength}` : '';
  const sum = checkable ? cksum(tcp.checksumOk(src, dst), tcp.expectedChecksum(src, dst)) : 'cksum ? (fragment)';
  return `tcp ${tcp.sport} > ${tcp.dport} [${tcpFlagsString(tcp.flags)}] seq ${tcp.seq} ack ${tcp.ack} ` +
    `win ${tcp.window}${opts} len ${tcp.payloadLength} ${sum}`;
}

function formatUdp(buf: Uint8Array, off: number, len: number, src: number, dst: number, checkable: boolean): string {
  const udp = new UdpView();
  // a first fragment holds the header but not all the bytes its length counts
  const rc = checkable ? udp.wrap(buf, off, len) : udp.wrapHeader(buf, off, len);
  if (rc !== WIRE_OK) return `udp ${wireErrorName(rc)} (${len} bytes)`;
  let sum: string;
  if (!udp.hasChecksum) sum = 'cksum none';
  else if (!checkable) sum = 'cksum ? (fragment)';
  else sum = cksum(udp.checksumOk(src, dst), udp.expectedChecksum(src, dst));
  return `udp ${udp.sport} > ${udp.dport} len ${udp.payloadLength} ${sum}`;
}

function formatIcmpInto(lines: string[], buf: Uint8Array, off: number, len: number, indent: string, checkable: boolean): void {
  const icmp = new IcmpView();
  const rc = icmp.wrap(buf, off, len);
  if (rc !== WIRE_OK) {
    lines.push(`${indent}icmp ${wireErrorName(rc)} (${len} bytes)`);
    return;
  }
  const type = icmp.type;
  let extra = '';
  if (icmp.isEcho) extra = ` id ${icmp.id} seq ${icmp.seq}`;
  else if (type === ICMP_DEST_UNREACH && icmp.code === ICMP_FRAG_NEEDED) extra = ` mtu ${icmp.nextHopMtu}`;
  else if (type === ICMP_REDIRECT) extra = ` gateway ${ipToString(icmp.gateway)}`;
  else if (type === ICMP_PARAM_PROBLEM) extra = ` pointer ${icmp.pointer}`;
  const sum = checkable ? cksum(icmp.checksumOk(), icmp.expectedChecksum()) : 'cksum ? (fragment)';
  lines.push(`${indent}icmp ${icmpTypeName(type, icmp.code)}${extra} len ${icmp.embeddedLength} ${sum}`);
  if (icmp.isError) lines.push(indent + INDENT + formatQuoted(buf, icmp.embeddedOffset, icmp.embeddedLength, icmp.embeddedComplete));
}

/** The datagram quoted by an ICMP error: usually only its header and 8 bytes. */
function formatQuoted(buf: Uint8Array, off: number, len: number, complete: boolean): string {
  if (len < 20 || buf[off]! >>> 4 !== 4) return `quoted ${len} bytes (not an IPv4 header)`;
  const hl = (buf[off]! & 0x0f) << 2;
  const src = ipToString(get16(buf, off + 12) * 65536 + get16(buf, off + 14));
  const dst = ipToString(get16(buf, off + 16) * 65536 + get16(buf, off + 18));
  const proto = buf[off + 9]!;
  let s = `quoted ip ${src} > ${dst} ${protoName(proto)} len ${get16(buf, off + 2)}`;
  if (complete && (proto === 6 || proto === 17)) {
    s += ` ports ${get16(buf, off + hl)} > ${get16(buf, off + hl + 2)}`;
  } else if (complete && proto === 1) {
    s += ` icmp type ${buf[off + hl]} id ${get16(buf, off + hl + 4)} seq ${get16(buf, off + hl + 6)}`;
  }
  if (!complete) s += ' (incomplete: header + 8 bytes not all present)';
  return s;
}
