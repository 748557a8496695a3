import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';
import { ipToString } from '../../../wire/addr.js';
import { WIRE_OK } from '../../../wire/errors.js';
import {
  ICMP_DEST_UNREACH, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST as ICMP_ECHO, ICMP_HEADER_LEN, ICMP_TIME_EXCEEDED, IcmpView, emitIcmp, icmpEchoRest,
} from '../../../wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../../../wire/ipproto.js';
import { Ipv4View } from '../../../wire/ipv4.js';
import { ip6ToString, parseIp6 } from '../../../wire/addr6.js';
import {
  ICMPV6_DEST_UNREACH, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_HEADER_LEN, ICMPV6_TIME_EXCEEDED, Icmpv6View, emitIcmpv6, icmpv6EchoRest,
} from '../../../wire/icmpv6.js';

// keepalived's PING_CHECK: one ICMP echo (ICMPv6 for an IPv6 real server);
// up when the matching reply comes back in time. A raw socket (root) per
// family is shared by every ping of the process; without one (no privilege,
// no native module) `ping -c1` (`ping -6 -c1`) does the work.

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): this;
  on(event: 'error', cb: (err: Error) => void): this;
  on(event: 'close', cb: () => void): this;
  send(buf: Buffer, off: number, len: number, addr: string, cb: (err: Error | null, bytes: number) => void): this;
  close(): this;
}
interface RawModule {
  createSocket(opts: { protocol: number; addressFamily?: number; bufferSize?: number }): RawSocket;
  Protocol: { ICMP: number; ICMPv6: number };
  AddressFamily: { IPv4: number; IPv6: number };
}

const PAYLOAD = Buffer.from('tapvs-health-chk');

interface Pending {
  addr: string;
  settle: (r: ProbeResult) => void;
}

let rawModule: RawModule | null | undefined;
function loadRaw(): RawModule | null {
  if (rawModule === undefined) {
    try {
      rawModule = createRequire(import.meta.url)('raw-socket') as RawModule;
    } catch {
      rawModule = null;
    }
  }
  return rawModule;
}

/**
 * One raw ICMP socket of a family, shared by every ping of the process: the
 * echo identifier, the sequence numbers in flight and their deadlines. The
 * families differ in how the socket is made, what it hands over and how an
 * echo is built (Pinger, Pinger6).
 */
abstract class EchoSocket {
  private sock: RawSocket | null = null;
  protected readonly ident = process.pid & 0xffff;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Set once a raw socket could not be opened: use ping(8) from then on. */
  rawUnavailable = false;

  protected abstract open(raw: RawModule): RawSocket;
  protected abstract onMessage(buf: Buffer, source: string): void;
  /** The echo request `seq` as it is sent. */
  protected abstract echo(seq: number): Buffer;
  /** The address as replies name it. */
  protected abstract canonical(addr: string): string;

  private socket(): RawSocket | null {
    if (this.sock || this.rawUnavailable) return this.sock;
    const raw = loadRaw();
    if (!raw) {
      this.rawUnavailable = true;
      return null;
    }
    try {
      const s = this.open(raw);
      s.on('message', (buf, source) => this.onMessage(buf, source));
      s.on('error', () => { if (this.sock === s) this.sock = null; });
      s.on('close', () => { if (this.sock === s) this.sock = null; });
      this.sock = s;
    } catch {
      this.rawUnavailable = true;
    }
    return this.sock;
  }

  /** Settles the probe `seq` from `from` when it is in flight and was sent there. */
  protected answer(seq: number, from: string, r: ProbeResult): void {
    const p = this.pending.get(seq);
    if (p && (!r.ok || p.addr === from)) p.settle(r);
  }

  ping(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
    const to = this.canonical(spec.addr);
    const sock = this.socket();
    if (!sock) return pingCommand(spec, signal);
    this.seq = (this.seq + 1) & 0xffff;
    const seq = this.seq;
    return withDeadline(spec.timeoutMs, signal, (settle) => {
      this.pending.set(seq, { addr: to, settle });
      const pkt = this.echo(seq);
      sock.send(pkt, 0, pkt.length, to, (err) => {
        if (err) settle({ ok: false, error: errorText(err) });
      });
      return () => { this.pending.delete(seq); };
    });
  }

  close(): void {
    const s = this.sock;
    this.sock = null;
    try { s?.close(); } catch { /* already closed */ }
  }
}

class Pinger extends EchoSocket {
  private readonly rxIp = new Ipv4View();
  private readonly rxIcmp = new IcmpView();
  private readonly rxQuoted = new IcmpView();

  protected open(raw: RawModule): RawSocket {
    return raw.createSocket({ protocol: raw.Protocol.ICMP });
  }

  protected canonical(addr: string): string {
    return addr;
  }

