// Control events beside a capture: every change a running director's rules
// went through (ipvsadm over the socket, reloads, health-check verdicts and
// sorry-server swaps), with its time and its place among the received
// frames, so that `tapvs replay` applies it at the same point and a session
// with rule changes replays to the same bytes.
//
// The file (`<case>.events`, JSON lines) holds, per event, the ipvsadm
// lines that turn the table before it into the table after it. They are not
// what the operator typed but what the table did: the recorder compares the
// live table with its last picture of it after each control operation, so
// every way of changing rules (and any a later feature adds) is caught the
// same way, and replay needs no health checker, no config file and no
// worker thread to reproduce it. The table is compared by object identity,
// so a real server removed and added again is recorded as such (it moved to
// the head of the list, as in the kernel) and not as "unchanged".
import { readFileSync } from 'node:fs';
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { FWD_MASQ, FWD_TUN, type Dest } from '../model/dest.js';
import { AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import type { Service } from '../model/service.js';
import type { MarkRule } from '../model/services.js';
import { formatAddr, formatAddrPort, formatIpv4, formatServiceKey, inetPton6, parseIpv4 } from './ipvsadm-args.js';
import { destAddr6, keyOfService } from './keys.js';
import { schedFlagsText } from './ipvsadm-format.js';
import { parseRestore } from './ipvsadm-save.js';
import { applyLive } from './live-rules.js';
import { DEFENSE_OPTION_NAMES, findSysctl, parseSysctlValue } from './sysctl.js';

/** One line of a `.events` file. */
export interface RuleEvent {
  /** Seconds since the Unix epoch as a decimal string, on the capture's clock ("1700000000.035000"). */
  time: string;
  /** Input frames received before it: replay applies it after that frame. Absent: placed by time. */
  after_frame?: number;
  /** Who changed the rules: "ipvsadm", "reload", "health", "start", or a word of the file's author. */
  source: string;
  /** What happened, in words (the ipvsadm command, the reload's changes, the check's verdict). */
  summary?: string;
  /** ipvsadm command lines (as -R reads them), applied as one batch, all or nothing. */
  ipvsadm: string[];
  /**
   * Connection sysctls after the event (only those that changed):
   * expire_nodest_conn, expire_quiescent_template and the SYN-flood
   * defences (control/sysctl.ts: drop_entry, drop_packet, secure_tcp,
   * amemthresh, am_droprate, evict_embryonic), booleans as 0/1.
   */
  set?: { expire_nodest_conn?: 0 | 1; expire_quiescent_template?: 0 | 1; [sysctl: string]: number | undefined };
  /** The mark rules after the event, when they changed. */
  marks?: { mark: number; proto: 'tcp' | 'udp' | 'sctp'; addr: string; ports: number[] }[];
}

// ---------------------------------------------------------------- the table as a picture

interface DestPic { obj: Dest; line: string; attrs: string }
interface SvcPic { obj: Service; key: string; line: string; dests: DestPic[] }
export interface RulesPicture {
  services: SvcPic[];
  timeouts: string;
  expireNodestConn: boolean;
  expireQuiescentTemplate: boolean;
  /** The defence sysctls as set (an automatic mode reading 2 is its setting 1: the director moves it itself). */
  defense: Record<string, number>;
  marks: string;
}

function serviceKey(s: Service): string {
  return formatServiceKey(keyOfService(s));
}

/** "-s rr -p 300 -M 255.255.255.0 -o -b sh-port": every attribute -A / -E sets. */
function serviceAttrs(s: Service): string {
  let t = `-s ${s.sched.name}`;
  if (s.timeout > 0) {
    t += ` -p ${s.timeout}`;
    if (s.af === AF_INET6) {
      if (s.prefix6 !== 128) t += ` -M ${s.prefix6}`;
    } else if (s.netmask >>> 0 !== 0xffffffff) t += ` -M ${formatIpv4(s.netmask)}`;
  }
  if (s.onePacket) t += ' -o';
  const flags = schedFlagsText(s);
  if (flags) t += ` -b ${flags}`;
  return t;
}

/** "-m -w 1 -x 0 -y 0": every attribute -a / -e sets. */
function destAttrs(d: Dest): string {
  const sw = d.fwd === FWD_MASQ ? '-m' : d.fwd === FWD_TUN ? '-i' : '-g';
  return `${sw} -w ${d.weight} -x ${d.uThreshold} -y ${d.lThreshold}`;
}

const destAddr = (d: Dest): string => formatAddrPort(d.addr, destAddr6(d), d.port);

/** A mark rule's address as recorded: dotted IPv4 or IPv6 text; null if it is neither. */
function markAddr(text: string): { addr: number; addr6?: Uint32Array } | null {
  const a = parseIpv4(text);
  if (a !== null) return { addr: a };
  const a6 = inetPton6(text);
  return a6 ? { addr: 0, addr6: a6 } : null;
}

function marksText(m: readonly MarkRule[]): string {
  return JSON.stringify(marksOf(m));
}

function marksOf(m: readonly MarkRule[]): NonNullable<RuleEvent['marks']> {
  return m.map((r) => ({ mark: r.mark, proto: r.proto === IPPROTO_UDP ? 'udp' as const : r.proto === IPPROTO_SCTP ? 'sctp' as const : 'tcp' as const, addr: formatAddr(r.addr, r.addr6), ports: [...r.ports] }));
}

/** What the rules are now, to compare with later. */
export function pictureOf(d: Director): RulesPicture {
  const t = d.conns.timeouts.get();
  return {
    services: d.services.all.map((s) => {
      const key = serviceKey(s);
      return {
        obj: s, key, line: `${key} ${serviceAttrs(s)}`,
        dests: s.dests.map((x) => ({ obj: x, line: `${key} -r ${destAddr(x)}`, attrs: destAttrs(x) })),
      };
    }),
    timeouts: `${t.tcp} ${t.tcpfin} ${t.udp}`,
    expireNodestConn: d.conns.settings.expireNodestConn,
    expireQuiescentTemplate: d.conns.settings.expireQuiescentTemplate,
    defense: defenseOf(d),
    marks: marksText(d.services.markRules),
  };
}

function defenseOf(d: Director): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of DEFENSE_OPTION_NAMES) {
    const def = findSysctl(name)!;
    const v = d.conns.settings[def.key];
    out[name] = typeof v === 'boolean' ? (v ? 1 : 0) : def.kind === 'mode' && v === 2 ? 1 : Number(v);
  }
  return out;
}

