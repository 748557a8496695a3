import { copyFileSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, formatConfigError } from '../control/config.js';
import type { DirectorConfig } from '../model/config.js';
import { Director } from '../director/director.js';
import { type CaptureReader, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, openCapture, PcapngStreamWriter } from '../io/pcap-file.js';
import {
  ADAPTABLE_LINK_TYPES,
  ADAPTABLE_TEXT,
  SLL2_HEADER_LEN,
  SLL_HEADER_LEN,
  adaptReason,
  sll2IfIndex,
  stripVlanTags,
  toEthernet,
} from '../io/link-adapt.js';
import { HEADROOM, PLAIN_FRAME } from '../io/port.js';
import { GsoComments, readGsoComment } from '../io/gso-comment.js';
import { textTrace } from '../trace/text.js';
import { DecisionLog, teeSinks } from '../trace/decisions.js';
import { applyEvent, readEvents, type LoadedEvent } from '../control/rule-log.js';
import { checkReplay, parseIgnore, sidecarEvents } from './expect.js';
import { LineFile } from './line-file.js';
import { parseFlags } from './main.js';
import type { ReplayUi } from '../ui/index.js';

/** Largest frame (after a cooked header is taken off) a replay hands the director; longer ones are counted, not replayed. */
export const MAX_REPLAY_FRAME = 65536;
/** Reason counted for captured frames over MAX_REPLAY_FRAME. */
export const TOO_BIG = 'capture-frame-too-big';
/** Reason counted for SLL2 frames whose Linux interface index no `--map ifindex:N=PORT` names. */
export const UNMAPPED_IFINDEX = 'sll-unmapped-ifindex';

export interface ReplayResult {
  /** Frames read from the capture, replayed or not. */
  framesIn: number;
  framesOut: number;
  /** The director's drops by reason, and the frames the replay could not hand it (`skipped`). */
  drops: Record<string, number>;
  /** Captured frames not given to the director, by reason (too big, cooked frames it cannot use). */
  skipped: Record<string, number>;
  /** Frames that had 802.1Q / 802.1ad tags taken out (`stripVlan`). */
  vlanStripped: number;
  /** Frames stamped earlier than the frame before them: the capture is not in time order (still replayed in file order). */
  outOfOrder: number;
  /** Control events applied (ReplayOptions.events). */
  eventsApplied: number;
  director: Director;
}

export interface ReplayOptions {
  /** The port every capture interface feeds unless `map` says otherwise. */
  port?: string;
  /** Capture interface → port, as `--map` takes it: "if0=outside,inside=inside,ifindex:3=outside". */
  map?: string;
  /** Take 802.1Q / 802.1ad tags out of every frame before the director sees it. */
  stripVlan?: boolean;
  trace?: (line: string) => void;
  /** Read window of the input, in bytes (default 1 MiB). */
  readBufferBytes?: number;
  /** The decision log to feed (one record per input frame, timer step and control event). */
  decisions?: DecisionLog;
  /**
   * Control events (control/rule-log.ts), applied in file order: each after
   * input frame `after_frame` when it says, else before the first frame
   * stamped at or after its time; those left after the last frame at the end.
   */
  events?: readonly LoadedEvent[];
  /** The events' file, for error messages. */
  eventsPath?: string;
  /** Asked after each input frame: true stops the replay there (a re-run that only needs the decisions up to a point). */
  stop?: () => boolean;
  /** `--ui`: the browser view records the replay's passes and tables (src/ui). */
  ui?: ReplayUi;
}

