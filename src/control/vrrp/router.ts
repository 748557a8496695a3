// The VRRP instances of one director, on its ports: adverts received through
// the host's local delivery (IP protocol 112 to 224.0.0.18, the group joined
// on each instance's port), checked as keepalived 2.2.7 checks them, and
// handed to the instance of their VRID on that port; adverts sent from the
// port's primary address with TTL 255 and TOS 0xc0, as keepalived sends them
// (its own MAC as source, no virtual MAC); the addresses taken and given up
// through Director.mutate, with gratuitous ARP on takeover (a burst, and a
// second one after a delay, as keepalived's vrrp_garp_master_repeat and
// _delay). Runs on a clock passed in: tick(now) and nextDeadline.
import type { Director } from '../../director/director.js';
import { PLAIN_FRAME } from '../../model/frame.js';
import type { Packet } from '../../net/packet.js';
import type { DirectorPort } from '../../net/port.js';
import { ipToString } from '../../wire/addr.js';
import { VRRP_ADDR_MISMATCH, VRRP_BAD_INTERVAL, WIRE_OK, wireErrorName } from '../../wire/errors.js';
import {
  emitVrrp, VRRP_GROUP_V4, VRRP_PROTOCOL, VRRP_TOS, VRRP_TTL, vrrpReceiveIpv4, vrrpSameAddrs4, VrrpView,
} from '../../wire/vrrp.js';
import { VrrpInstance, type VrrpInstanceConfig, type VrrpState } from './instance.js';

/** Ethertype of the probe a faulted instance sends to itself to learn whether its port can send again (IEEE local experimental). */
const PROBE_ETHERTYPE = 0x88b5;