/**
 * The change from `a` to `b` as an event body: ipvsadm lines, and the
 * sysctls and mark rules when they changed. Applied to a table that is `a`
 * it gives `b`, real-server list order included (adds go to the head of the
 * list, so the new ones are added oldest first).
 */
export function diffPictures(a: RulesPicture, b: RulesPicture): Pick<RuleEvent, 'ipvsadm' | 'set' | 'marks'> | null {
  const lines: string[] = [];
  const bSvcs = new Set(b.services.map((s) => s.obj));
  const aSvcs = new Map(a.services.map((s) => [s.obj, s]));
  for (const s of a.services) if (!bSvcs.has(s.obj)) lines.push(`-D ${s.key}`);
  for (const s of b.services) {
    const old = aSvcs.get(s.obj);
    if (!old) {
      lines.push(`-A ${s.line}`);
      for (const x of [...s.dests].reverse()) lines.push(`-a ${x.line} ${x.attrs}`);
      continue;
    }
    if (old.line !== s.line) lines.push(`-E ${s.line}`);
    const now = new Set(s.dests.map((x) => x.obj));
    const before = new Map(old.dests.map((x) => [x.obj, x]));
    for (const x of old.dests) if (!now.has(x.obj)) lines.push(`-d ${x.line}`);
    for (const x of s.dests) {
      const o = before.get(x.obj);
      if (o && o.attrs !== x.attrs) lines.push(`-e ${x.line} ${x.attrs}`);
    }
    for (const x of [...s.dests].reverse()) if (!before.has(x.obj)) lines.push(`-a ${x.line} ${x.attrs}`);
  }
  if (a.timeouts !== b.timeouts) lines.push(`--set ${b.timeouts}`);
  const out: Pick<RuleEvent, 'ipvsadm' | 'set' | 'marks'> = { ipvsadm: lines };
  const set: NonNullable<RuleEvent['set']> = {};
  if (a.expireNodestConn !== b.expireNodestConn) set.expire_nodest_conn = b.expireNodestConn ? 1 : 0;
  if (a.expireQuiescentTemplate !== b.expireQuiescentTemplate) set.expire_quiescent_template = b.expireQuiescentTemplate ? 1 : 0;
  for (const name of DEFENSE_OPTION_NAMES) if (a.defense[name] !== b.defense[name]) set[name] = b.defense[name];
  if (Object.keys(set).length > 0) out.set = set;
  if (a.marks !== b.marks) out.marks = JSON.parse(b.marks) as RuleEvent['marks'];
  return lines.length > 0 || out.set || out.marks ? out : null;
}

