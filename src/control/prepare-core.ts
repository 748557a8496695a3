// What the control plane prepares off the forwarding thread (prepare.ts runs
// it in a worker): a config file parsed and checked whole, a control request
// decoded, an ipvsadm -R text parsed. The result travels back as JSON text
// cut into chunks, and the forwarding thread turns the chunks back into
// objects a slice at a time: a structured-clone message is rebuilt in one
// step on the receiving thread (about a second for the commands of a 15 MiB
// -R text), a chunk of JSON costs what its own length costs.
import { formatConfigError, parseConfig } from './config.js';
import { parseIpvsadmArgs, type IpvsadmCommand, type NameLookup } from './ipvsadm-args.js';
import { answerLookup } from './ipvsadm-names.js';
import { parseRestore } from './ipvsadm-save.js';
import { requestProblem, type ControlRequest } from './control-socket.js';
import type { DirectorConfig } from '../model/config.js';
import type { Steps } from './slices.js';

/** Errors sent back and logged at most; a file of garbage has one per line. */
export const MAX_ERRORS = 200;
/** About this many array elements (a service and its real servers, a marked port) per chunk. */
const CHUNK_WEIGHT = 2000;

// JSON has no typed arrays; IPv6 addresses are Uint32Arrays
function replacer(_k: string, v: unknown): unknown {
  return v instanceof Uint32Array ? { $u32: Array.from(v) } : v;
}
function reviver(_k: string, v: unknown): unknown {
  if (v !== null && typeof v === 'object' && '$u32' in v) return Uint32Array.from((v as { $u32: number[] }).$u32);
  return v;
}
export const toJson = (v: unknown): string => JSON.stringify(v, replacer);
// the reviver is called for every value: only chunks that hold a typed array pay for it
export const fromJson = (s: string): unknown => (s.includes('"$u32"') ? JSON.parse(s, reviver) : JSON.parse(s));

/** How much rebuilding an element costs, in elements: a service counts its real servers, a mark rule its ports. */
function weight(v: unknown): number {
  if (v === null || typeof v !== 'object') return 1;
  const o = v as { dests?: unknown[]; ports?: unknown[] };
  return 1 + (Array.isArray(o.dests) ? o.dests.length : 0) + (Array.isArray(o.ports) ? o.ports.length : 0);
}

/** An array as JSON chunks of about CHUNK_WEIGHT elements each, packed. */
export function chunkArray(items: readonly unknown[]): StringPack {
  return StringPack.of(chunkStrings(items));
}

function chunkStrings(items: readonly unknown[]): string[] {
  const out: string[] = [];
  let cur: unknown[] = [];
  let w = 0;
  for (const it of items) {
    cur.push(it);
    w += weight(it);
    if (w >= CHUNK_WEIGHT) {
      out.push(toJson(cur));
      cur = [];
      w = 0;
    }
  }
  if (cur.length > 0) out.push(toJson(cur));
  return out;
}

/** An object whose array fields travel as chunks; the rest as one small JSON text. */
export interface Packed {
  head: string;
  /** JSON chunks of each array. */
  arrays: Record<string, StringPack>;
}

export function pack(obj: object): Packed {
  const head: Record<string, unknown> = {};
  const arrays: Record<string, StringPack> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v)) arrays[k] = chunkArray(v);
    else head[k] = v;
  }
  return { head: toJson(head), arrays };
}

/** Rebuilds a packed object, one chunk per step. */
export function* unpack<T>(p: Packed): Steps<T> {
  const obj = fromJson(p.head) as Record<string, unknown>;
  for (const [k, chunks] of Object.entries(p.arrays)) {
    const list: unknown[] = [];
    for (const c of chunks) {
      for (const it of fromJson(c) as unknown[]) list.push(it);
      yield;
    }
    obj[k] = list;
  }
  return obj as T;
}

export type PreparedConfig =
  | { ok: true; config: Packed }
  | { ok: false; errors: string[]; more: number };

function capped(errors: string[]): { ok: false; errors: string[]; more: number } {
  return { ok: false, errors: errors.slice(0, MAX_ERRORS), more: Math.max(0, errors.length - MAX_ERRORS) };
}

const utf8 = new TextDecoder('utf-8');

/** A config file's bytes parsed and checked (parseConfig: topology included). */
export function prepareConfig(bytes: Uint8Array, file: string): PreparedConfig {
  const r = parseConfig(utf8.decode(bytes), file);
  if ('errors' in r) return capped(r.errors.map(formatConfigError));
  return { ok: true, config: pack(r.config) };
}

/** One restore command and the line it came from. */
export interface RestoreLine {
  line: number;
  command: IpvsadmCommand;
}

export type PreparedRestore =
  | { ok: true; count: number; lines: StringPack /* JSON chunks of RestoreLine[] */ }
  | { ok: false; errors: string[]; more: number };

