import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

// keepalived's PING_CHECK: one ICMP echo; up when the matching reply comes
// back in time. A raw socket (root) is shared by every ping of the process;
// without one (no privilege, no native module) `ping -c1` does the work.

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): this;
  on(event: 'error', cb: (err: Error) => void): this;
  on(event: 'close', cb: () => void): this;
  send(buf: Buffer, off: number, len: number, addr: string, cb: (err: Error | null, bytes: number) => void): this;
  close(): this;
}
interface RawModule {
  createSocket(opts: { protocol: number; bufferSize?: number }): RawSocket;
  Protocol: { ICMP: number };
}

const ICMP_ECHO_REPLY = 0;
const ICMP_DEST_UNREACH = 3;
const ICMP_ECHO = 8;
const ICMP_TIME_EXCEEDED = 11;
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

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

class Pinger {
  private sock: RawSocket | null = null;
  private readonly ident = process.pid & 0xffff;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Set once a raw socket could not be opened: use ping(8) from then on. */
  rawUnavailable = false;

  private socket(): RawSocket | null {
    if (this.sock || this.rawUnavailable) return this.sock;
    const raw = loadRaw();
    if (!raw) {
      this.rawUnavailable = true;
      return null;
    }
    try {
      const s = raw.createSocket({ protocol: raw.Protocol.ICMP });
      s.on('message', (buf) => this.onMessage(buf));
      s.on('error', () => { if (this.sock === s) this.sock = null; });
      s.on('close', () => { if (this.sock === s) this.sock = null; });
      this.sock = s;
    } catch {
      this.rawUnavailable = true;
    }
    return this.sock;
  }

  private onMessage(buf: Buffer): void {
    if (buf.length < 20) return;
    const ihl = (buf[0]! & 0x0f) * 4;
    if (buf.length < ihl + 8) return;
    const type = buf[ihl]!;
    if (type === ICMP_ECHO_REPLY) {
      if (buf.readUInt16BE(ihl + 4) !== this.ident) return;
      const seq = buf.readUInt16BE(ihl + 6);
      const p = this.pending.get(seq);
      const src = `${buf[12]}.${buf[13]}.${buf[14]}.${buf[15]}`;
      if (p && p.addr === src) p.settle({ ok: true });
      return;
    }
    if (type !== ICMP_DEST_UNREACH && type !== ICMP_TIME_EXCEEDED) return;
    // the error quotes our echo request: its inner ICMP header names the probe
    const inner = ihl + 8;
    if (buf.length < inner + 20) return;
    const innerIhl = (buf[inner]! & 0x0f) * 4;
    const q = inner + innerIhl;
    if (buf.length < q + 8 || buf[q] !== ICMP_ECHO || buf.readUInt16BE(q + 4) !== this.ident) return;
    const p = this.pending.get(buf.readUInt16BE(q + 6));
    const from = `${buf[12]}.${buf[13]}.${buf[14]}.${buf[15]}`;
    const what = type === ICMP_DEST_UNREACH ? `destination unreachable (code ${buf[ihl + 1]})` : 'time exceeded';
    p?.settle({ ok: false, error: `${what} from ${from}` });
  }

  ping(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
    const sock = this.socket();
    if (!sock) return pingCommand(spec, signal);
    this.seq = (this.seq + 1) & 0xffff;
    const seq = this.seq;
    return withDeadline(spec.timeoutMs, signal, (settle) => {
      this.pending.set(seq, { addr: spec.addr, settle });
      const pkt = Buffer.alloc(8 + PAYLOAD.length);
      pkt[0] = ICMP_ECHO;
      pkt.writeUInt16BE(this.ident, 4);
      pkt.writeUInt16BE(seq, 6);
      PAYLOAD.copy(pkt, 8);
      pkt.writeUInt16BE(checksum(pkt), 2);
      sock.send(pkt, 0, pkt.length, spec.addr, (err) => {
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

/** ping(8), for when no raw socket can be had. */
function pingCommand(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const waitS = String(Math.max(1, Math.ceil(spec.timeoutMs / 1000)));
  return withDeadline(spec.timeoutMs, signal, (settle) => {
    const child = spawn('ping', ['-n', '-q', '-c', '1', '-W', waitS, spec.addr], { stdio: 'ignore' });
    child.once('error', (e) => settle({ ok: false, error: `ping: ${errorText(e)}` }));
    child.once('exit', (code) => settle(code === 0 ? { ok: true } : { ok: false, error: `no echo reply (ping exit status ${code})` }));
    return () => { if (child.exitCode === null) child.kill('SIGKILL'); };
  });
}

const pinger = new Pinger();

export function probeIcmp(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  return pinger.ping(spec, signal);
}

/** Closes the shared raw socket (it keeps the process alive while open). */
export function closeIcmp(): void {
  pinger.close();
}

/** For tests: force the ping(8) path. */
export function probeIcmpWithPingCommand(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  return pingCommand(spec, signal);
}
