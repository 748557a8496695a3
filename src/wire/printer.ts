// Readable, tcpdump-like rendering of a frame: one line per layer. Used by
// tracing and tests; it allocates (strings), so keep it off the data path.

import { ipToString, macToString } from './addr.js';
import { ip6BytesToString } from './addr6.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST, ArpView } from './arp.js';
import { get16 } from './bytes.js';
import { WIRE_OK, wireErrorName } from './errors.js';
import { EthernetView, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './ethernet.js';
import {
  ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_FRAG_NEEDED, ICMP_PARAM_PROBLEM,
  ICMP_REDIRECT, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, IcmpView,
} from './icmp.js';
import { Ipv4View } from './ipv4.js';
import {
  ICMPV6_DEST_UNREACH, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_PACKET_TOO_BIG, ICMPV6_PARAM_PROBLEM, ICMPV6_REDIRECT, ICMPV6_ROUTER_ADVERT, ICMPV6_ROUTER_SOLICIT,
  ICMPV6_TIME_EXCEEDED, Icmpv6View,
} from './icmpv6.js';
import { Ipv6Headers, Ipv6View } from './ipv6.js';
import {
  tcpChecksumOk6, tcpExpectedChecksum6, udpChecksumOk6, udpExpectedChecksum6,
} from './checksum6.js';
import { tcpFlagsString, TcpView } from './tcp.js';
import { UdpView } from './udp.js';
import { ip6ToString as ip6Text } from './addr6.js';
import {
  AF_INET6_SYNC, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_NOOUTPUT, IP_VS_CONN_F_SEQ_MASK,
  IP_VS_CONN_F_TEMPLATE, IPVS_SYNC_PORT, IpvsSyncReader, ipvsSyncStateName, type IpvsSyncConn,
} from './ipvs-sync.js';
import { vrrpCheckAdvert, VRRP_TYPE_ADVERT, VRRP_VERSION_2, VrrpView } from './vrrp.js';
import { csumFold, pseudoHeaderSum } from './checksum.js';
import { GRE_PROTO_IPV4, GRE_PROTO_IPV6, GreView } from './gre.js';
import { GUE_PROTO_IPIP, GUE_PROTO_IPV6, GueView } from './gue.js';
import {
  SCTP_DATA, SCTP_INIT, SCTP_INIT_ACK, SCTP_SACK, SCTP_SHUTDOWN, SctpChunkWalker, sctpChunkName, SctpView,
} from './sctp.js';

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
    case 0: return 'HBH';
    case 41: return 'IPv6';
    case 43: return 'Routing';
    case 44: return 'Frag';
    case 50: return 'ESP';
    case 51: return 'AH';
    case 58: return 'ICMPv6';
    case 59: return 'NoNext';
    case 60: return 'DstOpts';
    case 47: return 'GRE';
    case 132: return 'SCTP';
    case 112: return 'VRRP';
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
  else if (type === ETHERTYPE_IPV6) formatIpv6Into(lines, buf, eth.payloadOffset, eth.payloadLength, '');
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
    case 17:
      lines.push(indent + formatUdp(buf, p, n, ip.src, ip.dst, wholeDatagram));
      if (wholeDatagram) formatGueInto(lines, buf, p, n, indent);
      if (wholeDatagram) formatIpvsSyncInto(lines, buf, p, n, indent);
      break;
    case 47: formatGreInto(lines, buf, p, n, indent, wholeDatagram); break;
    case 132: lines.push(indent + formatSctp(buf, p, n, wholeDatagram)); break;
    case 112: lines.push(indent + formatVrrp(buf, p, n, ip.src, ip.dst, wholeDatagram)); break;
    case 1: formatIcmpInto(lines, buf, p, n, indent, wholeDatagram); break;
    case 4: formatIpv4Into(lines, buf, p, n, indent + INDENT); break;
    case 41: formatIpv6Into(lines, buf, p, n, indent + INDENT); break;
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

// ---- SCTP, GRE, GUE ----

/**
 * UDP destination ports whose payload the printer shows as GUE (the
 * real servers' tun-ports; GUE has no port of its own). Empty by default.
 */
export const GUE_PRINT_PORTS = new Set<number>();

function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

const sctpWalker = new SctpChunkWalker();

function formatSctp(buf: Uint8Array, off: number, len: number, checkable: boolean): string {
  const sctp = new SctpView();
  const rc = sctp.wrap(buf, off, len);
  if (rc !== WIRE_OK) return `sctp ${wireErrorName(rc)} (${len} bytes)`;
  let s = `sctp ${sctp.sport} > ${sctp.dport} vtag ${hex8(sctp.vtag)}`;
  const w = sctpWalker;
  w.reset(sctp);
  while (w.next()) {
    let detail = '';
    switch (w.type) {
      case SCTP_DATA:
        detail = ` tsn ${w.dataTsn} sid ${w.dataStreamId} ssn ${w.dataStreamSeq} ppid ${w.dataPpid} len ${w.dataLength}`;
        break;
      case SCTP_INIT:
      case SCTP_INIT_ACK:
        detail = ` tag ${hex8(w.initTag)} rwnd ${w.initARwnd} os ${w.initOutStreams} is ${w.initInStreams} tsn ${w.initTsn}`;
        break;
      case SCTP_SACK:
        detail = ` cum-tsn ${w.sackCumTsn} rwnd ${w.sackARwnd} gaps ${w.sackGapBlocks} dups ${w.sackDupTsns}`;
        break;
      case SCTP_SHUTDOWN:
        detail = ` cum-tsn ${w.shutdownCumTsn}`;
        break;
    }
    const flags = w.flags !== 0 ? ` flags 0x${w.flags.toString(16)}` : '';
    s += ` [${sctpChunkName(w.type)}${flags}${detail}]`;
  }
  if (w.rc !== WIRE_OK) s += ` [${wireErrorName(w.rc)}]`;
  if (!checkable) return `${s} crc32c ? (fragment)`;
  return sctp.crcOk() ? `${s} crc32c ok` : `${s} crc32c BAD (expected ${hex8(sctp.expectedCrc())})`;
}

/** The IPv4 or IPv6 packet a tunnel header carries. */
function formatTunnelInner(lines: string[], buf: Uint8Array, off: number, len: number, indent: string, ipv6: boolean): void {
  if (ipv6) formatIpv6Into(lines, buf, off, len, indent);
  else formatIpv4Into(lines, buf, off, len, indent);
}

function formatGreInto(lines: string[], buf: Uint8Array, off: number, len: number, indent: string, checkable: boolean): void {
  const gre = new GreView();
  const rc = gre.wrap(buf, off, len);
  if (rc !== WIRE_OK) {
    lines.push(`${indent}gre ${wireErrorName(rc)} (${len} bytes)`);
    return;
  }
  let s = `${indent}gre proto ${etherTypeName(gre.protocol)}`;
  if (gre.hasKey) s += ` key ${hex8(gre.key)}`;
  if (gre.hasSeq) s += ` seq ${gre.seq}`;
  s += ` len ${gre.payloadLength}`;
  if (gre.hasChecksum) {
    s += ' ' + (checkable ? cksum(gre.checksumOk(), gre.expectedChecksum()) : 'cksum ? (fragment)');
  }
  lines.push(s);
  if (!checkable) return;
  const p = gre.protocol;
  if (p === GRE_PROTO_IPV4 || p === GRE_PROTO_IPV6) {
    formatTunnelInner(lines, buf, gre.payloadOffset, gre.payloadLength, indent + INDENT, p === GRE_PROTO_IPV6);
  } else if (gre.payloadLength > 0) {
    lines.push(`${indent}payload ${gre.payloadLength} bytes`);
  }
}

function formatGueInto(lines: string[], buf: Uint8Array, off: number, len: number, indent: string): void {
  const udp = new UdpView();
  if (udp.wrap(buf, off, len) !== WIRE_OK || !GUE_PRINT_PORTS.has(udp.dport)) return;
  const gue = new GueView();
  const rc = gue.wrap(buf, udp.payloadOffset, udp.payloadLength);
  if (rc !== WIRE_OK) {
    lines.push(`${indent}gue ${wireErrorName(rc)} (${udp.payloadLength} bytes)`);
    return;
  }
  const what = gue.control ? `control type ${gue.protocol}` : `proto ${protoName(gue.protocol)}`;
  const rco = gue.hasRemcsum ? ` remcsum start ${gue.remcsumStart} offset ${gue.remcsumOffset}` : '';
  lines.push(`${indent}gue v${gue.version} ${what} hlen ${gue.hlen}${rco} len ${gue.payloadLength}`);
  if (gue.control) return;
  if (gue.protocol === GUE_PROTO_IPIP || gue.protocol === GUE_PROTO_IPV6) {
    const first = lines.length;
    formatTunnelInner(lines, buf, gue.payloadOffset, gue.payloadLength, indent + INDENT, gue.protocol === GUE_PROTO_IPV6);
    if (gue.hasRemcsum && gue.protocol === GUE_PROTO_IPIP) markPartialChecksum(lines, first + 1, buf, gue);
  }
}

/**
 * With remote checksum offload the inner transport checksum is not finished:
 * the sender leaves the pseudo-header sum in it and the receiver completes it.
 * Says so on the inner TCP / UDP line instead of "cksum BAD", and checks the
 * seed is the pseudo-header sum a receiver needs.
 */
function markPartialChecksum(lines: string[], at: number, buf: Uint8Array, gue: GueView): void {
  const line = lines[at];
  const ip = new Ipv4View();
  if (line === undefined || ip.wrap(buf, gue.payloadOffset, gue.payloadLength) !== WIRE_OK) return;
  const l4 = ip.payloadOffset - gue.payloadOffset;
  const field = ip.protocol === 6 ? l4 + 16 : ip.protocol === 17 ? l4 + 6 : -1;
  if (field < 0 || gue.remcsumStart !== l4 || gue.remcsumOffset !== field || field + 2 > ip.totalLength) return;
  const seed = get16(buf, gue.payloadOffset + field);
  const want = csumFold(pseudoHeaderSum(ip.src, ip.dst, ip.protocol, ip.payloadLength));
  const ok = seed % 0xffff === want % 0xffff;
  lines[at] = line.replace(/cksum (ok|BAD \(expected 0x[0-9a-f]{4}\))$/, `cksum partial ${ok ? 'ok' : 'BAD'} (remote checksum offload)`);
}

// ---- IPv6 ----

/** One line per layer for a bare IPv6 packet (no link layer). */
export function formatIpv6(buf: Uint8Array, off = 0, len = buf.length - off): string[] {
  const lines: string[] = [];
  formatIpv6Into(lines, buf, off, len, '');
  return lines;
}

function formatIpv6Into(lines: string[], buf: Uint8Array, off: number, len: number, indent: string): void {
  const ip = new Ipv6View();
  const rc = ip.wrap(buf, off, len);
  if (rc !== WIRE_OK) {
    lines.push(`${indent}ip6 ${wireErrorName(rc)} (${len} bytes)`);
    return;
  }
  const tc = ip.trafficClass !== 0 ? ` tc ${'0x' + ip.trafficClass.toString(16)}` : '';
  const flow = ip.flowLabel !== 0 ? ` flow ${'0x' + ip.flowLabel.toString(16)}` : '';
  lines.push(
    `${indent}ip6 ${ip6BytesToString(buf, ip.srcOffset)} > ${ip6BytesToString(buf, ip.dstOffset)} hlim ${ip.hopLimit}` +
    `${tc}${flow} ${protoName(ip.nextHeader)} len ${ip.payloadLength}`,
  );
  const h = new Ipv6Headers();
  const wrc = h.walk(ip);
  formatExtHeaders(lines, ip, h, wrc === WIRE_OK, indent);
  if (wrc !== WIRE_OK) {
    lines.push(`${indent}ext ${wireErrorName(wrc)} at byte ${h.errorOffset - off}`);
    return;
  }
  if (h.isLaterFragment) {
    lines.push(`${indent}fragment data ${h.upperLength} bytes`);
    return;
  }
  // the transport checksum covers the whole datagram: a first fragment cannot be checked
  const whole = !h.isFragment;
  const p = h.upperOffset;
  const n = h.upperLength;
  const sum = h.pseudoAddrSum();
  switch (h.upperProtocol) {
    case 6: lines.push(indent + formatTcp6(buf, p, n, sum, whole)); break;
    case 17:
      lines.push(indent + formatUdp6(buf, p, n, sum, whole));
      if (whole) formatGueInto(lines, buf, p, n, indent);
      break;
    case 47: formatGreInto(lines, buf, p, n, indent, whole); break;
    case 58: formatIcmpv6Into(lines, buf, p, n, sum, indent, whole); break;
    case 112: lines.push(indent + formatVrrp6(buf, p, n, sum)); break;
    case 4: formatIpv4Into(lines, buf, p, n, indent + INDENT); break;
    case 41: formatIpv6Into(lines, buf, p, n, indent + INDENT); break;
    case 59: break;
    default: if (n > 0) lines.push(`${indent}payload ${n} bytes`);
  }
}

/** One line per extension header that the walk went through (all that fit, when it failed). */
function formatExtHeaders(lines: string[], ip: Ipv6View, h: Ipv6Headers, ok: boolean, indent: string): void {
  const buf = ip.buf;
  const start = ip.payloadOffset;
  const end = ok ? h.upperOffset : ip.end;
  let nh = ip.nextHeader;
  for (let p = start; p + 2 <= end;) {
    let hl: number;
    if (nh === 44) hl = 8;
    else if (nh === 51) hl = (buf[p + 1]! + 2) << 2;
    else if (nh === 43 || nh === 60 || (nh === 0 && p === start)) hl = (buf[p + 1]! + 1) << 3;
    else return;
    if (p + hl > end) return;
    const next = protoName(buf[p]!);
    if (nh === 44) {
      const fo = (buf[p + 2]! << 8) | buf[p + 3]!;
      const id = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
      lines.push(`${indent}frag id ${'0x' + id.toString(16).padStart(8, '0')} off ${(fo >>> 3) * 8}${fo & 1 ? ' MF' : ''} ${next}`);
      if (fo >>> 3 !== 0) return;
    } else if (nh === 51) {
      lines.push(`${indent}ah len ${hl} ${next}`);
    } else {
      const what = nh === 0 ? 'hbh' : nh === 60 ? 'dstopts' : `routing type ${buf[p + 2]} segleft ${buf[p + 3]}`;
      lines.push(`${indent}${what} len ${hl} ${next}`);
    }
    nh = buf[p]!;
    p += hl;
  }
}

function formatTcp6(buf: Uint8Array, off: number, len: number, addrSum: number, checkable: boolean): string {
  const tcp = new TcpView();
  const rc = tcp.wrap(buf, off, len);
  if (rc !== WIRE_OK) return `tcp ${wireErrorName(rc)} (${len} bytes)`;
  const opts = tcp.optionsLength > 0 ? ` opts ${tcp.optionsLength}` : '';
  const sum = checkable ? cksum(tcpChecksumOk6(tcp, addrSum), tcpExpectedChecksum6(tcp, addrSum)) : 'cksum ? (fragment)';
  return `tcp ${tcp.sport} > ${tcp.dport} [${tcpFlagsString(tcp.flags)}] seq ${tcp.seq} ack ${tcp.ack} ` +
    `win ${tcp.window}${opts} len ${tcp.payloadLength} ${sum}`;
}

function formatUdp6(buf: Uint8Array, off: number, len: number, addrSum: number, checkable: boolean): string {
  const udp = new UdpView();
  const rc = checkable ? udp.wrap(buf, off, len) : udp.wrapHeader(buf, off, len);
  if (rc !== WIRE_OK) return `udp ${wireErrorName(rc)} (${len} bytes)`;
  let sum: string;
  // over IPv6 a zero checksum is not "none" but invalid
  if (!udp.hasChecksum) sum = 'cksum BAD (zero, mandatory over IPv6)';
  else if (!checkable) sum = 'cksum ? (fragment)';
  else sum = cksum(udpChecksumOk6(udp, addrSum), udpExpectedChecksum6(udp, addrSum));
  return `udp ${udp.sport} > ${udp.dport} len ${udp.payloadLength} ${sum}`;
}

const UNREACH6_CODES = ['no route', 'admin prohibited', 'beyond scope', 'address', 'port', 'policy', 'reject route'];

function icmpv6TypeName(type: number, code: number): string {
  switch (type) {
    case ICMPV6_ECHO_REQUEST: return 'echo request';
    case ICMPV6_ECHO_REPLY: return 'echo reply';
    case ICMPV6_DEST_UNREACH: return `unreachable ${UNREACH6_CODES[code] ?? `code ${code}`}`;
    case ICMPV6_PACKET_TOO_BIG: return 'packet too big';
    case ICMPV6_TIME_EXCEEDED:
      return code === 0 ? 'time exceeded hop limit' : code === 1 ? 'time exceeded reassembly' : `time exceeded code ${code}`;
    case ICMPV6_PARAM_PROBLEM: return `param problem code ${code}`;
    case ICMPV6_ROUTER_SOLICIT: return 'router solicitation';
    case ICMPV6_ROUTER_ADVERT: return 'router advertisement';
    case ICMPV6_NEIGHBOR_SOLICIT: return 'neighbor solicitation';
    case ICMPV6_NEIGHBOR_ADVERT: return 'neighbor advertisement';
    case ICMPV6_REDIRECT: return 'redirect';
    default: return `type ${type} code ${code}`;
  }
}

function formatIcmpv6Into(
  lines: string[], buf: Uint8Array, off: number, len: number, addrSum: number, indent: string, checkable: boolean,
): void {
  const icmp = new Icmpv6View();
  const rc = icmp.wrap(buf, off, len);
  if (rc !== WIRE_OK) {
    lines.push(`${indent}icmp6 ${wireErrorName(rc)} (${len} bytes)`);
    return;
  }
  const type = icmp.type;
  let extra = '';
  if (icmp.isEcho) extra = ` id ${icmp.id} seq ${icmp.seq}`;
  else if (type === ICMPV6_PACKET_TOO_BIG) extra = ` mtu ${icmp.mtu}`;
  else if (type === ICMPV6_PARAM_PROBLEM) extra = ` pointer ${icmp.pointer}`;
  else if (type === ICMPV6_NEIGHBOR_SOLICIT) extra = ` who-has ${ip6BytesToString(buf, icmp.targetOffset)}`;
  else if (type === ICMPV6_NEIGHBOR_ADVERT) {
    const f = (icmp.routerFlag ? 'R' : '') + (icmp.solicitedFlag ? 'S' : '') + (icmp.overrideFlag ? 'O' : '');
    extra = ` tgt ${ip6BytesToString(buf, icmp.targetOffset)}${f ? ` [${f}]` : ''}`;
  } else if (type === ICMPV6_REDIRECT) extra = ` tgt ${ip6BytesToString(buf, icmp.targetOffset)}`;
  else if (type === ICMPV6_ROUTER_ADVERT) extra = ` hlim ${icmp.raCurHopLimit} lifetime ${icmp.raRouterLifetime}`;
  if (icmp.isNd) {
    if (icmp.ndOptionsOk() !== WIRE_OK) extra += ' ICMPV6_BAD_ND_OPTION';
    const sll = icmp.sourceLinkAddr;
    const tll = icmp.targetLinkAddr;
    if (sll >= 0) extra += ` sll ${macToString(sll)}`;
    if (tll >= 0) extra += ` tll ${macToString(tll)}`;
  }
  const sum = checkable ? cksum(icmp.checksumOk(addrSum), icmp.expectedChecksum(addrSum)) : 'cksum ? (fragment)';
  lines.push(`${indent}icmp6 ${icmpv6TypeName(type, icmp.code)}${extra} len ${icmp.len - 8} ${sum}`);
  if (icmp.isError) lines.push(indent + INDENT + formatQuoted6(icmp));
}

/** The packet quoted by an ICMPv6 error: as much of it as fitted in 1280 bytes. */
function formatQuoted6(icmp: Icmpv6View): string {
  const buf = icmp.buf;
  const off = icmp.embeddedOffset;
  const len = icmp.embeddedLength;
  if (len < 40 || buf[off]! >>> 4 !== 6) return `quoted ${len} bytes (not an IPv6 header)`;
  const plen = (buf[off + 4]! << 8) | buf[off + 5]!;
  let s = `quoted ip6 ${ip6BytesToString(buf, off + 8)} > ${ip6BytesToString(buf, off + 24)}`;
  if (!icmp.embeddedComplete) return `${s} ${protoName(buf[off + 6]!)} len ${plen} (incomplete: headers + 8 bytes not all present)`;
  const proto = icmp.embeddedProtocol;
  s += ` ${protoName(proto)} len ${plen}`;
  const t = icmp.embeddedTransportOffset;
  if (proto === 6 || proto === 17 || proto === 132) s += ` ports ${icmp.embeddedSport} > ${icmp.embeddedDport}`;
  else if (proto === 58) s += ` icmp6 type ${buf[t]} id ${(buf[t + 4]! << 8) | buf[t + 5]!} seq ${(buf[t + 6]! << 8) | buf[t + 7]!}`;
  return s;
}

// ---- VRRP and IPVS sync ----

const VRRP_AUTH_NAMES = ['none', 'simple', 'ah'];

function vrrpLine(v: VrrpView, addrs: string[], sum: string): string {
  const type = v.type === VRRP_TYPE_ADVERT ? 'Advertisement' : `type ${v.type}`;
  let s = `VRRPv${v.version}, ${type}, vrid ${v.vrid}, prio ${v.priority}, `;
  if (v.version === VRRP_VERSION_2) {
    s += `authtype ${VRRP_AUTH_NAMES[v.authType] ?? v.authType}, intvl ${v.advertIntSec}s, `;
  } else {
    s += `intvl ${v.maxAdvertIntCs}cs, `;
  }
  s += `addrs${v.count > 0 ? ':' : ''} ${addrs.join(', ')}${addrs.length > 0 ? ', ' : ''}${sum}`;
  const rc = vrrpCheckAdvert(v);
  if (rc !== WIRE_OK) s += ` [${wireErrorName(rc)}]`;
  return s;
}

/** The line for a VRRP message over IPv4 (src/dst feed the v3 checksum). */
export function formatVrrp(buf: Uint8Array, off: number, len: number, src: number, dst: number, checkable = true): string {
  const v = new VrrpView();
  const rc = v.wrap(buf, off, len, 4);
  if (rc !== WIRE_OK) return `vrrp ${wireErrorName(rc)} (${len} bytes)`;
  const addrs: string[] = [];
  for (let i = 0; i < v.count; i++) addrs.push(ipToString(v.addr4(i)));
  const sum = checkable ? cksum(v.checksumOk(src, dst), v.expectedChecksum(src, dst)) : 'cksum ? (fragment)';
  return vrrpLine(v, addrs, sum);
}

/** The line for a VRRP message over IPv6; addrSum: the pseudo-header addresses summed (Ipv6Headers.pseudoAddrSum). */
export function formatVrrp6(buf: Uint8Array, off: number, len: number, addrSum: number): string {
  const v = new VrrpView();
  const rc = v.wrap(buf, off, len, 6);
  if (rc !== WIRE_OK) return `vrrp ${wireErrorName(rc)} (${len} bytes)`;
  const addrs: string[] = [];
  const a = new Uint32Array(4);
  for (let i = 0; i < v.count; i++) {
    v.addr6(i, a, 0);
    addrs.push(ip6Text(a, 0));
  }
  return vrrpLine(v, addrs, cksum(v.checksumOkAddrSum6(addrSum), v.expectedChecksumAddrSum6(addrSum)));
}

const FWD_NAMES = ['Masq', 'Local', 'Tunnel', 'Route', 'Bypass'];

function syncAddr(c: IpvsSyncConn, which: 'c' | 'v' | 'd', port: number): string {
  if (c.af === AF_INET6_SYNC) {
    return `[${ip6Text(which === 'c' ? c.caddr6 : which === 'v' ? c.vaddr6 : c.daddr6, 0)}]:${port}`;
  }
  return `${ipToString(which === 'c' ? c.caddr : which === 'v' ? c.vaddr : c.daddr)}:${port}`;
}

/** "IPVS sync v1, syncid 0, 3 conns", then one line per connection record. */
export function formatIpvsSync(buf: Uint8Array, off: number, len: number): string[] {
  const out: string[] = [];
  const r = new IpvsSyncReader();
  const conns: string[] = [];
  const rc = r.read(buf, off, len, (c) => {
    const tpl = (c.flags & IP_VS_CONN_F_TEMPLATE) !== 0;
    let f = FWD_NAMES[c.flags & IP_VS_CONN_F_FWD_MASK] ?? `fwd-${c.flags & IP_VS_CONN_F_FWD_MASK}`;
    if (tpl) f += ' template';
    if (c.flags & IP_VS_CONN_F_INACTIVE) f += ' inactive';
    if (c.flags & IP_VS_CONN_F_NOOUTPUT) f += ' nooutput';
    if (c.flags & IP_VS_CONN_F_SEQ_MASK) f += ' seq';
    let s = `conn ${protoName(c.protocol)} ${syncAddr(c, 'c', c.cport)} > ${syncAddr(c, 'v', c.vport)} > ` +
      `${syncAddr(c, 'd', c.dport)} ${f} ${ipvsSyncStateName(c.protocol, c.state, tpl)}`;
    if (r.version === 1) s += ` timeout ${c.timeout}s${c.fwmark !== 0 ? ` fwmark ${c.fwmark}` : ''}`;
    if (c.peDataLen > 0) s += ` pe ${c.peNameLen > 0 ? new TextDecoder().decode(c.peBuf.subarray(c.peNameOff, c.peNameOff + c.peNameLen)) : '?'} data ${c.peDataLen}`;
    conns.push(s);
  });
  if (rc !== WIRE_OK && conns.length === 0 && r.count === 0) {
    out.push(`IPVS sync ${wireErrorName(rc)} (${len} bytes)`);
    return out;
  }
  out.push(`IPVS sync v${r.version}, syncid ${r.syncid}, ${r.count} conn${r.count === 1 ? '' : 's'}`);
  for (const c of conns) out.push(INDENT + c);
  if (r.skipped > 0) out.push(`${INDENT}${r.skipped} skipped (unknown mandatory option)`);
  if (rc !== WIRE_OK) out.push(`${INDENT}${wireErrorName(rc)}`);
  return out;
}

/** IPVS sync lines under a UDP datagram to or from port 8848. */
function formatIpvsSyncInto(lines: string[], buf: Uint8Array, off: number, len: number, indent: string): void {
  const udp = new UdpView();
  if (udp.wrap(buf, off, len) !== WIRE_OK) return;
  if (udp.dport !== IPVS_SYNC_PORT && udp.sport !== IPVS_SYNC_PORT) return;
  for (const l of formatIpvsSync(buf, udp.payloadOffset, udp.payloadLength)) lines.push(indent + l);
}