/** An ipvsadm -R text parsed (parseRestore, with the client's answers to its name lookups), as chunks. */
export function prepareRestore(text: string, names?: NameLookup): PreparedRestore {
  const p = parseRestore(text, names);
  if ('errors' in p) return capped(p.errors.map((e) => `line ${e.line}: ${e.message}`));
  const lines: RestoreLine[] = p.commands.map((command, i) => ({ line: p.lines[i]!, command }));
  return { ok: true, count: lines.length, lines: chunkArray(lines) };
}

/** The commands of a prepared restore, a chunk at a time, each pass anew; `lines` is filled with each command's line. */
export function restoreChunks(chunks: StringPack, lines: Int32Array): Iterable<IpvsadmCommand[]> {
  return {
    *[Symbol.iterator]() {
      let i = 0;
      for (const c of chunks) {
        const cmds: IpvsadmCommand[] = [];
        for (const l of fromJson(c) as RestoreLine[]) {
          lines[i++] = l.line;
          cmds.push(l.command);
        }
        yield cmds;
      }
    },
  };
}

/**
 * A decoded control request. For -R, `restore` holds the parsed stdin and
 * `stdin` is left out (the forwarding thread never holds the text).
 */
export type PreparedRequest =
  | { ok: true; req: ControlRequest; restore?: PreparedRestore }
  | { ok: false; problem: string };

/** One request's bytes (the JSON object of control-socket.ts) decoded and checked; -R's text parsed. */
export function prepareRequest(bytes: Uint8Array): PreparedRequest {
  let v: unknown;
  try {
    v = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
  const problem = requestProblem(v);
  if (problem) return { ok: false, problem };
  const req = v as ControlRequest;
  const lookup = req.names ? answerLookup(req.names) : undefined;
  const parsed = parseIpvsadmArgs(req.argv, lookup);
  // the names the client resolved go on with the request (the argv is parsed again where it runs)
  const base: ControlRequest = req.names ? { argv: req.argv, names: req.names } : { argv: req.argv };
  if (parsed.ok && parsed.command.cmd === 'restore') {
    // -R --compat runs line by line as ipvsadm does, each line on its own: it takes the text itself
    if (parsed.command.compat) return { ok: true, req: { ...base, stdin: req.stdin ?? '' } };
    return { ok: true, req: base, restore: prepareRestore(req.stdin ?? '', lookup) };
  }
  // only -R reads stdin
  return { ok: true, req: base };
}

// A message is rebuilt on its receiving thread in one step, and all the
// messages waiting on a port are taken in one turn of the event loop. So the
// JSON chunks of a result travel as one buffer of bytes moved (not copied)
// to the other thread, and each chunk becomes a string only when read.

/** Strings packed in one buffer, decoded one at a time as they are iterated. */
export class StringPack implements Iterable<string> {
  constructor(readonly bytes: Uint8Array, readonly ends: Uint32Array) {}

  get length(): number {
    return this.ends.length;
  }

  *[Symbol.iterator](): Iterator<string> {
    let start = 0;
    for (const end of this.ends) {
      yield utf8.decode(this.bytes.subarray(start, end));
      start = end;
    }
  }

  static of(strings: readonly string[]): StringPack {
    const enc = new TextEncoder();
    const ends = new Uint32Array(strings.length);
    let total = 0;
    strings.forEach((x, i) => { total += Buffer.byteLength(x); ends[i] = total; });
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const x of strings) at += enc.encodeInto(x, bytes.subarray(at)).written;
    return new StringPack(bytes, ends);
  }
}

interface PackMarker {
  $pack: number;
}

/**
 * Replaces every StringPack in `v` (at any depth) by a marker, appending it
 * to `packs`: the packs' buffers are what to move with the message.
 */
export function detachPacks(v: unknown, packs: StringPack[]): unknown {
  if (v instanceof StringPack) {
    packs.push(v);
    return { $pack: packs.length - 1 } satisfies PackMarker;
  }
  if (Array.isArray(v)) return v.map((x) => detachPacks(x, packs));
  if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = detachPacks(x, packs);
    return o;
  }
  return v;
}

/** detachPacks undone on the receiving side (`packs` as received: plain objects). */
export function attachPacks(v: unknown, packs: readonly { bytes: Uint8Array; ends: Uint32Array }[]): unknown {
  if (v !== null && typeof v === 'object' && '$pack' in v) {
    const p = packs[(v as PackMarker).$pack]!;
    return new StringPack(p.bytes, p.ends);
  }
  if (Array.isArray(v)) return v.map((x) => attachPacks(x, packs));
  if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = attachPacks(x, packs);
    return o;
  }
  return v;
}

/** Rebuilds a packed config. */
export const unpackConfig = (p: Packed): Steps<DirectorConfig> => unpack<DirectorConfig>(p);
