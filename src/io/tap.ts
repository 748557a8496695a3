/**
 * TAP ports: a kernel netdev whose frames tapvs reads and writes through a
 * /dev/net/tun descriptor. The descriptor keeps working after the netdev is
 * moved into another network namespace, which is how the labs plug the
 * director into a namespace or a bridge there.
 *
 * Control-path work (creating the device, `ip link` calls) may block and
 * throw; the data path (send, the receive loop) never throws.
 */
import fs from 'node:fs';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { TCP_CHECKSUM_OFFSET } from '../wire/tcp.js';
import { pseudoAddrSum6 } from '../wire/checksum6.js';
import { get32 } from '../wire/bytes.js';
import { HEADROOM, MAX_FRAME, PLAIN_FRAME, type FrameMeta, type FrameSink, type Port, type PortCounters, macFromBytes, macFromString, newCounters, portNow } from './port.js';
import { READ_SPACE, startFdReader, type FdReader } from './loop-fd.js';
import {
  VNET_F_NEEDS_CSUM, VNET_GSO_ECN, VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_HDR_LEN,
  newVnetHdr, readVnetHdr, writeVnetHdr, writeZeroVnetHdr,
} from '../wire/virtio-net.js';
import { SoftwareOffload, completeChecksum, newSoftwareOffloadCounters, partialKeepable, tcp4PartialCsum, tcp6PartialCsum } from './vnet.js';
import { tcpLayout } from './vnet-segment.js';
import { TX_FULL, TX_QUEUED, type TxThread } from './tx-thread.js';

const require = createRequire(import.meta.url);
const ioctl = require('ioctl') as (fd: number, request: number, arg?: Buffer | number) => number;

// <linux/if_tun.h>, <linux/sockios.h>
const TUNSETIFF = 0x400454ca;
const TUNSETOFFLOAD = 0x400454d0;
const SIOCGIFHWADDR = 0x8927;
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_NO_PI = 0x1000;
export const IFF_MULTI_QUEUE = 0x0100;
const IFF_TUN_EXCL = 0x8000;
export const IFF_VNET_HDR = 0x4000;
// TUNSETOFFLOAD: what the netdev may hand us unfinished (checksums) or unsegmented (TCP/IPv4, with ECN)
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
/** What an offloading TAP asks of the kernel: partial checksums, TCP super-frames over IPv4 and IPv6. */
export const TAP_OFFLOAD_FLAGS = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;

export interface OpenTapOptions {
  /** tapvs port name (also the kernel name unless `device` is given). */
  name: string;
  /** Kernel interface name, at most 15 characters. Defaults to `name`. */
  device?: string;
  /** true (default): the device must not exist yet and disappears on close. false: attach to an existing persistent TAP. */
  create?: boolean;
  /** IFF_MULTI_QUEUE: several descriptors (queues) may attach to the device. */
  multiQueue?: boolean;
  /** Set the netdev up (default true). */
  up?: boolean;
  /** MTU of the netdev; left as the kernel chose (1500) when absent. */
  mtu?: number;
  /**
   * txqueuelen of the netdev: how many frames the kernel holds for us to read
   * before it drops (the TAP's "TX dropped" counter). The kernel default, 1000,
   * is 10 ms at 100 k frames/s, less than one scheduler time slice on a busy
   * machine; left as the kernel chose when absent.
   */
  txQueueLen?: number;
  /** Move the netdev into this network namespace (ip netns name). */
  netns?: string;
  /** Enslave the netdev to this bridge (in `netns` when given). */
  master?: string;
  /** The writer thread that takes this port's writes while the forwarding thread is saturated. */
  writer?: TxThread;
  /** Addresses (CIDR, e.g. "10.0.0.2/24") for the kernel side of the netdev. */
  addrs?: string[];
  /** MAC for the kernel side of the netdev ("02:00:..."). */
  kernelMac?: string;
  /**
   * 'tso' (the default): open with IFF_VNET_HDR and
   * TUNSETOFFLOAD(CSUM|TSO4|TSO6|TSO_ECN), so the kernel hands over TCP
   * super-frames (up to 64 KB) and partial checksums, and takes them back
   * the same way. 'none': plain frames, every checksum finished.
   */
  offload?: 'tso' | 'none';
}