export interface VrrpLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Whether a port could send its last frame (the runtime knows its device's error count). */
export type PortHealth = (port: number) => number;

interface Running {
  inst: VrrpInstance;
  port: DirectorPort;
  src: number;
  /** Second gratuitous-ARP round due (Infinity: none). */
  garpAt: number;
  /** Fault probing: next probe. */
  probeAt: number;
}

export interface VrrpStatus {
  name: string;
  vrid: number;
  port: string;
  state: VrrpState;
  priority: number;
  version: number;
  intervalMs: number;
  preempt: boolean;
  preemptDelayMs: number;
  addrs: string[];
  excluded: string[];
  /** Our primary address, and the master's as last heard (ours when we are master). */
  addr: string;
  master: string | null;
  masterPriority: number;
  masterDownIntervalMs: number;
  /** When the last advert from another router was taken (port clock, ms; null: none). */
  lastAdvertAt: number | null;
  lastTransition: { at: number; from: VrrpState; to: VrrpState; reason: string } | null;
  counters: VrrpInstance['counters'];
}

export type TransitionListener = (name: string, from: VrrpState, to: VrrpState, reason: string, now: number) => void;

export class VrrpRouter {
  private readonly running: Running[] = [];
  private readonly view = new VrrpView();
  private readonly buf = new Uint8Array(8 + 255 * 4 + 8);
  private readonly listener = (pkt: Packet, off: number, len: number): void => this.receive(pkt, off, len);
  private started = false;
  /** Adverts for a VRID no instance here has, by port:vrid (keepalived logs them once with log_unknown_vrids). */
  readonly unknownVrid = new Map<string, number>();
  private readonly listeners: TransitionListener[] = [];

  constructor(
    private readonly d: Director,
    configs: readonly VrrpInstanceConfig[],
    private readonly log?: VrrpLog,
    private readonly txErrors?: PortHealth,
  ) {
    for (const cfg of configs) {
      const port = d.portByName.get(cfg.port);
      if (!port) throw new Error(`vrrp ${cfg.name}: no port '${cfg.port}'`);
      const src = port.addrs[0]?.addr;
      if (src === undefined) throw new Error(`vrrp ${cfg.name}: port '${cfg.port}' has no IPv4 address to advertise from`);
      for (const a of [...cfg.addrs, ...cfg.excluded]) {
        if (d.host.vipPortOf(a) < 0) throw new Error(`vrrp ${cfg.name}: ${ipToString(a)} is no VIP of this director (a vip line puts it on a port)`);
      }
      if (this.running.some((r) => r.port === port && r.inst.cfg.vrid === cfg.vrid)) {
        throw new Error(`vrrp ${cfg.name}: virtual router id ${cfg.vrid} is already used on port ${cfg.port}`);
      }
      const r: Running = { inst: undefined as unknown as VrrpInstance, port, src, garpAt: Infinity, probeAt: Infinity };
      r.inst = new VrrpInstance(cfg, {
        advert: (prio, now) => this.sendAdvert(r, prio, now),
        takeAddresses: (now) => this.take(r, now),
        releaseAddresses: () => this.release(r),
        transition: (from, to, reason, now) => this.transitioned(r, from, to, reason, now),
      }, src);
      this.running.push(r);
    }
    // held back from the start: the director's start announces its VIPs, and a backup must not
    for (const r of this.running) this.release(r);
  }

  get instances(): readonly VrrpInstance[] {
    return this.running.map((r) => r.inst);
  }

  instance(name: string): VrrpInstance | undefined {
    return this.running.find((r) => r.inst.cfg.name === name)?.inst;
  }

  onTransition(fn: TransitionListener): void {
    this.listeners.push(fn);
  }

  /** Joins the group, listens, and starts every instance (each as backup, or master for priority 255). */
  start(now: number): void {
    if (this.started) return;
    this.started = true;
    const local = this.d.host.localIo();
    local.listenRaw(VRRP_PROTOCOL, this.listener);
    for (const r of this.running) local.join(r.port.index, VRRP_GROUP_V4);
    for (const r of this.running) r.inst.start(now);
  }

  /** Masters send priority 0 and give their addresses up; the group is left. */
  stop(now: number): void {
    if (!this.started) return;
    this.started = false;
    for (const r of this.running) r.inst.shutdown(now);
    const local = this.d.host.localIo();
    local.unlistenRaw(VRRP_PROTOCOL, this.listener);
    for (const r of this.running) local.leave(r.port.index, VRRP_GROUP_V4);
  }

  get nextDeadline(): number {
    let t = Infinity;
    for (const r of this.running) t = Math.min(t, r.inst.nextDeadline, r.garpAt, r.probeAt);
    return t;
  }

  tick(now: number): void {
    if (!this.started) return;
    for (const r of this.running) {
      r.inst.tick(now);
      if (now >= r.garpAt) {
        r.garpAt = Infinity;
        if (r.inst.state === 'master') this.garp(r);
      }
      if (r.inst.state === 'fault' && now >= r.probeAt) this.probe(r, now);
    }
  }

  status(): VrrpStatus[] {
    return this.running.map(({ inst, port, src }) => ({
      name: inst.cfg.name,
      vrid: inst.cfg.vrid,
      port: port.name,
      state: inst.state,
      priority: inst.cfg.priority,
      version: inst.cfg.version,
      intervalMs: inst.intervalMs,
      preempt: inst.cfg.preempt,
      preemptDelayMs: inst.cfg.preemptDelayMs,
      addrs: inst.cfg.addrs.map(ipToString),
      excluded: inst.cfg.excluded.map(ipToString),
      addr: ipToString(src),
      master: inst.masterAddr === 0 ? null : ipToString(inst.masterAddr),
      masterPriority: inst.masterPriority,
      masterDownIntervalMs: inst.masterDownIntervalMs,
      lastAdvertAt: Number.isNaN(inst.lastAdvertAt) ? null : inst.lastAdvertAt,
      lastTransition: inst.lastTransition ? { ...inst.lastTransition } : null,
      counters: { ...inst.counters, refused: { ...inst.counters.refused } },
    }));
  }

  // ------------------------------------------------------------ receive

  private receive(pkt: Packet, _off: number, _len: number): void {
    if (!pkt.mcast && pkt.dst !== VRRP_GROUP_V4) return; // unicast VRRP: not configured here
    const v = this.view;
    // the wire rules first, with either version: the instance then says which it runs
    const rc = vrrpReceiveIpv4(pkt.ip, v);
    const vrid = rc === WIRE_OK || rc === VRRP_BAD_INTERVAL ? v.vrid : -1;
    const r = vrid < 0 ? undefined : this.running.find((x) => x.port === pkt.port && x.inst.cfg.vrid === vrid);
    if (r === undefined) {
      const k = `${pkt.port.name}:${vrid < 0 ? wireErrorName(rc) : vrid}`;
      this.unknownVrid.set(k, (this.unknownVrid.get(k) ?? 0) + 1);
      return;
    }
    const inst = r.inst;
    const cfg = inst.cfg;
    if (pkt.src === r.src) return this.refuse(inst, 'own-address');
    if (rc !== WIRE_OK) return this.refuse(inst, wireErrorName(rc));
    if (v.version !== cfg.version) return this.refuse(inst, `version ${v.version} (ours ${cfg.version})`);
    // v2 carries whole seconds and must match ours exactly (keepalived); v3 teaches the master's interval
    if (cfg.version === 2 && v.advertIntSec * 100 !== cfg.intervalCs) return this.refuse(inst, 'interval-mismatch');
    if (vrrpSameAddrs4(v, cfg.addrs) === VRRP_ADDR_MISMATCH) return this.refuse(inst, 'address-mismatch');
    if (inst.state === 'fault' || inst.state === 'init') return;
    inst.advert(pkt.src, v.priority, v.intervalCs, pkt.now);
    // the deadlines moved (a priority 0 advert brings the master-down timer forward)
    this.kick();
  }

  private refuse(inst: VrrpInstance, why: string): void {
    inst.counters.refused[why] = (inst.counters.refused[why] ?? 0) + 1;
    if (inst.counters.refused[why] === 1) this.log?.warn({ vrrp: inst.cfg.name, reason: why }, `vrrp ${inst.cfg.name}: advertisement refused (${why})`);
  }

  // ------------------------------------------------------------ send

  private sendAdvert(r: Running, priority: number, now: number): void {
    const cfg = r.inst.cfg;
    const n = emitVrrp({
      version: cfg.version, vrid: cfg.vrid, priority,
      ...(cfg.version === 3 ? { maxAdvertIntCs: cfg.intervalCs } : { advertIntSec: cfg.intervalCs / 100 }),
      addrs: cfg.addrs,
    }, this.buf, 0, r.src, VRRP_GROUP_V4);
    const before = this.txErrors?.(r.port.index) ?? 0;
    this.d.host.sendLocal(r.port.index, r.src, VRRP_GROUP_V4, VRRP_PROTOCOL, VRRP_TTL, VRRP_TOS, this.buf, 0, n, 0, 0, now);
    if (this.txErrors !== undefined && this.txErrors(r.port.index) > before && priority !== 0) {
      r.inst.fault(now, `port ${r.port.name} cannot send (its link is down)`);
    }
  }

  /** While in fault: a frame to our own MAC (the bridge drops it) tells whether the port sends again. */
  private probe(r: Running, now: number): void {
    r.probeAt = now + r.inst.intervalMs;
    if (this.txErrors === undefined) return;
    const f = new Uint8Array(60);
    const m = r.port.mac;
    for (let k = 0; k < 6; k++) {
      const byte = Math.floor(m / 2 ** (8 * (5 - k))) & 0xff;
      f[k] = byte;
      f[6 + k] = byte;
    }
    f[12] = PROBE_ETHERTYPE >>> 8;
    f[13] = PROBE_ETHERTYPE & 0xff;
    const before = this.txErrors(r.port.index);
    this.d.host.emit(r.port.index, f, 0, f.length, PLAIN_FRAME);
    if (this.txErrors(r.port.index) === before) {
      r.probeAt = Infinity;
      r.inst.recover(now, `port ${r.port.name} sends again`);
    }
  }

  private managed(r: Running): number[] {
    return [...r.inst.cfg.addrs, ...r.inst.cfg.excluded];
  }

  private take(r: Running, now: number): void {
    for (const a of this.managed(r)) this.d.mutate.setVipActive(a, true);
    this.garp(r);
    r.garpAt = r.inst.cfg.garpDelayMs > 0 ? now + r.inst.cfg.garpDelayMs : Infinity;
  }

  private garp(r: Running): void {
    for (let k = 0; k < Math.max(1, r.inst.cfg.garpRepeat); k++) {
      for (const a of this.managed(r)) this.d.host.announceVip(a);
    }
  }

  private release(r: Running): void {
    r.garpAt = Infinity;
    for (const a of this.managed(r)) this.d.mutate.setVipActive(a, false);
  }

  private transitioned(r: Running, from: VrrpState, to: VrrpState, reason: string, now: number): void {
    const inst = r.inst;
    if (to === 'fault') r.probeAt = now + inst.intervalMs;
    const line = `vrrp ${inst.cfg.name}: ${from.toUpperCase()} -> ${to.toUpperCase()} (${reason})`;
    const obj = { vrrp: inst.cfg.name, vrid: inst.cfg.vrid, port: r.port.name, from, to, reason, priority: inst.cfg.priority };
    if (to === 'fault') this.log?.warn(obj, line);
    else this.log?.info(obj, line);
    for (const fn of this.listeners) fn(inst.cfg.name, from, to, reason, now);
  }

  /** A hook for the runtime: the deadlines moved (set by HaRuntime). */
  kick: () => void = () => {};
}
