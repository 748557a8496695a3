// Shared pieces of the capture-file readers and writers: the frame record both
// formats decode into, the streaming reader both implement, the error every
// malformed file turns into, and the buffered descriptor sink the streaming
// writers use.
import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';

/** One frame read from a capture file. */
export interface CapturedFrame {
  /** The captured bytes (a copy the caller owns, so in-place rewrites never alias the file). */
  data: Uint8Array;
  /** Nanoseconds since the Unix epoch. */
  timeNs: bigint;
  /** Name of the interface it was captured on, when the file records one. */
  ifName?: string;
  /** Index into `ParsedCapture.interfaces` (file-wide, counting across pcapng sections). */
  ifIndex: number;
  /** Length of the frame on the wire; larger than `data.length` when the capture was cut at the snaplen. */
  origLen: number;
}

export interface ParsedCapture {
  format: 'pcap' | 'pcapng';
  /** One entry per interface, in file order; '' for an interface without a recorded name. */
  interfaces: string[];
  frames: CapturedFrame[];
}

/** An interface of a capture: classic pcap has one; pcapng one per Interface Description Block. */
export interface CaptureInterface {
  /** `if_name`, when the file records one. */
  name: string | undefined;
  linkType: number;
}

/**
 * Reads a capture one frame at a time: `next()` moves to the next frame and
 * the fields below describe it. `buf[off, off + capLen)` is a view into the
 * reader's window, valid only until the next call of `next()`: copy what
 * must outlive it. Memory use is the window, whatever the file's size.
 */
export interface CaptureReader {
  readonly format: 'pcap' | 'pcapng';
  /** The file name errors name. */
  readonly name: string;
  /** Interfaces described so far, file-wide (a pcapng file may describe more as it goes). */
  readonly interfaces: readonly CaptureInterface[];
  buf: Uint8Array;
  off: number;
  capLen: number;
  /** Length on the wire; larger than `capLen` when cut at the snaplen. */
  origLen: number;
  /** Index into `interfaces`. */
  ifIndex: number;
  /** Nanoseconds since the Unix epoch. */
  timeNs: bigint;
  /** The frame's packet comment (pcapng only), if it has one. */
  readonly comment?: string | undefined;
  /** Moves to the next frame; false at the end of the file. Throws CaptureError on a malformed file. */
  next(): boolean;
  close(): void;
}

export interface ReadOptions {
  /** Link types the reader hands out; every other one is refused. Default: Ethernet only. */
  linkTypes?: readonly number[];
  /** How the refusal of another link type ends, e.g. "tapvs replays Ethernet captures"; default the Ethernet-only wording. */
  supported?: string;
  /** Read window for a file, in bytes (default 1 MiB); it grows only for a record larger than itself. */
  bufferBytes?: number;
}

/** Reads every frame of `reader` into memory, each a copy, then closes it. */
export function collect(reader: CaptureReader): ParsedCapture {
  const frames: CapturedFrame[] = [];
  try {
    while (reader.next()) {
      const frame: CapturedFrame = {
        data: reader.buf.slice(reader.off, reader.off + reader.capLen),
        timeNs: reader.timeNs,
        ifIndex: reader.ifIndex,
        origLen: reader.origLen,
      };
      const ifName = reader.interfaces[reader.ifIndex]!.name;
      if (ifName !== undefined) frame.ifName = ifName;
      frames.push(frame);
    }
  } finally {
    reader.close();
  }
  return { format: reader.format, interfaces: reader.interfaces.map((i) => i.name ?? ''), frames };
}

/** Every malformed, truncated or unsupported capture file is reported with this error. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly file: string,
    /** Byte offset of the structure at fault; undefined when the fault is not about a place in the file. */
    readonly offset: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export function truncatedError(file: string, offset: number, what: string, need: number, left: number): CaptureError {
  return new CaptureError(
    file,
    offset,
    `${file}: truncated at byte offset ${offset}: ${what} needs ${need} bytes, only ${left} left`,
  );
}

export function corruptError(file: string, offset: number, what: string): CaptureError {
  return new CaptureError(file, offset, `${file}: corrupt at byte offset ${offset}: ${what}`);
}

export const LINKTYPE_ETHERNET = 1;
/** Linux cooked capture v1, what `tcpdump -i any` writes. */
export const LINKTYPE_LINUX_SLL = 113;
/** Linux cooked capture v2 (`tcpdump -i any -y LINUX_SLL2`): adds the interface index. */
export const LINKTYPE_LINUX_SLL2 = 276;

// Names for the link types people most often hand us by mistake, so the refusal
// says what the file actually holds.
const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'],
  [1, 'ETHERNET'],
  [6, 'IEEE802_5'],
  [9, 'PPP'],
  [12, 'RAW'],
  [101, 'RAW'],
  [104, 'C_HDLC'],
  [105, 'IEEE802_11'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [127, 'IEEE802_11_RADIOTAP'],
  [192, 'PPI'],
  [195, 'IEEE802_15_4_WITHFCS'],
  [220, 'USB_LINUX_MMAPPED'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [239, 'NFLOG'],
  [276, 'LINUX_SLL2'],
]);