/** Loads and parses a config file, or throws an Error listing every problem with its line. */
export function loadConfig(path: string): DirectorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read config ${path}: ${(e as Error).message}`);
  }
  const r = parseConfig(text, path);
  if ('errors' in r) throw new Error(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

/** A parsed `--map`: capture interfaces (by name, index "N" or "ifN") and SLL2 Linux interface indexes, to port indexes. */
export interface PortMap {
  byInterface: Map<string, number>;
  byIfIndex: Map<number, number>;
}

/** Parses `--map KEY=PORT[,KEY=PORT...]`; throws on a malformed entry, an unknown port or a key given twice. */
export function parsePortMap(spec: string, portNames: readonly string[]): PortMap {
  const map: PortMap = { byInterface: new Map(), byIfIndex: new Map() };
  for (const entry of spec.split(',')) {
    const eq = entry.lastIndexOf('=');
    const key = entry.slice(0, eq).trim();
    const port = entry.slice(eq + 1).trim();
    if (eq < 0 || key === '' || port === '') throw new Error(`--map '${entry}': expected INTERFACE=PORT (e.g. --map if0=outside,if1=inside)`);
    const p = portIndexOf(portNames, port, `--map ${entry}: '${port}'`);
    const ifindex = /^ifindex:(\d+)$/.exec(key);
    if (ifindex) {
      const n = Number(ifindex[1]);
      if (map.byIfIndex.has(n)) throw new Error(`--map: ifindex:${n} is mapped twice`);
      map.byIfIndex.set(n, p);
    } else {
      if (map.byInterface.has(key)) throw new Error(`--map: '${key}' is mapped twice`);
      map.byInterface.set(key, p);
    }
  }
  return map;
}

// ifPort entries besides port indexes
const BY_IFINDEX = -1;

/**
 * Runs captured frames through a director with the capture's timestamps as
 * the clock and streams what it sends, per port, into the pcapng `outPath`
 * (interfaces: the director's ports). Deterministic: the same input and
 * config give the same bytes. Input and output are streamed, so memory use
 * does not grow with the capture; the output appears under `outPath` only
 * when the whole replay succeeded.
 */
export function replayTo(cfg: DirectorConfig, inPath: string, outPath: string, opts: ReplayOptions = {}): ReplayResult {
  const tmp = `${outPath}.tmp-${process.pid}`;
  try {
    const result = replayInto(cfg, inPath, tmp, opts);
    renameSync(tmp, outPath);
    return result;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * The older shape of `replayTo`, for callers that name the output after the
 * run: the output is spooled to a temporary file (never held in memory) and
 * `writer.writeFile(path)` moves it into place.
 */
export function replay(
  cfg: DirectorConfig, inPath: string, opts: ReplayOptions = {},
): { result: ReplayResult; writer: { writeFile(path: string): void } } {
  const spool = join(tmpdir(), `tapvs-replay-${process.pid}-${Date.now()}.pcapng`);
  const cleanup = (): void => rmSync(spool, { force: true });
  process.once('exit', cleanup);
  let result: ReplayResult;
  try {
    result = replayInto(cfg, inPath, spool, opts);
  } catch (e) {
    cleanup();
    throw e;
  }
  const writer = {
    writeFile(path: string): void {
      try {
        renameSync(spool, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
        copyFileSync(spool, path);
        cleanup();
      }
    },
  };
  return { result, writer };
}

function replayInto(cfg: DirectorConfig, inPath: string, outPath: string, opts: ReplayOptions): ReplayResult {
  const portNames = cfg.ports.map((p) => p.name);
  const portMacs = cfg.ports.map((p) => p.mac);
  const map = opts.map === undefined ? undefined : parsePortMap(opts.map, portNames);
  const defaultPort = opts.port === undefined ? undefined : portIndexOf(portNames, opts.port, `--port ${opts.port}`);
  const reader = openCapture(inPath, { linkTypes: ADAPTABLE_LINK_TYPES, supported: ADAPTABLE_TEXT, bufferBytes: opts.readBufferBytes });
  let writer: PcapngStreamWriter | undefined;
  try {
    // written through a 1 MiB buffer
    writer = PcapngStreamWriter.open(outPath, portNames, { bufferBytes: 1 << 20 });
    const out = writer;
    let clockNs = 0n;
    const meta = { gsoType: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
    const log = opts.decisions;
    const comments = new GsoComments();
    const director = new Director(cfg, {
      send: (port, buf, off, len, meta) => out.addFrom(port, clockNs, buf, off, len, comments.of(meta)),
    }, { trace: teeSinks(opts.trace ? textTrace(opts.trace) : undefined, log?.sink, opts.ui?.sink) });
    opts.ui?.started(director, cfg);

    const events = opts.events ?? [];
    let nextEvent = 0;
    /** Applies the events due before input frame `n` stamped `timeNs` (Infinity-like: every one left). */
    const applyDue = (n: number, timeNs: bigint | null): void => {
      while (nextEvent < events.length) {
        const ev = events[nextEvent]!;
        const due = timeNs === null || (ev.event.after_frame !== undefined ? ev.event.after_frame < n : ev.timeNs <= timeNs);
        if (!due) break;
        nextEvent++;
        applyEvent(director, cfg, ev, opts.eventsPath ?? 'events');
        log?.control({ timeMs: Number(ev.timeNs / 1000n) / 1000, source: ev.event.source, summary: ev.event.summary ?? '', applied: ev.event.ipvsadm });
      }
    };

    const usedKeys = new Set<string>();
    const usedIfIndexes = new Set<number>();
    const ifPort: number[] = [];
    const ifLinkType: number[] = [];
    const resolveNew = (): void => {
      while (ifPort.length < reader.interfaces.length) {
        const i = ifPort.length;
        ifLinkType.push(reader.interfaces[i]!.linkType);
        ifPort.push(interfacePort(reader, i, portNames, map, defaultPort, usedKeys));
      }
    };

    const skipped = new Map<string, number>();
    const skip = (reason: string, n: number): void => {
      skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
      opts.trace?.(`[frame ${n}] not replayed: ${reason}`);
      log?.skipped(n, Number(clockNs / 1000n) / 1000, reason);
    };

    const buf = new Uint8Array(HEADROOM + MAX_REPLAY_FRAME + SLL2_HEADER_LEN + HEADROOM);
    let framesIn = 0;
    let vlanStripped = 0;
    let outOfOrder = 0;
    let started = false;
    let stopped = false;
    resolveNew();
    while (reader.next()) {
      framesIn++;
      resolveNew();
      if (reader.timeNs < clockNs) outOfOrder++;
      clockNs = reader.timeNs;
      const now = Number(clockNs / 1000n) / 1000;
      if (!started) {
        log?.timer(now, 'start');
        director.start(now);
        started = true;
      }
      if (nextEvent < events.length) applyDue(framesIn, clockNs);
      log?.timer(now);
      opts.ui?.timer(now);
      director.tick(now);
      const linkType = ifLinkType[reader.ifIndex]!;
      const cooked = linkType === LINKTYPE_LINUX_SLL2 ? SLL2_HEADER_LEN : linkType === LINKTYPE_LINUX_SLL ? SLL_HEADER_LEN : 0;
      if (reader.capLen - cooked > MAX_REPLAY_FRAME) {
        skip(TOO_BIG, framesIn);
        continue;
      }
      let port = ifPort[reader.ifIndex]!;
      if (port === BY_IFINDEX) {
        if (reader.capLen < SLL2_HEADER_LEN) {
          skip('sll-truncated', framesIn);
          continue;
        }
        const linuxIf = sll2IfIndex(reader.buf, reader.off);
        port = map!.byIfIndex.get(linuxIf) ?? -1;
        if (port < 0) {
          skip(UNMAPPED_IFINDEX, framesIn);
          continue;
        }
        usedIfIndexes.add(linuxIf);
      }
      let len = toEthernet(linkType, reader.buf, reader.off, reader.capLen, buf, HEADROOM, portMacs[port]!);
      if (len < 0) {
        skip(adaptReason(len), framesIn);
        continue;
      }
      let off = HEADROOM;
      if (opts.stripVlan) {
        const tags = stripVlanTags(buf, off, len);
        if (tags > 0) {
          off += 4 * tags;
          len -= 4 * tags;
          vlanStripped++;
        }
      }
      log?.frame(framesIn);
      // a super-frame recorded with offload goes in as the live director got it (io/gso-comment.ts)
      director.process(port, buf, off, len, now, readGsoComment(reader.comment, meta) ? meta : PLAIN_FRAME);
      if (opts.stop?.()) {
        stopped = true;
        break;
      }
    }
    if (!stopped) applyDue(framesIn + 1, null);
    log?.flush();
    resolveNew();
    if (map && !stopped) checkMapUsed(map, usedKeys, usedIfIndexes, reader, inPath);

    writer = undefined;
    out.close();
    if (out.writeErrors > 0) throw new Error(`cannot write ${outPath}: ${out.lastError?.message ?? 'write failed'}`);
    if (out.rejected > 0) throw new Error(`${out.rejected} frames sent could not be written to ${outPath}`);
    const skippedObj = Object.fromEntries(skipped);
    return {
      framesIn,
      framesOut: director.counters.framesOut,
      drops: { ...director.drops.toObject(), ...skippedObj },
      skipped: skippedObj,
      vlanStripped,
      outOfOrder,
      eventsApplied: nextEvent,
      director,
    };
  } finally {
    reader.close();
    writer?.close();
  }
}

/** Which port capture interface `i` feeds: --map, then --port, then its name; BY_IFINDEX for SLL2 placed by --map ifindex:N. */
function interfacePort(
  reader: CaptureReader, i: number, portNames: readonly string[], map: PortMap | undefined, defaultPort: number | undefined,
  usedKeys: Set<string>,
): number {
  const itf = reader.interfaces[i]!;
  const name = itf.name ?? '';
  if (map) {
    for (const key of [name, String(i), `if${i}`]) {
      const p = key === '' ? undefined : map.byInterface.get(key);
      if (p !== undefined) {
        usedKeys.add(key);
        return p;
      }
    }
    if (map.byIfIndex.size > 0 && itf.linkType === LINKTYPE_LINUX_SLL2) return BY_IFINDEX;
  }
  if (defaultPort !== undefined) return defaultPort;
  let hint = itf.linkType === LINKTYPE_LINUX_SLL2 ? '; an SLL2 capture can be placed by Linux interface index, --map ifindex:N=PORT' : '';
  const unmatched = map ? [...map.byInterface.keys()].filter((k) => !usedKeys.has(k)) : [];
  if (unmatched.length > 0) hint += ` (--map entries matched by no interface so far: ${unmatched.join(', ')})`;
  if (reader.format === 'pcap' || name === '') {
    if (portNames.length === 1) return 0;
    throw new Error(
      `${reader.name}: interface ${i} has no name; name the ingress port with --port or --map if${i}=PORT (ports: ${portNames.join(', ')})${hint}`,
    );
  }
  return portIndexOf(portNames, name, `${reader.name}: interface '${name}'`, `; map it with --map ${name}=PORT${hint}`);
}

/** Every --map entry must have matched: a typo would otherwise replay into the wrong port silently. */
function checkMapUsed(map: PortMap, usedKeys: Set<string>, usedIfIndexes: Set<number>, reader: CaptureReader, inPath: string): void {
  const itfs = reader.interfaces.map((f, i) => (f.name === undefined ? `${i}` : `${i} '${f.name}'`)).join(', ');
  for (const key of map.byInterface.keys()) {
    if (!usedKeys.has(key)) throw new Error(`--map ${key}: no interface of ${inPath} has that name or index (interfaces: ${itfs})`);
  }
  for (const n of map.byIfIndex.keys()) {
    if (!usedIfIndexes.has(n)) throw new Error(`--map ifindex:${n}: no SLL2 frame of ${inPath} was captured on Linux interface ${n}`);
  }
}

function portIndexOf(names: readonly string[], name: string, what: string, hint = ''): number {
  const i = names.indexOf(name);
  if (i < 0) throw new Error(`${what} is not a port of this config (ports: ${names.join(', ')})${hint}`);
  return i;
}

/** Exit statuses of `tapvs replay --expect` (and `tapvs test`). */
export const EXIT_SAME = 0;
export const EXIT_DIFFERENT = 1;
export const EXIT_ERROR = 2;

/**
 * `tapvs replay`: flags, the replay, and its one-line summary on stderr.
 * With --expect the output is compared with the expected capture: exit 0
 * when equal, 1 with a report when not, 2 on a usage or file error.
 */
export function replayCommand(args: string[]): number | Promise<number> {
  const { flags } = parseFlags(args, ['config', 'in', 'out', 'port', 'map', 'expect', 'ignore', 'decisions', 'events', 'ui', 'ui-lab']);
  const expect = typeof flags.expect === 'string' ? flags.expect : undefined;
  if (typeof flags.ui === 'string' && expect === undefined) return uiReplay(flags, flags.ui);
  if (flags.ui !== undefined) throw new Error('--ui ADDR:PORT: with a plain replay (not --expect)');
  if (expect === undefined) return plainReplay(flags);
  try {
    return expectReplay(flags, expect);
  } catch (e) {
    process.stderr.write(`tapvs replay: ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
}