  protected onMessage(buf: Buffer): void {
    const ip = this.rxIp;
    const icmp = this.rxIcmp;
    // a raw ICMP socket hands over the whole IPv4 packet
    if (ip.wrap(buf, 0, buf.length) !== WIRE_OK || icmp.wrap(buf, ip.payloadOffset, ip.payloadLength) !== WIRE_OK) return;
    const from = ipToString(ip.src);
    const type = icmp.type;
    if (type === ICMP_ECHO_REPLY) {
      if (icmp.id === this.ident) this.answer(icmp.seq, from, { ok: true });
      return;
    }
    if (type !== ICMP_DEST_UNREACH && type !== ICMP_TIME_EXCEEDED) return;
    // the error quotes our echo request: its inner ICMP header names the probe
    if (!icmp.embeddedComplete || icmp.embeddedProtocol !== IPPROTO_ICMP) return;
    const q = this.rxQuoted;
    if (q.wrap(buf, icmp.embeddedTransportOffset, icmp.embeddedTransportLength) !== WIRE_OK) return;
    if (q.type !== ICMP_ECHO || q.id !== this.ident) return;
    const what = type === ICMP_DEST_UNREACH ? `destination unreachable (code ${icmp.code})` : 'time exceeded';
    this.answer(q.seq, from, { ok: false, error: `${what} from ${from}` });
  }

  protected echo(seq: number): Buffer {
    const pkt = Buffer.alloc(ICMP_HEADER_LEN + PAYLOAD.length);
    emitIcmp({ type: ICMP_ECHO, code: 0, rest: icmpEchoRest(this.ident, seq) }, pkt, 0);
    PAYLOAD.copy(pkt, ICMP_HEADER_LEN);
    const v = new IcmpView();
    v.wrap(pkt, 0, pkt.length);
    v.fillChecksum();
    return pkt;
  }
}

/**
 * The same over ICMPv6. A raw ICMPv6 socket hands over the ICMPv6 message
 * alone (no IPv6 header: the source comes with it), and the kernel fills in
 * the checksum of what is sent (RFC 3542), so the echo goes out as built.
 */
class Pinger6 extends EchoSocket {
  private readonly rx = new Icmpv6View();
  private readonly rxQuoted = new Icmpv6View();

  protected open(raw: RawModule): RawSocket {
    return raw.createSocket({ protocol: raw.Protocol.ICMPv6, addressFamily: raw.AddressFamily.IPv6 });
  }

  protected canonical(addr: string): string {
    return canonical6(addr);
  }

  protected onMessage(buf: Buffer, source: string): void {
    const m = this.rx;
    if (m.wrap(buf, 0, buf.length) !== WIRE_OK) return;
    const from = canonical6(source);
    const type = m.type;
    if (type === ICMPV6_ECHO_REPLY) {
      if (m.id === this.ident) this.answer(m.seq, from, { ok: true });
      return;
    }
    if (type !== ICMPV6_DEST_UNREACH && type !== ICMPV6_TIME_EXCEEDED) return;
    if (!m.embeddedComplete || m.embeddedProtocol !== IPPROTO_ICMPV6) return;
    const q = this.rxQuoted;
    const qOff = m.embeddedTransportOffset;
    if (q.wrap(buf, qOff, buf.length - qOff) !== WIRE_OK || q.type !== ICMPV6_ECHO_REQUEST || q.id !== this.ident) return;
    const what = type === ICMPV6_DEST_UNREACH ? `destination unreachable (code ${m.code})` : 'time exceeded';
    this.answer(q.seq, from, { ok: false, error: `${what} from ${from}` });
  }

  protected echo(seq: number): Buffer {
    const pkt = Buffer.alloc(ICMPV6_HEADER_LEN + PAYLOAD.length);
    emitIcmpv6({ type: ICMPV6_ECHO_REQUEST, code: 0, rest: icmpv6EchoRest(this.ident, seq) }, pkt, 0);
    PAYLOAD.copy(pkt, ICMPV6_HEADER_LEN);
    return pkt;
  }
}

/** An IPv6 address text as inet_ntop writes it (what a reply's source is compared in). */
function canonical6(s: string): string {
  try {
    return ip6ToString(parseIp6(s));
  } catch {
    return s;
  }
}

/** ping(8), for when no raw socket can be had (`ping -6` for an IPv6 address). */
function pingCommand(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const waitS = String(Math.max(1, Math.ceil(spec.timeoutMs / 1000)));
  const family = spec.addr.includes(':') ? ['-6'] : [];
  return withDeadline(spec.timeoutMs, signal, (settle) => {
    const child = spawn('ping', [...family, '-n', '-q', '-c', '1', '-W', waitS, spec.addr], { stdio: 'ignore' });
    child.once('error', (e) => settle({ ok: false, error: `ping: ${errorText(e)}` }));
    child.once('exit', (code) => settle(code === 0 ? { ok: true } : { ok: false, error: `no echo reply (ping exit status ${code})` }));
    return () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  });
}

const pinger = new Pinger();
const pinger6 = new Pinger6();

export function probeIcmp(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  return (spec.addr.includes(':') ? pinger6 : pinger).ping(spec, signal);
}

/** Closes the shared raw socket (it keeps the process alive while open). */
export function closeIcmp(): void {
  pinger.close();
  pinger6.close();
}

/** For tests: force the ping(8) path. */
export function probeIcmpWithPingCommand(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  return pingCommand(spec, signal);
}
