// The bytes a capture reader walks: either a whole capture already in memory,
// or a window over an open file that slides forward as the reader asks for
// records, refilled with fs.readSync into one reused buffer. Readers address
// bytes by file offset; `load` makes a range resident first.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CaptureError } from './capture.js';

/** Largest single record (block) a file source holds at once: far above any real snaplen. */
export const MAX_RECORD_BYTES = 64 << 20;
/** Default window of a file source. */
export const DEFAULT_READ_BUFFER = 1 << 20;

export interface ByteSource {
  /** The file name errors are reported under. */
  readonly name: string;
  /** Bytes in the capture (a file's size when it was opened). */
  readonly size: number;
  /** The window: file offset `base` is `buf[0]`. Replaced only by `load`. */
  buf: Uint8Array;
  dv: DataView;
  base: number;
  /**
   * Makes file bytes [off, off + len) resident in `buf`. The caller has
   * checked `off + len <= size`. Bytes loaded earlier may move or go.
   */
  load(off: number, len: number): void;
  close(): void;
}

/** A capture held whole in memory: loading is a no-op. */
export class MemorySource implements ByteSource {
  readonly size: number;
  buf: Uint8Array;
  dv: DataView;
  base = 0;

  constructor(readonly name: string, bytes: Uint8Array) {
    this.buf = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.length;
  }

  load(): void {}

  close(): void {}
}

/** A window over an open file; memory use is the window, whatever the file's size. */
export class FileSource implements ByteSource {
  readonly size: number;
  buf: Uint8Array;
  dv: DataView;
  base = 0;
  /** Valid bytes in `buf`, from index 0. */
  private filled = 0;
  private closed = false;

  static open(path: string, bufferBytes = DEFAULT_READ_BUFFER): FileSource {
    const fd = openSync(path, 'r');
    try {
      return new FileSource(path, fd, bufferBytes, true);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  constructor(
    readonly name: string,
    private readonly fd: number,
    bufferBytes = DEFAULT_READ_BUFFER,
    private readonly ownsFd = false,
  ) {
    if (!Number.isInteger(bufferBytes) || bufferBytes < 64) throw new RangeError(`read buffer of ${bufferBytes} bytes is below 64`);
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CaptureError(name, undefined, `${name}: not a regular file; tapvs reads capture files only`);
    this.size = st.size;
    this.buf = new Uint8Array(bufferBytes);
    this.dv = new DataView(this.buf.buffer);
  }

  load(off: number, len: number): void {
    const end = this.base + this.filled;
    if (off >= this.base && off + len <= end) return;
    if (len > MAX_RECORD_BYTES) {
      throw new CaptureError(
        this.name,
        off,
        `${this.name}: record at byte offset ${off} is ${len} bytes, more than the ${MAX_RECORD_BYTES} tapvs reads at once`,
      );
    }
    // keep what is already read of the range, at the front
    const keep = off >= this.base && off < end ? end - off : 0;
    if (len > this.buf.length) {
      const bigger = new Uint8Array(Math.min(MAX_RECORD_BYTES, Math.max(len, this.buf.length * 2)));
      if (keep > 0) bigger.set(this.buf.subarray(off - this.base, this.filled), 0);
      this.buf = bigger;
      this.dv = new DataView(bigger.buffer);
    } else if (keep > 0) {
      this.buf.copyWithin(0, off - this.base, this.filled);
    }
    this.base = off;
    this.filled = keep;
    while (this.filled < len) {
      const want = Math.min(this.buf.length - this.filled, this.size - (off + this.filled));
      const n = want > 0 ? readSync(this.fd, this.buf, this.filled, want, off + this.filled) : 0;
      if (n === 0) {
        throw new CaptureError(this.name, off, `${this.name}: file ended at byte offset ${off + this.filled} while reading it (was it cut while tapvs read it?)`);
      }
      this.filled += n;
    }
  }

  close(): void {
    if (this.ownsFd && !this.closed) closeSync(this.fd);
    this.closed = true;
  }
}