type Flags = ReturnType<typeof parseFlags>['flags'];

function commonOptions(flags: Flags): { cfg: DirectorConfig; inPath: string; events?: LoadedEvent[]; eventsPath?: string; opts: ReplayOptions } {
  for (const k of ['config', 'in']) if (typeof flags[k] !== 'string') throw new Error(`--${k} is required (see tapvs help)`);
  if (flags.ignore !== undefined && flags.expect === undefined) throw new Error('--ignore needs --expect: it says which fields the comparison leaves out');
  const cfg = loadConfig(flags.config as string);
  const inPath = flags.in as string;
  const eventsPath = sidecarEvents(inPath, flags.events as string | undefined, flags['no-events'] === true);
  const events = eventsPath !== undefined ? readEvents(eventsPath) : undefined;
  const trace = flags.trace ? (l: string) => process.stdout.write(l + '\n') : undefined;
  const opts: ReplayOptions = {
    port: flags.port as string | undefined,
    map: flags.map as string | undefined,
    stripVlan: flags['strip-vlan'] === true,
    trace,
  };
  return { cfg, inPath, ...(events ? { events, eventsPath } : {}), opts };
}

function plainReplay(flags: Flags): number {
  if (typeof flags.out !== 'string') throw new Error('--out is required (see tapvs help)');
  const c = commonOptions(flags);
  const decisions = typeof flags.decisions === 'string' ? new LineFile(flags.decisions) : undefined;
  const log = decisions ? new DecisionLog((l) => decisions.line(l)) : undefined;
  try {
    const result = replayTo(c.cfg, c.inPath, flags.out, { ...c.opts, decisions: log, events: c.events, eventsPath: c.eventsPath });
    process.stderr.write(summary(result, c.eventsPath) + '\n');
  } finally {
    decisions?.close();
  }
  return 0;
}

