/**
 * The LVS-TUN real-server side on a kernel without the ipip module.
 *
 * A real server behind an LVS-TUN director receives IPv4-in-IPv4 packets
 * addressed to its own address; the inner packet is addressed to the VIP.
 * The kernel's ipip driver (tunl0) would strip the outer header and deliver
 * the inner packet locally. Without it, this helper does the same in user
 * space: a raw socket on IP protocol 4 receives the IPIP packets (the kernel
 * then also stops answering "protocol unreachable"), and the inner packet is
 * written to a TUN device, which hands it to the local stack as if it had
 * arrived on that interface. The VIP must be a local address (on lo, like an
 * LVS real server holds it) and reverse-path filtering must be off for the
 * TUN device, since the client's address is not routed through it.
 *
 * IPv6 real servers (IPv6-in-IPv6, next header 41, as the kernel's
 * ip6_tunnel / ip6tnl0 would take it): a raw IPv6 socket on protocol 41
 * receives the payload after the outer header, which is the inner IPv6
 * packet; it goes to the same TUN device (the device tells the families
 * apart by the version nibble). IPv6 has no reverse-path filter to turn off.
 * VIPs of both families can be given to one helper.
 *
 * GRE and GUE (ipvsadm --tun-type gre / gue, the kernel's ip_gre and fou),
 * over IPv4 and IPv6 alike: with `gre`, raw sockets on IP protocol 47 take
 * the GRE packets (checksum verified when present, as gre_parse_header
 * does); with `guePort`, a UDP socket per family bound to that port takes the
 * GUE datagrams (the kernel has already checked the UDP checksum), and
 * remote checksum offload is completed before delivery, as the kernel's fou
 * does. Either inner family goes to the TUN device like an IPIP inner packet.
 *
 * Run it inside the real server's namespace (see tun-decap-main.ts). When the
 * kernel does have ipip (and ip6_tunnel for IPv6 VIPs), `useKernelTunnels`
 * sets up tunl0 / ip6tnl0 instead.
 */
import fs from 'node:fs';
import dgram from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { IFF_NO_PI, IFF_TUN, ip, openTunDevice } from './tap.js';
import { quietUnreachables, unquietUnreachables } from './tun-decap-quiet.js';
import { WIRE_OK } from '../wire/errors.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_UDP } from '../wire/ipproto.js';
import { checksum } from '../wire/checksum.js';
import { GRE_PROTO_IPV4, GRE_PROTO_IPV6, GreView, greOf } from '../wire/gre.js';
import { GUE_PROTO_IPIP, GUE_PROTO_IPV6, GueView } from '../wire/gue.js';
import { ipipInner } from '../wire/ipip.js';
import { Ipv4View } from '../wire/ipv4.js';
import { Ipv6View, NEXTHDR_IPV6 } from '../wire/ipv6.js';