/** "link type 105 (IEEE802_11)", or just the number for a type without a listed name. */
export function linkTypeLabel(linkType: number): string {
  const label = LINKTYPE_NAMES.get(linkType);
  return label === undefined ? `link type ${linkType}` : `link type ${linkType} (${label})`;
}

export function linkTypeError(file: string, linkType: number, supported?: string): CaptureError {
  const named = linkTypeLabel(linkType);
  if (supported !== undefined) return new CaptureError(file, undefined, `${file}: ${named} is not supported: ${supported}`);
  return new CaptureError(file, undefined, `${file}: ${named} is not Ethernet; tapvs reads Ethernet captures only`);
}

/** Throws the refusal when `linkType` is not one `opts` accepts. */
export function checkLinkType(file: string, linkType: number, opts: ReadOptions): void {
  const accepted = opts.linkTypes ?? [LINKTYPE_ETHERNET];
  if (!accepted.includes(linkType)) throw linkTypeError(file, linkType, opts.supported);
}

export const NS_PER_SECOND = 1_000_000_000n;
export const DEFAULT_SNAPLEN = 262_144;

/** Rejects timestamps no capture format can hold (before the epoch). */
export function checkTimeNs(timeNs: bigint): void {
  if (timeNs < 0n) throw new RangeError(`capture timestamp ${timeNs} ns is before the Unix epoch`);
}

export function checkSnaplen(snaplen: number): void {
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
    throw new RangeError(`snaplen ${snaplen} must be an integer from 1 to 2^31-1`);
  }
}

export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Opens (creates or empties) a capture file for writing. With `mode`, the
 * file gets exactly those permission bits, also when it existed before with
 * wider ones: captures hold other people's traffic.
 */
export function openForWriting(path: string, mode?: number): number {
  if (mode === undefined) return openSync(path, 'w');
  const fd = openSync(path, 'w', mode);
  try {
    fchmodSync(fd, mode);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/**
 * Buffered writes to an open descriptor. Write failures are counted and kept,
 * never thrown, so a live capture can sit on the send path.
 */
export class FdSink {
  private readonly buf: Uint8Array;
  private pos = 0;
  writeErrors = 0;
  lastError: Error | undefined;

  constructor(
    private readonly fd: number,
    /** Flush once this many bytes are pending; 0 writes every record through at once. */
    private readonly flushAt: number,
    maxRecord: number,
  ) {
    this.buf = new Uint8Array(Math.max(flushAt, 0) + maxRecord);
  }

  // Protocol: encode one record (at most `maxRecord` bytes) into `buffer` at
  // `tail`, then `commit` its length. The buffer always has that much room.
  get buffer(): Uint8Array {
    return this.buf;
  }

  get tail(): number {
    return this.pos;
  }

  commit(length: number): boolean {
    this.pos += length;
    return this.pos >= this.flushAt ? this.flush() : true;
  }

  flush(): boolean {
    let done = 0;
    try {
      while (done < this.pos) done += writeSync(this.fd, this.buf, done, this.pos - done);
      this.pos = 0;
      return true;
    } catch (err) {
      // Drop what could not be written: keeping it would grow without bound
      // when the disk stays full.
      this.pos = 0;
      this.writeErrors++;
      this.lastError = err instanceof Error ? err : new Error(String(err));
      return false;
    }
  }
}

/**
 * What the streaming capture writers share: a file header written first, then
 * records appended through an FdSink; failures counted, never thrown.
 * Subclasses encode their own records into `sink.buffer` at `sink.tail`.
 */
export abstract class CaptureStream {
  protected readonly sink: FdSink;
  private ownsFd = false;
  /** Frames refused by the encoder (a timestamp or interface the format cannot hold). */
  rejected = 0;

  protected constructor(private readonly fd: number, header: Uint8Array, bufferBytes: number, maxRecord: number) {
    this.sink = new FdSink(fd, bufferBytes, Math.max(maxRecord, header.length));
    this.sink.buffer.set(header, this.sink.tail);
    this.sink.commit(header.length);
  }

  /** Marks the descriptor as ours to close (the writer opened it). */
  protected own(): this {
    this.ownsFd = true;
    return this;
  }

  get writeErrors(): number {
    return this.sink.writeErrors;
  }

  get lastError(): Error | undefined {
    return this.sink.lastError;
  }

  flush(): boolean {
    return this.sink.flush();
  }

  /** Flushes; closes the descriptor only if `open` created it. */
  close(): boolean {
    const ok = this.sink.flush();
    if (this.ownsFd) closeSync(this.fd);
    return ok;
  }
}
