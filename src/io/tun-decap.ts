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
 * Run it inside the real server's namespace (see tun-decap-main.ts). When the
 * kernel does have ipip, `useKernelIpip` sets up tunl0 instead.
 */
import fs from 'node:fs';
import { existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { IFF_NO_PI, IFF_TUN, ip, openTunDevice } from './tap.js';
import { WIRE_OK } from '../wire/errors.js';
import { IPPROTO_IPIP } from '../wire/ipproto.js';
import { ipipInner } from '../wire/ipip.js';
import { Ipv4View } from '../wire/ipv4.js';

const require = createRequire(import.meta.url);

interface RawSocket {
  on(event: 'message', cb: (buf: Buffer, source: string) => void): this;
  on(event: 'error', cb: (err: Error) => void): this;
  close(): this;
}
const raw = require('raw-socket') as { createSocket(opts: { protocol: number; bufferSize?: number }): RawSocket };


export interface DecapOptions {
  /** Virtual addresses to make local (added to lo as /32 when missing). */
  vips: string[];
  /** Name of the TUN device to create (default "tvdecap0"). */
  device?: string;
}

export interface DecapCounters {
  /** IPIP packets received */
  received: number;
  /** inner packets handed to the local stack */
  delivered: number;
  /** outer or inner header unusable (truncated, not IPv4) */
  malformed: number;
  /** the TUN write failed */
  writeErrors: number;
}

export interface DecapHelper {
  readonly device: string;
  readonly counters: DecapCounters;
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
  ip(['addr', 'replace', `${vip}/32`, 'dev', 'lo']);
  ip(['link', 'set', 'lo', 'up']);
}

const outerView = new Ipv4View();
const innerView = new Ipv4View();

/** Strip the outer IPv4 header of an IPIP packet; returns [start, end) of the inner packet, or undefined. */
export function innerPacket(pkt: Uint8Array, len: number): [number, number] | undefined {
  if (outerView.wrap(pkt, 0, len) !== WIRE_OK) return undefined;
  if (ipipInner(outerView, innerView) !== WIRE_OK) return undefined;
  return [innerView.off, innerView.off + innerView.totalLength];
}

export function startDecap(opts: DecapOptions): DecapHelper {
  const { fd, device } = openTunDevice(opts.device ?? 'tvdecap0', IFF_TUN | IFF_NO_PI, true);
  const counters: DecapCounters = { received: 0, delivered: 0, malformed: 0, writeErrors: 0 };
  let socket: RawSocket | undefined;
  try {
    for (const vip of opts.vips) ensureLocal(vip);
    for (const conf of ['all', 'default', device]) setSysctl(`/proc/sys/net/ipv4/conf/${conf}/rp_filter`, '0');
    ip(['link', 'set', 'dev', device, 'up']);
    socket = raw.createSocket({ protocol: IPPROTO_IPIP, bufferSize: 65536 });
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  socket.on('message', (buf) => {
    counters.received++;
    const span = innerPacket(buf, buf.length);
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
  });
  socket.on('error', () => { counters.malformed++; });
  let closed = false;
  return {
    device,
    counters,
    close(): void {
      if (closed) return;
      closed = true;
      socket?.close();
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
  if (!existsSync('/sys/module/ipip')) {
    try {
      execFileSync('modprobe', ['ipip'], { stdio: 'ignore' });
    } catch {
      return false;
    }
  }
  try {
    ip(['link', 'show', 'dev', 'tunl0']);
  } catch {
    return false;
  }
  ip(['link', 'set', 'dev', 'tunl0', 'up']);
  for (const conf of ['all', 'default', 'tunl0']) setSysctl(`/proc/sys/net/ipv4/conf/${conf}/rp_filter`, '0');
  for (const vip of vips) ensureLocal(vip);
  return true;
}