const require = createRequire(import.meta.url);

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): this;
  on(event: 'error', cb: (err: Error) => void): this;
  setOption(level: number, option: number, value: number): void;
  close(): this;
}
const raw = require('raw-socket') as {
  createSocket(opts: { protocol: number; bufferSize?: number; addressFamily?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
};

/** Linux's SOL_SOCKET, SO_RCVBUF, and SO_RCVBUFFORCE (past net.core.rmem_max; needs CAP_NET_ADMIN, which the lab's root has). */
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
/** The receive buffer the helper asks for: room for a burst of a TUN run's packets while node is busy (the default ~208 KB lost 18,797 under load). */
export const DECAP_RCVBUF = 8 << 20;

/**
 * Raises a raw socket's receive buffer to DECAP_RCVBUF (SO_RCVBUFFORCE,
 * else SO_RCVBUF, which rmem_max caps). Returns the option that took, or
 * null when neither did.
 */
export function sizeReceiveBuffer(s: Pick<RawSocket, 'setOption'>, bytes = DECAP_RCVBUF): 'SO_RCVBUFFORCE' | 'SO_RCVBUF' | null {
  try {
    s.setOption(SOL_SOCKET, SO_RCVBUFFORCE, bytes);
    return 'SO_RCVBUFFORCE';
  } catch {
    try {
      s.setOption(SOL_SOCKET, SO_RCVBUF, bytes);
      return 'SO_RCVBUF';
    } catch {
      return null;
    }
  }
}

/**
 * The packets the kernel dropped for lack of room on the raw sockets of IP
 * protocol `protocol` in this namespace: the `drops` column of
 * /proc/net/raw (raw6 for IPv6), whose local port is the protocol. The
 * helper's own losses, which it cannot see in its message events.
 */
export function rawSocketDrops(procText: string, protocol: number): number {
  let n = 0;
  for (const line of procText.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const local = f[1]!;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (port === protocol) n += Number(f[f.length - 1]) || 0;
  }
  return n;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** An IPv6 address as tapvs's configs write it (a colon in it); the rest are IPv4. */
export function isIpv6(addr: string): boolean {
  return addr.includes(':');
}


export interface DecapOptions {
  /** Virtual addresses to make local (added to lo as /32, or /128 for IPv6, when missing). */
  vips: string[];
  /** Name of the TUN device to create (default "tvdecap0"). */
  device?: string;
  /** Also take GRE (IP protocol 47) packets. */
  gre?: boolean;
  /** Also take GUE datagrams on this UDP port (the real server's --tun-port). */
  guePort?: number;
  /** Leave IPIP and IPv6-in-IPv6 to the kernel (its tunl0 / ip6tnl0 are set up): only GRE and GUE here. */
  kernelIpip?: boolean;
}

export interface DecapCounters {
  /** IPIP, IPv6-in-IPv6, GRE and GUE packets received */
  received: number;
  /** of them, GRE packets */
  gre: number;
  /** of them, GUE datagrams */
  gue: number;
  /** a GRE checksum that does not verify (dropped, as the kernel drops them) */
  badChecksum: number;
  /** inner packets handed to the local stack */
  delivered: number;
  /** outer or inner header unusable (truncated, not the family the outer header says) */
  malformed: number;
  /** the TUN write failed */
  writeErrors: number;
}

export interface DecapHelper {
  readonly device: string;
  readonly counters: DecapCounters;
  /** What sizeReceiveBuffer got for the sockets (null: the default buffer). */
  readonly rcvbuf: 'SO_RCVBUFFORCE' | 'SO_RCVBUF' | null;
  /** Why the namespace may still answer "protocol unreachable" for the tunnel protocols under load (tun-decap-quiet.ts), or undefined. */
  readonly notQuiet: string | undefined;
  /** Packets the kernel dropped on the helper's raw sockets so far (/proc/net/raw's drops), i.e. lost before it saw them. */
  socketDrops(): number;
  close(): void;
}

function setSysctl(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // best effort: the caller sees the effect (or not) in its test
  }
}

function ensureLocal(vip: string): void {
  if (isIpv6(vip)) ip(['-6', 'addr', 'replace', `${vip}/128`, 'dev', 'lo', 'nodad']);
  else ip(['addr', 'replace', `${vip}/32`, 'dev', 'lo']);
  ip(['link', 'set', 'lo', 'up']);
}

const outerView = new Ipv4View();
const innerView = new Ipv4View();

const greOuterView = new Ipv4View();
const greView = new GreView();
/** Why greInner refused a packet: 'checksum' for a GRE checksum that does not verify, else 'malformed'. */
export let greRefusal: 'checksum' | 'malformed' = 'malformed';

/**
 * The inner packet of a GRE packet as a raw IPv4 socket on protocol 47
 * hands it over (outer IPv4 header included): [start, end) of an IPv4 or
 * IPv6 packet whose version matches the GRE protocol type, or undefined
 * (greRefusal says why).
 */
export function greInner(pkt: Uint8Array, len: number): [number, number] | undefined {
  greRefusal = 'malformed';
  if (greOuterView.wrap(pkt, 0, len) !== WIRE_OK) return undefined;
  if (greOf(greOuterView, greView) !== WIRE_OK) return undefined;
  return greChecked(pkt);
}

/** The same for GRE over IPv6, as a raw IPv6 socket on protocol 47 hands it over: the outer header already stripped. */
export function greInner6(payload: Uint8Array, len: number): [number, number] | undefined {
  greRefusal = 'malformed';
  if (greView.wrap(payload, 0, len) !== WIRE_OK) return undefined;
  return greChecked(payload);
}

function greChecked(pkt: Uint8Array): [number, number] | undefined {
  if (greView.hasKey || greView.hasSeq) return undefined; // keyed tunnels are not IPVS's
  if (!greView.checksumOk()) {
    greRefusal = 'checksum';
    return undefined;
  }
  const proto = greView.protocol;
  return innerSpan(pkt, greView.payloadOffset, greView.payloadLength,
    proto === GRE_PROTO_IPV4 ? 4 : proto === GRE_PROTO_IPV6 ? 6 : 0);
}

const gueView = new GueView();

/**
 * The inner packet of a GUE datagram's UDP payload: [start, end) of the IPv4
 * or IPv6 packet, or undefined (control messages, unknown flags, a payload
 * that is not the protocol the header names). With remote checksum offload
 * the inner transport checksum is completed in place first: the field holds
 * the pseudo-header sum, and the checksum from the start given to the end of
 * the packet finishes it (skb_remcsum_process in the kernel).
 */
export function gueInner(payload: Uint8Array, len: number): [number, number] | undefined {
  if (gueView.wrap(payload, 0, len) !== WIRE_OK || gueView.control) return undefined;
  const proto = gueView.protocol;
  const span = innerSpan(payload, gueView.payloadOffset, gueView.payloadLength,
    proto === GUE_PROTO_IPIP ? 4 : proto === GUE_PROTO_IPV6 ? 6 : 0);
  if (!span || !gueView.hasRemcsum) return span;
  const start = span[0] + gueView.remcsumStart;
  const field = span[0] + gueView.remcsumOffset;
  if (start >= span[1] || field + 2 > span[1] || field < start) return undefined;
  let c = checksum(payload, start, span[1] - start);
  // a UDP checksum that computes to 0 is sent as 0xFFFF (0 means "none")
  if (c === 0 && payload[span[0]]! >>> 4 === 4 && payload[span[0] + 9] === IPPROTO_UDP) c = 0xffff;
  payload[field] = c >>> 8;
  payload[field + 1] = c & 0xff;
  return span;
}

const spanView4 = new Ipv4View();
const spanView6 = new Ipv6View();

/** [start, end) of the IP packet of `version` at off (its own length, trailing bytes cut), or undefined. */
function innerSpan(buf: Uint8Array, off: number, len: number, version: number): [number, number] | undefined {
  if (len < 1 || buf[off]! >>> 4 !== version) return undefined;
  if (version === 4) {
    if (spanView4.wrap(buf, off, len) !== WIRE_OK) return undefined;
    return [off, off + spanView4.totalLength];
  }
  if (spanView6.wrap(buf, off, len) !== WIRE_OK) return undefined;
  return [off, off + 40 + spanView6.payloadLength];
}

/** Strip the outer IPv4 header of an IPIP packet; returns [start, end) of the inner packet, or undefined. */
export function innerPacket(pkt: Uint8Array, len: number): [number, number] | undefined {
  if (outerView.wrap(pkt, 0, len) !== WIRE_OK) return undefined;
  if (ipipInner(outerView, innerView) !== WIRE_OK) return undefined;
  return [innerView.off, innerView.off + innerView.totalLength];
}

const inner6View = new Ipv6View();

/**
 * The inner packet of an IPv6-in-IPv6 packet as a raw IPv6 socket on
 * protocol 41 hands it over (the outer header already stripped): [start, end)
 * of the inner IPv6 packet, or undefined when it is not one.
 */
export function innerPacket6(payload: Uint8Array, len: number): [number, number] | undefined {
  if (inner6View.wrap(payload, 0, len) !== WIRE_OK) return undefined;
  return [0, 40 + inner6View.payloadLength];
}

export function startDecap(opts: DecapOptions): DecapHelper {
  const { fd, device } = openTunDevice(opts.device ?? 'tvdecap0', IFF_TUN | IFF_NO_PI, true);
  const counters: DecapCounters = { received: 0, gre: 0, gue: 0, badChecksum: 0, delivered: 0, malformed: 0, writeErrors: 0 };
  const sockets: RawSocket[] = [];
  const udp: dgram.Socket[] = [];
  let rcvbuf: 'SO_RCVBUFFORCE' | 'SO_RCVBUF' | null = null;
  const anyV4 = opts.vips.some((v) => !isIpv6(v));
  const anyV6 = opts.vips.some(isIpv6);
  // the IPIP and IPv6-in-IPv6 sockets, unless the kernel's tunnels take those
  const v4 = !opts.kernelIpip && anyV4;
  const v6 = !opts.kernelIpip && anyV6;
  const deliver = (buf: Buffer, span: [number, number] | undefined): void => {
    counters.received++;
    if (!span) {
      counters.malformed++;
      return;
    }
    try {
      fs.writeSync(fd, buf, span[0], span[1] - span[0]);
      counters.delivered++;
    } catch {
      counters.writeErrors++;
    }
  };
  try {
    for (const vip of opts.vips) ensureLocal(vip);
    if (v4 || opts.gre || opts.guePort) for (const conf of ['all', 'default', device]) setSysctl(`/proc/sys/net/ipv4/conf/${conf}/rp_filter`, '0');
    // IPv6 input needs the device's IPv6 on (a TUN device may come up with it off by default)
    if (anyV6) setSysctl(`/proc/sys/net/ipv6/conf/${device}/disable_ipv6`, '0');
    ip(['link', 'set', 'dev', device, 'up']);
    if (v4) {
      const s4 = raw.createSocket({ protocol: IPPROTO_IPIP, bufferSize: 65536 });
      sockets.push(s4);
      rcvbuf = sizeReceiveBuffer(s4);
      s4.on('message', (buf) => deliver(buf, innerPacket(buf, buf.length)));
    }
    if (v6) {
      const s6 = raw.createSocket({ protocol: NEXTHDR_IPV6, bufferSize: 65536, addressFamily: raw.AddressFamily.IPv6 });
      sockets.push(s6);
      const r6 = sizeReceiveBuffer(s6);
      if (!v4) rcvbuf = r6;
      s6.on('message', (buf) => deliver(buf, innerPacket6(buf, buf.length)));
    }
    const onGre = (inner: (b: Uint8Array, n: number) => [number, number] | undefined) => (buf: Buffer): void => {
      counters.gre++;
      const span = inner(buf, buf.length);
      if (!span && greRefusal === 'checksum') {
        counters.received++;
        counters.badChecksum++;
        return;
      }
      deliver(buf, span);
    };
    if (opts.gre) {
      const families: [boolean, number | undefined, (b: Uint8Array, n: number) => [number, number] | undefined][] = [
        [anyV4, undefined, greInner], [anyV6, raw.AddressFamily.IPv6, greInner6]];
      for (const [want, family, inner] of families) {
        if (!want) continue;
        const sg = raw.createSocket({ protocol: IPPROTO_GRE, bufferSize: 65536, ...(family !== undefined ? { addressFamily: family } : {}) });
        sockets.push(sg);
        const r = sizeReceiveBuffer(sg);
        if (!v4 && !v6) rcvbuf = r;
        sg.on('message', onGre(inner));
      }
    }
    if (opts.guePort) {
      // SO_RCVBUF, which net.core.rmem_max caps; its losses are /proc/net/udp's drops. Over IPv6
      // the kernel drops zero-checksum datagrams before they reach this socket (RFC 6936; Node
      // cannot set UDP_NO_CHECK6_RX): IPv6 GUE real servers want --tun-csum.
      for (const type of [anyV4 ? 'udp4' : '', anyV6 ? 'udp6' : ''] as const) {
        if (type === '') continue;
        const u = dgram.createSocket({ type, recvBufferSize: DECAP_RCVBUF, ...(type === 'udp6' ? { ipv6Only: true } : {}) });
        u.on('message', (buf) => {
          counters.gue++;
          deliver(buf, gueInner(buf, buf.length));
        });
        u.on('error', () => { counters.malformed++; });
        u.bind(opts.guePort);
        udp.push(u);
      }
    }
  } catch (err) {
    for (const s of sockets) s.close();
    for (const u of udp) u.close();
    fs.closeSync(fd);
    throw err;
  }
  for (const s of sockets) s.on('error', () => { counters.malformed++; });
  const quiet4 = [...(v4 ? [IPPROTO_IPIP] : []), ...(opts.gre && anyV4 ? [IPPROTO_GRE] : [])];
  const quiet6 = [...(v6 ? [NEXTHDR_IPV6] : []), ...(opts.gre && anyV6 ? [IPPROTO_GRE] : [])];
  const notQuiet = quietUnreachables(quiet4, quiet6);
  const quieted = notQuiet === undefined && quiet4.length + quiet6.length > 0;
  let closed = false;
  return {
    device,
    counters,
    rcvbuf,
    notQuiet,
    socketDrops(): number {
      return (v4 ? rawSocketDrops(readProc('/proc/net/raw'), IPPROTO_IPIP) : 0) +
        (v6 ? rawSocketDrops(readProc('/proc/net/raw6'), NEXTHDR_IPV6) : 0) +
        (opts.gre ? rawSocketDrops(readProc('/proc/net/raw'), IPPROTO_GRE) + rawSocketDrops(readProc('/proc/net/raw6'), IPPROTO_GRE) : 0) +
        (opts.guePort ? rawSocketDrops(readProc('/proc/net/udp'), opts.guePort) + rawSocketDrops(readProc('/proc/net/udp6'), opts.guePort) : 0);
    },
    close(): void {
      if (closed) return;
      closed = true;
      if (quieted) unquietUnreachables();
      for (const s of sockets) s.close();
      for (const u of udp) u.close();
      fs.closeSync(fd);
    },
  };
}

/**
 * Use the kernel's own ipip decapsulation when it exists: load the module if
 * we can, bring tunl0 up, make the VIPs local. Returns false when this kernel
 * has no ipip (then run the helper).
 */
export function useKernelIpip(vips: string[]): boolean {
  return useKernelTunnels(vips.filter((v) => !isIpv6(v)));
}

/**
 * The kernel's decapsulation for VIPs of both families: ipip (tunl0) for
 * IPv4 VIPs, ip6_tunnel (the fallback device ip6tnl0, which takes every
 * IPv6-in-IPv6 packet to a local address) for IPv6 ones. Returns false, having
 * changed nothing, when the kernel lacks one of them (then run the helper for all).
 */
export function useKernelTunnels(vips: string[]): boolean {
  const v4 = vips.some((v) => !isIpv6(v));
  const v6 = vips.some(isIpv6);
  if (v4 && !kernelHas('ipip', 'tunl0')) return false;
  if (v6 && !kernelHas('ip6_tunnel', 'ip6tnl0')) return false;
  if (v4) {
    ip(['link', 'set', 'dev', 'tunl0', 'up']);
    for (const conf of ['all', 'default', 'tunl0']) setSysctl(`/proc/sys/net/ipv4/conf/${conf}/rp_filter`, '0');
  }
  if (v6) ip(['link', 'set', 'dev', 'ip6tnl0', 'up']);
  for (const vip of vips) ensureLocal(vip);
  return true;
}

/** The module is loaded (or loads) and its fallback device exists in this namespace. */
function kernelHas(module: string, device: string): boolean {
  if (!existsSync(`/sys/module/${module}`)) {
    try {
      execFileSync('modprobe', [module], { stdio: 'ignore' });
    } catch {
      return false;
    }
  }
  try {
    ip(['link', 'show', 'dev', device]);
  } catch {
    return false;
  }
  return true;
}