// ---------------------------------------------------------------- the file

/** "1700000000.035000" from the port clock's ms. */
export function timeOfMs(ms: number): string {
  const us = BigInt(Math.round(ms * 1000));
  return `${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

/** A time as the events file gives it (decimal string or number of seconds) in ns. */
export function eventTimeNs(t: string | number): bigint {
  const s = String(t).trim();
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(s);
  if (!m) throw new Error(`time '${s}': seconds since the epoch, like 1700000000.035 (up to 9 decimals)`);
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** An event checked and ready for replay. */
export interface LoadedEvent {
  event: RuleEvent;
  /** Line in the file, for messages. */
  line: number;
  timeNs: bigint;
}

/**
 * Reads a `.events` file: one JSON object per line; blank lines and lines
 * starting with '#' are skipped. Every error names its line. The ipvsadm
 * lines are parsed here, so a typo fails before the replay starts.
 */
export function readEvents(path: string): LoadedEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read events ${path}: ${(e as Error).message}`);
  }
  return parseEvents(text, path);
}

export function parseEvents(text: string, path: string): LoadedEvent[] {
  const out: LoadedEvent[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    const bad = (msg: string) => errors.push(`${path}:${line}: ${msg}`);
    let ev: RuleEvent;
    try {
      ev = JSON.parse(s) as RuleEvent;
    } catch (e) {
      bad(`not a JSON object: ${(e as Error).message}`);
      return;
    }
    if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return bad('not a JSON object');
    let timeNs: bigint;
    try {
      if (typeof ev.time !== 'string' && typeof ev.time !== 'number') throw new Error('"time" is missing');
      timeNs = eventTimeNs(ev.time);
    } catch (e) {
      return bad((e as Error).message);
    }
    if (ev.after_frame !== undefined && (!Number.isInteger(ev.after_frame) || ev.after_frame < 0)) return bad('"after_frame" must be a whole number of frames');
    if (ev.source !== undefined && typeof ev.source !== 'string') return bad('"source" must be a string');
    const cmds = ev.ipvsadm ?? [];
    if (!Array.isArray(cmds) || cmds.some((c) => typeof c !== 'string')) return bad('"ipvsadm" must be a list of command lines');
    const p = parseRestore(cmds.join('\n'));
    if ('errors' in p) return bad(p.errors.map((e) => `ipvsadm line ${e.line} '${cmds[e.line - 1]}': ${e.message}`).join('; '));
    if (ev.set !== undefined) {
      for (const [k, v] of Object.entries(ev.set)) {
        if (k !== 'expire_nodest_conn' && k !== 'expire_quiescent_template' && !DEFENSE_OPTION_NAMES.includes(k)) {
          return bad(`"set": unknown setting '${k}' (expire_nodest_conn, expire_quiescent_template, ${DEFENSE_OPTION_NAMES.join(', ')})`);
        }
        if (k.startsWith('expire_') && v !== 0 && v !== 1) return bad(`"set": ${k} must be 0 or 1`);
        const r = parseSysctlValue(findSysctl(k)!, typeof v === 'number' ? String(v) : '?');
        if ('error' in r) return bad(`"set": ${k}: ${r.error}`);
      }
    }
    if (ev.marks !== undefined) {
      if (!Array.isArray(ev.marks)) return bad('"marks" must be a list');
      for (const m of ev.marks) {
        if (!Number.isInteger(m.mark) || m.mark < 1 || (m.proto !== 'tcp' && m.proto !== 'udp' && m.proto !== 'sctp') || typeof m.addr !== 'string' || markAddr(m.addr) === null || !Array.isArray(m.ports)) {
          return bad('a mark rule is { "mark": N, "proto": "tcp"|"udp"|"sctp", "addr": "A.B.C.D" or an IPv6 address, "ports": [..] }');
        }
      }
    }
    out.push({ event: { ...ev, source: ev.source ?? 'events', ipvsadm: cmds }, line, timeNs });
  });
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return out;
}

