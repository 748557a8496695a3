// A LiveDirector on memory ports with its control plane (socket in a fresh
// temp dir, metrics on an ephemeral port), a log that keeps every record, and
// frame helpers for a NAT topology: client 203.0.113.7 -> VIP 10.0.0.100:80
// -> real servers 192.168.10.11/12/13 on the inside port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LiveDirector } from '../../src/runtime/live.js';
import { parseConfig } from '../../src/control/config.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { startControlPlane, type ControlPlane } from '../../src/control/server.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { portNow } from '../../src/io/port.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { TcpView } from '../../src/wire/tcp.js';
import { tcpFrame } from '../director/frames.js';

export const CLIENT = '203.0.113.7';
export const VIP = '10.0.0.100';
export const OUT_MAC = '02:00:00:00:00:01';
export const IN_MAC = '02:00:00:00:00:02';
export const ROUTER_MAC = '02:00:00:00:00:fe';
export const RS = { rs1: '192.168.10.11', rs2: '192.168.10.12', rs3: '192.168.10.13' } as const;
export const RS_MAC: Record<string, string> = {
  [RS.rs1]: '02:00:00:00:10:11',
  [RS.rs2]: '02:00:00:00:10:12',
  [RS.rs3]: '02:00:00:00:10:13',
};

/** Topology lines: what a reload may not change. */
export const TOPOLOGY = `port outside kind=memory mac=${OUT_MAC} addr=10.0.0.1/24
port inside kind=memory mac=${IN_MAC} addr=192.168.10.1/24
vip ${VIP} on outside
route default via 10.0.0.254
neigh 10.0.0.254 ${ROUTER_MAC}
neigh ${RS.rs1} ${RS_MAC[RS.rs1]}
neigh ${RS.rs2} ${RS_MAC[RS.rs2]}
neigh ${RS.rs3} ${RS_MAC[RS.rs3]}
`;

export const RULES = `-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 1
-a -t ${VIP}:80 -r ${RS.rs2}:80 -m -w 1
`;

export interface LogRecord {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export class LiveRig {
  readonly dir: string;
  readonly configPath: string;
  readonly socketPath: string;
  readonly logs: LogRecord[] = [];
  live!: LiveDirector;
  plane!: ControlPlane;

  constructor(readonly rules = RULES, readonly extra = '') {
    this.dir = mkdtempSync(join(tmpdir(), 'tapvs-ctl-'));
    this.configPath = join(this.dir, 'tapvs.conf');
    this.socketPath = join(this.dir, 'run', 'tapvs.sock');
  }

  /** The config file text, with the given rules and extra lines. */
  text(rules = this.rules, extra = this.extra): string {
    return `${TOPOLOGY}option control_socket ${this.socketPath}\n${extra}${rules}`;
  }

  writeConfig(text: string): void {
    writeFileSync(this.configPath, text);
  }

  async start(opts: { metrics?: boolean } = {}): Promise<this> {
    this.writeConfig(this.text());
    const parsed = parseConfig(this.text(), this.configPath);
    if ('errors' in parsed) throw new Error(parsed.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
    const cfg: DirectorConfig = parsed.config;
    if (opts.metrics) cfg.options.metricsListen = '127.0.0.1:0';
    const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => { this.logs.push(JSON.parse(s) as LogRecord); } });
    this.live = new LiveDirector(cfg, log, { open: (p) => new MemoryPort({ name: p.name, mac: p.mac, mtu: p.mtu }) });
    this.live.start();
    this.plane = await startControlPlane(this.live, this.configPath, log, { signals: false, warm: false });
    return this;
  }

  port(name: 'outside' | 'inside'): MemoryPort {
    return this.live.ports[name === 'outside' ? 0 : 1] as MemoryPort;
  }

  get director() {
    return this.live.director;
  }

  async stop(): Promise<void> {
    await this.plane?.stop();
    await this.live?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Where a frame went: its IPv4 destination and TCP ports (null if not TCP/IPv4). */
export interface Sent {
  dst: string;
  src: string;
  sport: number;
  dport: number;
  bytes: number;
}

const ip = new Ipv4View();
const tcp = new TcpView();
const dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

export function decodeSent(f: Uint8Array): Sent | null {
  if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00) return null;
  if (ip.wrap(f, 14, f.length - 14) !== 0 || ip.protocol !== 6) return null;
  if (tcp.wrap(f, ip.payloadOffset, ip.totalLength - ip.headerLength) !== 0) return null;
  return { dst: dotted(ip.dst), src: dotted(ip.src), sport: tcp.sport, dport: tcp.dport, bytes: f.length };
}

/**
 * Sends one client TCP segment to the VIP through the outside port and
 * returns what the inside port sent because of it.
 */
export function clientSegment(rig: LiveRig, cport: number, flags: string, payload?: string): Sent[] {
  const inside = rig.port('inside');
  const before = inside.sent.length;
  const frame = tcpFrame({
    smac: ROUTER_MAC, dmac: OUT_MAC, src: CLIENT, dst: VIP, sport: cport, dport: 80, flags, seq: 1000, ack: flags.includes('A') ? 1 : 0,
    ...(payload !== undefined ? { payload } : {}),
  });
  rig.port('outside').inject(frame, portNow());
  return inside.sent.slice(before).map(decodeSent).filter((s): s is Sent => s !== null);
}

/** A real server's reply to the client (NAT: from rs:80 to the client), in through the inside port; returns what left outside. */
export function serverSegment(rig: LiveRig, rs: string, cport: number, flags: string, payload?: string): Sent[] {
  const outside = rig.port('outside');
  const before = outside.sent.length;
  const frame = tcpFrame({
    smac: RS_MAC[rs]!, dmac: IN_MAC, src: rs, dst: CLIENT, sport: 80, dport: cport, flags, seq: 5000, ack: 1001,
    ...(payload !== undefined ? { payload } : {}),
  });
  rig.port('inside').inject(frame, portNow());
  return outside.sent.slice(before).map(decodeSent).filter((s): s is Sent => s !== null);
}