/** `--ui`: the replay as usual, then its timeline served to the browser view until SIGINT / SIGTERM. */
async function uiReplay(flags: Flags, spec: string): Promise<number> {
  if (typeof flags.out !== 'string') throw new Error('--out is required (see tapvs help)');
  const { replayUi, uiSettings, serveReplayUntilStopped } = await import('../ui/index.js');
  const ui = replayUi(uiSettings(spec, flags['ui-lab'] as string | undefined));
  const c = commonOptions(flags);
  const result = replayTo(c.cfg, c.inPath, flags.out, { ...c.opts, events: c.events, eventsPath: c.eventsPath, ui });
  const line = summary(result, c.eventsPath);
  process.stderr.write(line + '\n');
  return serveReplayUntilStopped(ui, c.inPath, line, (l) => process.stderr.write(l + '\n'));
}

function expectReplay(flags: Flags, expect: string): number {
  const c = commonOptions(flags);
  const ignore = parseIgnore(flags.ignore as string | undefined);
  const r = checkReplay({
    cfg: c.cfg, inPath: c.inPath, expectedPath: expect, replay: c.opts, ignore,
    ...(typeof flags.out === 'string' ? { outPath: flags.out } : {}),
    ...(c.events ? { events: c.events, eventsPath: c.eventsPath } : {}),
    ...(typeof flags.decisions === 'string' ? { decisionsPath: flags.decisions } : {}),
  });
  process.stderr.write(summary(r.replay, c.eventsPath) + '\n');
  if (r.ok) {
    process.stderr.write(`output matches ${expect}: ${r.compare.expectedFrames} frames${ignore.length ? ` (ignoring ${ignore.join(', ')})` : ''}\n`);
    return EXIT_SAME;
  }
  process.stdout.write(`output differs from ${expect}\n${r.report ?? ''}\n`);
  return EXIT_DIFFERENT;
}

/** "replayed N frames, sent M; drops: reason=n ...", as `tapvs replay` prints it. */
export function summary(result: ReplayResult, eventsPath?: string): string {
  const drops = Object.entries(result.drops).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const vlan = result.vlanStripped > 0 ? `; vlan tags stripped from ${result.vlanStripped} frames` : '';
  const order = result.outOfOrder > 0
    ? `; ${result.outOfOrder} frames stamped earlier than the frame before (the capture is not in time order; reordercap sorts it)`
    : '';
  const events = eventsPath !== undefined ? `; ${result.eventsApplied} control events applied from ${eventsPath}` : '';
  return `replayed ${result.framesIn} frames, sent ${result.framesOut}; drops: ${drops}${vlan}${order}${events}`;
}