/** An error from opening or configuring a device; `code` is the errno name when there was one. */
export class DeviceError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

const VALID_IFNAME = /^[A-Za-z0-9_.:%-]{1,15}$/;

export function checkIfName(device: string): void {
  if (!VALID_IFNAME.test(device) || device === '.' || device === '..') {
    throw new DeviceError(`invalid interface name ${JSON.stringify(device)}: 1-15 characters, no '/', spaces or quotes`, 'EINVAL');
  }
}

/** Run `ip` (in `netns` when given); failures name the command and quote ip's complaint. */
export function ip(args: string[], netns?: string): string {
  const argv = netns ? ['-n', netns, ...args] : args;
  try {
    return execFileSync('ip', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; code?: string; message: string };
    const why = (e.stderr ?? '').trim() || e.message;
    throw new DeviceError(`ip ${argv.join(' ')}: ${why}`, e.code);
  }
}

function errnoOf(err: unknown): string | undefined {
  return (err as { code?: string } | undefined)?.code;
}

/** Open /dev/net/tun and bind the descriptor to a TAP or TUN device. Returns the descriptor and the kernel's name for it. */
export function openTunDevice(device: string, flags: number, exclusive: boolean): { fd: number; device: string } {
  checkIfName(device);
  let fd: number;
  try {
    fd = fs.openSync('/dev/net/tun', 'r+');
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') {
      throw new DeviceError(`${device}: /dev/net/tun is missing (${code}): load the tun module or create it with "mknod /dev/net/tun c 10 200"`, code);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new DeviceError(`${device}: cannot open /dev/net/tun (${code}): run as root or with CAP_NET_ADMIN`, code);
    }
    throw new DeviceError(`${device}: cannot open /dev/net/tun: ${(err as Error).message}`, code);
  }
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(device, 0, IFNAMSIZ - 1, 'latin1');
  ifr.writeUInt16LE(flags | (exclusive ? IFF_TUN_EXCL : 0), IFNAMSIZ);
  try {
    ioctl(fd, TUNSETIFF, ifr);
  } catch (err) {
    fs.closeSync(fd);
    const code = errnoOf(err);
    const kind = flags & IFF_TAP ? 'TAP' : 'TUN';
    switch (code) {
      case 'EPERM':
      case 'EACCES':
        throw new DeviceError(`${device}: not permitted to create or attach a ${kind} device (${code}): run as root or with CAP_NET_ADMIN`, code);
      case 'EBUSY':
        throw new DeviceError(`${device}: name in use (EBUSY): a device with this name exists${exclusive ? '' : ' and is held by another process'}`, code);
      case 'EINVAL':
        throw new DeviceError(`${device}: rejected (EINVAL): the name belongs to a device that is not a ${kind}, or its flags (multi-queue or not) differ`, code);
      default:
        throw new DeviceError(`${device}: TUNSETIFF failed: ${(err as Error).message}`, code);
    }
  }
  return { fd, device: ifr.toString('latin1', 0, IFNAMSIZ).replace(/\0.*$/s, '') };
}

/** MAC of the netdev behind a tun descriptor (works in any namespace). */
export function tunDeviceMac(fd: number): number | undefined {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  try {
    ioctl(fd, SIOCGIFHWADDR, ifr);
  } catch {
    return undefined;
  }
  return macFromBytes(ifr, IFNAMSIZ + 2);
}

/** TUNSETOFFLOAD: sets the netdev's checksum/TSO features; only valid on a descriptor opened with IFF_VNET_HDR. */
export function setTapOffload(fd: number, device: string, flags: number): void {
  try {
    ioctl(fd, TUNSETOFFLOAD, flags);
  } catch (err) {
    const code = errnoOf(err);
    throw new DeviceError(`${device}: the kernel refused TUNSETOFFLOAD 0x${flags.toString(16)} (${code ?? (err as Error).message}): use the port without offload=`, code);
  }
}

