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
import { HEADROOM, MAX_FRAME, type FrameSink, type Port, type PortCounters, macFromBytes, macFromString, newCounters, portNow } from './port.js';
import { READ_SPACE, startFdReader, type FdReader } from './loop-fd.js';

const require = createRequire(import.meta.url);
const ioctl = require('ioctl') as (fd: number, request: number, arg?: Buffer | number) => number;

// <linux/if_tun.h>, <linux/sockios.h>
const TUNSETIFF = 0x400454ca;
const SIOCGIFHWADDR = 0x8927;
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_NO_PI = 0x1000;
export const IFF_MULTI_QUEUE = 0x0100;
const IFF_TUN_EXCL = 0x8000;
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
  /** Addresses (CIDR, e.g. "10.0.0.2/24") for the kernel side of the netdev. */
  addrs?: string[];
  /** MAC for the kernel side of the netdev ("02:00:..."). */
  kernelMac?: string;
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

function linkMtu(device: string, netns?: string): number {
  const out = ip(['-j', 'link', 'show', 'dev', device], netns);
  const links = JSON.parse(out) as Array<{ mtu?: number }>;
  return links[0]?.mtu ?? 1500;
}

export class TapPort implements Port {
  readonly counters: PortCounters = newCounters();
  mac: number | undefined;
  mtu: number;
  /** Why the receive loop ended on its own (device deleted under us), if it did. */
  lastError: Error | undefined;
  /** Exceptions thrown by the sink (each also counted in rxDropped). */
  sinkErrors = 0;
  private reader: FdReader | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    readonly device: string,
    private readonly fd: number,
    mac: number | undefined,
    mtu: number,
    /** Namespace the netdev now lives in (undefined: ours). */
    readonly netns: string | undefined,
  ) {
    this.mac = mac;
    this.mtu = mtu;
  }

  /** How frames are read: 'uv-stream' normally, 'fs-read' on the slow fallback, undefined before start(). */
  get loopKind(): FdReader['kind'] | undefined {
    return this.reader?.kind;
  }

  send(buf: Uint8Array, off: number, len: number): void {
    if (this.closed) {
      this.counters.txErrors++;
      return;
    }
    try {
      fs.writeSync(this.fd, buf, off, len);
      this.counters.txFrames++;
    } catch {
      // EIO while the link is down, EINVAL for a runt frame, ...: counted, never fatal
      this.counters.txErrors++;
    }
  }

  start(sink: FrameSink, portIndex: number): void {
    if (this.reader || this.closed) throw new Error(`port ${this.name}: already started or closed`);
    const counters = this.counters;
    const rx = new Uint8Array(HEADROOM + READ_SPACE);
    const onFrame = (buf: Uint8Array, len: number): void => {
      if (len > MAX_FRAME) {
        counters.rxTooBig++;
        return;
      }
      if (len < 14) {
        counters.rxDropped++;
        return;
      }
      counters.rxFrames++;
      try {
        sink(portIndex, buf, HEADROOM, len, portNow());
      } catch {
        counters.rxDropped++;
        this.sinkErrors++;
      }
    };
    this.reader = startFdReader(this.fd, rx, onFrame, (err) => {
      if (err && !this.closed) this.lastError = err;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
  const flags = IFF_TAP | IFF_NO_PI | (opts.multiQueue ? IFF_MULTI_QUEUE : 0);
  const opened = openTunDevice(device, flags, create);
  const { fd } = opened;
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
    return new TapPort(opts.name, opened.device, fd, mac, mtu, ns);
  } catch (err) {
    // closing the only descriptor removes the device we just created
    fs.closeSync(fd);
    throw err;
  }
}