/** Applies one event to a director (a replay's): the ipvsadm lines as one batch, then sysctls and marks. Throws naming the line. */
export function applyEvent(director: Director, topology: DirectorConfig, ev: LoadedEvent, path: string): void {
  const cmds = ev.event.ipvsadm;
  const p = parseRestore(cmds.join('\n'));
  if ('errors' in p) throw new Error(`${path}:${ev.line}: ${p.errors[0]!.message}`);
  const r = applyLive(director, topology, p.commands);
  if (!r.ok) {
    const e = r.errors[0]!;
    throw new Error(`${path}:${ev.line}: '${cmds[p.lines[e.index]! - 1]}' refused: ${e.message} (the rules at that point differ from the recorded session's)`);
  }
  const set = ev.event.set;
  if (set) {
    const s: Record<string, number | boolean> = {};
    if (set.expire_nodest_conn !== undefined) s.expireNodestConn = set.expire_nodest_conn === 1;
    if (set.expire_quiescent_template !== undefined) s.expireQuiescentTemplate = set.expire_quiescent_template === 1;
    for (const name of DEFENSE_OPTION_NAMES) {
      const v = set[name];
      if (v === undefined) continue;
      const r = parseSysctlValue(findSysctl(name)!, String(v));
      if ('value' in r) s[findSysctl(name)!.key] = r.value;
    }
    director.mutate.setConnSettings(s);
  }
  if (ev.event.marks) {
    director.mutate.setMarks(ev.event.marks.map((m) => ({
      mark: m.mark, proto: m.proto === 'udp' ? IPPROTO_UDP : m.proto === 'sctp' ? IPPROTO_SCTP : IPPROTO_TCP, ...markAddr(m.addr)!, ports: [...m.ports],
    })));
  }
}

// ---------------------------------------------------------------- recording

/**
 * What the control plane tells about its operations (ControlPlaneOptions.watch).
 * `changing` opens a window in which the rules may change over several
 * turns of the event loop (a reload applied in slices between frames);
 * `changed` closes it, or reports a change made at once.
 */
export interface RuleWatcher {
  changing(source: string): void;
  changed(source: string, summary: string): void;
}

/**
 * Records rule changes of a live director as events. The control plane
 * reports each operation (RuleWatcher); the recorder compares the table with
 * its last picture and writes an event when they differ, stamped with the
 * clock and the count of frames received so far. While an operation is
 * open, the table is also compared before each received frame, so the
 * slices of a large reload land between the same frames in replay. As a
 * safety net for a change no one reported, the table is compared on every
 * timer tick too (source "unreported").
 */
export class RuleRecorder implements RuleWatcher {
  private pic: RulesPicture;
  private open = new Map<string, number>();
  /** Input frames received so far (the recorder of frames counts them). */
  frames = 0;

  constructor(
    private readonly director: Director,
    private readonly write: (ev: RuleEvent) => void,
    private readonly clock: () => number,
    /** Told of each event written (the decision log shows it). */
    private readonly onEvent?: (ev: RuleEvent, timeMs: number) => void,
  ) {
    this.pic = pictureOf(director);
  }

  changing(source: string): void {
    this.open.set(source, (this.open.get(source) ?? 0) + 1);
  }

  changed(source: string, summary: string): void {
    const n = this.open.get(source) ?? 0;
    if (n > 1) this.open.set(source, n - 1);
    else this.open.delete(source);
    this.check(source, summary);
  }

  /** Before a received frame: an operation still open may have changed the table since the last frame. */
  beforeFrame(): void {
    if (this.open.size > 0) this.check([...this.open.keys()].join('+'), 'in progress');
  }

  /** On a timer tick: anything changed that nothing reported. */
  onTick(): void {
    this.check(this.open.size > 0 ? [...this.open.keys()].join('+') : 'unreported', this.open.size > 0 ? 'in progress' : 'rules changed');
  }

  private check(source: string, summary: string): void {
    const now = pictureOf(this.director);
    const d = diffPictures(this.pic, now);
    this.pic = now;
    if (!d) return;
    const ms = this.clock();
    const ev: RuleEvent = { time: timeOfMs(ms), after_frame: this.frames, source, summary, ...d };
    this.write(ev);
    this.onEvent?.(ev, ms);
  }
}