function linkMtu(device: string, netns?: string): number {
  const out = ip(['-j', 'link', 'show', 'dev', device], netns);
  const links = JSON.parse(out) as Array<{ mtu?: number }>;
  return links[0]?.mtu ?? 1500;
}

/** What a TAP port did with offload state (beside PortCounters, whose shape others rely on). */
export interface OffloadCounters {
  /** Super-frames received (each is also one rxFrames). */
  rxGso: number;
  /** Received frames whose partial checksum was kept partial for the director. */
  rxCsumPartial: number;
  /** Received frames whose partial checksum we finished (not plain TCP/UDP over IP). */
  rxCsumCompleted: number;
  /** Super-frames written whole, for the kernel to segment. */
  txGso: number;
  /** Frames written with a partial checksum, for the kernel to finish. */
  txCsumPartial: number;
  /** Partial checksums finished here before writing (a port without offload). */
  txCsumCompleted: number;
  /** Super-frames cut in software on this port, and the segments written for them. */
  txSegmented: number;
  txSegments: number;
  /** Super-frames that could not be sent (not TCP over IP with at most one outer header): dropped, also in txErrors. */
  txGsoRefused: number;
}

/** Room for one frame of any size a TAP can take, after a virtio_net_hdr. */
const TX_SPACE = VNET_HDR_LEN + 14 + 65535;

export class TapPort implements Port {
  readonly counters: PortCounters = newCounters();
  readonly offloadCounters: OffloadCounters = {
    rxGso: 0, rxCsumPartial: 0, rxCsumCompleted: 0, txGso: 0, txCsumPartial: 0, ...newSoftwareOffloadCounters(),
  };
  mac: number | undefined;
  mtu: number;
  /**
   * Why this TAP runs without offload, when it does (offload=none in the
   * config, or the kernel refused it); undefined while offload is on.
   */
  offloadOff: string | undefined;
  /** Why the receive loop ended on its own (device deleted under us), if it did. */
  lastError: Error | undefined;
  /** Exceptions thrown by the sink (each also counted in rxDropped). */
  sinkErrors = 0;
  private reader: FdReader | undefined;
  private closed = false;
  private readonly hdr = newVnetHdr();
  private readonly saved = new Uint8Array(VNET_HDR_LEN);
  private tx: Uint8Array | undefined;
  private readonly writer: TxThread | undefined;
  private readonly slot: number = -1;
  /** Cuts super-frames and finishes checksums where the kernel will not: segments get a zero header in front when this port offloads. */
  private readonly soft: SoftwareOffload;

  constructor(
    readonly name: string,
    readonly device: string,
    private readonly fd: number,
    mac: number | undefined,
    mtu: number,
    /** Namespace the netdev now lives in (undefined: ours). */
    readonly netns: string | undefined,
    /** Opened with IFF_VNET_HDR and TSO: every frame read or written has a virtio_net_hdr in front. */
    readonly offload = false,
    /** Where writes go while the forwarding thread is saturated (tx-thread.ts); undefined: always inline. */
    writer?: TxThread,
  ) {
    const slot = writer?.attach() ?? -1;
    if (writer && slot >= 0) {
      this.writer = writer;
      this.slot = slot;
      // the worker counts what it wrote and failed to write; the port's figures add them in
      const c = this.counters;
      let frames = 0;
      let errors = 0;
      Object.defineProperty(c, 'txFrames', { enumerable: true, get: () => frames + writer.sent(slot), set: (v: number) => { frames = v - writer.sent(slot); } });
      Object.defineProperty(c, 'txErrors', { enumerable: true, get: () => errors + writer.failed(slot), set: (v: number) => { errors = v - writer.failed(slot); } });
    }
    this.mac = mac;
    this.mtu = mtu;
    this.offloadOff = offload ? undefined : 'offload=none in the config: frames are cut and checksummed in software';
    const emitPlain = offload
      ? (b: Uint8Array, o: number, l: number): void => {
        writeZeroVnetHdr(b, o - VNET_HDR_LEN);
        this.write(b, o - VNET_HDR_LEN, l + VNET_HDR_LEN);
      }
      : (b: Uint8Array, o: number, l: number): void => this.write(b, o, l);
    this.soft = new SoftwareOffload(VNET_HDR_LEN, emitPlain, this.offloadCounters);
  }

  /** How frames are read: 'uv-stream' normally, 'fs-read' on the slow fallback, undefined before start(). */
  get loopKind(): FdReader['kind'] | undefined {
    return this.reader?.kind;
  }

  send(buf: Uint8Array, off: number, len: number, meta: FrameMeta = PLAIN_FRAME): void {
    if (this.closed) {
      this.counters.txErrors++;
      return;
    }
    if (!this.offload) {
      if (meta.gsoSize === 0 && meta.csumStart === 0) this.write(buf, off, len);
      else if (!this.soft.send(buf, off, len, meta, this.mtu)) this.counters.txErrors++;
      return;
    }
    if (meta.gsoSize !== 0) return this.sendLarge(buf, off, len, meta);
    if (meta.csumStart === 0) return this.writeWithHdr(buf, off, len, false);
    // a partial checksum: the kernel finishes it (or trusts it, as it trusts its own)
    const h = this.hdr;
    h.flags = VNET_F_NEEDS_CSUM;
    h.gsoType = VNET_GSO_NONE;
    h.hdrLen = 0;
    h.gsoSize = 0;
    h.csumStart = meta.csumStart;
    h.csumOffset = meta.csumOffset;
    this.offloadCounters.txCsumPartial++;
    this.writeWithHdr(buf, off, len, true);
  }

  private write(buf: Uint8Array, off: number, len: number): void {
    const w = this.writer;
    if (w !== undefined) {
      const r = w.take(this.fd, this.slot, buf, off, len);
      if (r === TX_QUEUED) return; // the worker counts it, sent or failed
      if (r === TX_FULL) {
        this.counters.txErrors++;
        return;
      }
    }
    try {
      fs.writeSync(this.fd, buf, off, len);
      this.counters.txFrames++;
    } catch {
      // EIO while the link is down, EINVAL for a runt frame, ...: counted, never fatal
      this.counters.txErrors++;
    }
    if (w !== undefined) w.wrote();
  }

  /**
   * Writes this.hdr (or a zero header) and the frame. In place when there is
   * room before the frame (the receive headroom), the bytes there put back
   * afterwards; else through the transmit buffer.
   */
  private writeWithHdr(buf: Uint8Array, off: number, len: number, withHdr: boolean): void {
    if (off >= VNET_HDR_LEN) {
      const at = off - VNET_HDR_LEN;
      const saved = this.saved;
      for (let i = 0; i < VNET_HDR_LEN; i++) saved[i] = buf[at + i]!;
      if (withHdr) writeVnetHdr(buf, at, this.hdr);
      else writeZeroVnetHdr(buf, at);
      this.write(buf, at, len + VNET_HDR_LEN);
      buf.set(saved, at);
      return;
    }
    if (len > TX_SPACE - VNET_HDR_LEN) {
      this.counters.txErrors++;
      return;
    }
    const tx = (this.tx ??= new Uint8Array(TX_SPACE));
    if (withHdr) writeVnetHdr(tx, 0, this.hdr);
    else writeZeroVnetHdr(tx, 0);
    tx.set(buf.subarray(off, off + len), VNET_HDR_LEN);
    this.write(tx, 0, len + VNET_HDR_LEN);
  }

  /**
   * A TCP super-frame on an offloading TAP: written whole with a GSO header
   * when the kernel can cut it (TCP directly over IPv4 or IPv6), segments of
   * the sender's size, never more than this link's MTU allows; a tunnelled
   * one is cut here. Its checksum field must hold the pseudo-header part:
   * kept when the frame arrived partial, else put there for the write.
   */
  private sendLarge(buf: Uint8Array, off: number, len: number, meta: FrameMeta): void {
    const l = this.soft.layout;
    if (!tcpLayout(buf, off, len, l)) {
      this.offloadCounters.txGsoRefused++;
      this.counters.txErrors++;
      return;
    }
    if (l.outerOff >= 0) {
      if (!this.soft.cut(buf, off, l, meta.gsoSize, this.mtu)) this.counters.txErrors++;
      return;
    }
    const fit = this.mtu - (l.payOff - off - ETH_HEADER_LEN);
    const mss = Math.min(meta.gsoSize, fit);
    if (mss < 1) {
      this.offloadCounters.txGsoRefused++;
      this.counters.txErrors++;
      return;
    }
    const h = this.hdr;
    h.flags = VNET_F_NEEDS_CSUM;
    h.gsoType = (l.v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) | (meta.gsoType & VNET_GSO_ECN);
    h.hdrLen = l.payOff - off;
    h.gsoSize = mss;
    h.csumStart = l.tcpOff - off;
    h.csumOffset = TCP_CHECKSUM_OFFSET;
    this.offloadCounters.txGso++;
    if (meta.csumStart === h.csumStart) return this.writeWithHdr(buf, off, l.end - off, true);
    // a finished checksum (the frame came from a port that finished it): the kernel wants the pseudo-header part
    const field = l.tcpOff + TCP_CHECKSUM_OFFSET;
    const c0 = buf[field]!;
    const c1 = buf[field + 1]!;
    const tcpLen = l.end - l.tcpOff;
    const partial = l.v6
      ? tcp6PartialCsum(pseudoAddrSum6(buf, l.ipOff + 8, l.ipOff + 24), tcpLen)
      : tcp4PartialCsum(get32(buf, l.ipOff + 12), get32(buf, l.ipOff + 16), tcpLen);
    buf[field] = partial >>> 8;
    buf[field + 1] = partial;
    this.writeWithHdr(buf, off, l.end - off, true);
    buf[field] = c0;
    buf[field + 1] = c1;
  }

  start(sink: FrameSink, portIndex: number): void {
    if (this.reader || this.closed) throw new Error(`port ${this.name}: already started or closed`);
    const counters = this.counters;
    const rx = new Uint8Array(HEADROOM + READ_SPACE);
    // what travels with a frame from an offloading TAP: one record, rewritten before each delivery
    const rxMeta: FrameMeta = { gsoType: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
    const deliver = (buf: Uint8Array, off: number, len: number, meta: FrameMeta): void => {
      counters.rxFrames++;
      try {
        sink(portIndex, buf, off, len, portNow(), meta);
      } catch {
        counters.rxDropped++;
        this.sinkErrors++;
      }
    };
    const onFrame = (buf: Uint8Array, len: number): void => {
      if (len > MAX_FRAME) {
        counters.rxTooBig++;
        return;
      }
      if (len < 14) {
        counters.rxDropped++;
        return;
      }
      deliver(buf, HEADROOM, len, PLAIN_FRAME);
    };
    const hdr = this.hdr;
    const oc = this.offloadCounters;
    const onVnetFrame = (buf: Uint8Array, n: number): void => {
      const len = n - VNET_HDR_LEN;
      if (len < 14) {
        counters.rxDropped++;
        return;
      }
      const off = HEADROOM + VNET_HDR_LEN;
      readVnetHdr(buf, HEADROOM, hdr);
      const gsoType = hdr.gsoType & ~VNET_GSO_ECN;
      if (gsoType === VNET_GSO_NONE) {
        if (len > MAX_FRAME) {
          counters.rxTooBig++;
          return;
        }
      } else if ((gsoType !== VNET_GSO_TCPV4 && gsoType !== VNET_GSO_TCPV6) || hdr.gsoSize === 0) {
        // only TCP over IPv4 and IPv6 was offered to the kernel
        counters.rxDropped++;
        return;
      }
      rxMeta.csumStart = 0;
      rxMeta.csumOffset = 0;
      if ((hdr.flags & VNET_F_NEEDS_CSUM) !== 0) {
        if (partialKeepable(buf, off, len, hdr.csumStart, hdr.csumOffset)) {
          // left partial: NAT patches only its pseudo-header part, the egress port or kernel finishes it
          rxMeta.csumStart = hdr.csumStart;
          rxMeta.csumOffset = hdr.csumOffset;
          oc.rxCsumPartial++;
        } else {
          if (!completeChecksum(buf, off, len, hdr.csumStart, hdr.csumOffset)) {
            counters.rxDropped++;
            return;
          }
          oc.rxCsumCompleted++;
        }
      }
      if (gsoType === VNET_GSO_NONE) {
        rxMeta.gsoType = 0;
        rxMeta.gsoSize = 0;
        return deliver(buf, off, len, rxMeta.csumStart === 0 ? PLAIN_FRAME : rxMeta);
      }
      oc.rxGso++;
      rxMeta.gsoType = hdr.gsoType;
      rxMeta.gsoSize = hdr.gsoSize;
      deliver(buf, off, len, rxMeta);
    };
    this.reader = startFdReader(this.fd, rx, this.offload ? onVnetFrame : onFrame, (err) => {
      if (err && !this.closed) this.lastError = err;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // the worker may still hold frames for this descriptor: its number must not be reused under them
    if (this.writer) await this.writer.drain();
    if (this.reader) {
      await this.reader.stop();
    } else {
      try { fs.closeSync(this.fd); } catch { /* already closed */ }
    }
  }
}

/**
 * Create (or attach to) a TAP device, place it and bring it up.
 * A created device is not persistent: it disappears when the port closes.
 */
export function openTap(opts: OpenTapOptions): TapPort {
  const device = opts.device ?? opts.name;
  checkIfName(device);
  const create = opts.create ?? true;
  if (!create && !existsSync(`/sys/class/net/${device}`)) {
    throw new DeviceError(`${device}: no such device (ENODEV); create it first ("ip tuntap add mode tap name ${device}") or pass create: true`, 'ENODEV');
  }
  const offload = opts.offload !== 'none';
  const flags = IFF_TAP | IFF_NO_PI | (opts.multiQueue ? IFF_MULTI_QUEUE : 0) | (offload ? IFF_VNET_HDR : 0);
  const opened = openTunDevice(device, flags, create);
  const { fd } = opened;
  if (offload) {
    // before the netdev joins a bridge, so the bridge sees the features when it computes its own
    try {
      setTapOffload(fd, opened.device, TAP_OFFLOAD_FLAGS);
    } catch (err) {
      fs.closeSync(fd);
      // asked for by name: an error; on by default: the port runs without it, and says why
      if (opts.offload === 'tso') throw err;
      const plain = openTap({ ...opts, offload: 'none' });
      plain.offloadOff = `the kernel refused TUNSETOFFLOAD (${(err as DeviceError).code ?? (err as Error).message}): frames are cut and checksummed in software`;
      return plain;
    }
  }
  try {
    if (opts.kernelMac !== undefined) {
      macFromString(opts.kernelMac);
      ip(['link', 'set', 'dev', opened.device, 'address', opts.kernelMac]);
    }
    const mac = tunDeviceMac(fd);
    if (opts.netns) ip(['link', 'set', 'dev', opened.device, 'netns', opts.netns]);
    const ns = opts.netns;
    if (opts.mtu !== undefined) ip(['link', 'set', 'dev', opened.device, 'mtu', String(opts.mtu)], ns);
    if (opts.txQueueLen !== undefined) ip(['link', 'set', 'dev', opened.device, 'txqueuelen', String(opts.txQueueLen)], ns);
    if (opts.master) ip(['link', 'set', 'dev', opened.device, 'master', opts.master], ns);
    for (const addr of opts.addrs ?? []) ip(['addr', 'add', addr, 'dev', opened.device], ns);
    if (opts.up ?? true) ip(['link', 'set', 'dev', opened.device, 'up'], ns);
    const mtu = opts.mtu ?? linkMtu(opened.device, ns);
    return new TapPort(opts.name, opened.device, fd, mac, mtu, ns, offload, opts.writer);
  } catch (err) {
    // closing the only descriptor removes the device we just created
    fs.closeSync(fd);
    throw err;
  }
}
