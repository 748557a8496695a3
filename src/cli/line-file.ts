// A file written one line at a time through a buffer (decision logs, control
// events): lines are kept in memory up to 64 KiB and written with one
// syscall, so a decision log of a live director costs one write per few
// hundred frames. Synchronous, so what was logged before a crash up to the
// last flush is on disk and nothing waits on the event loop.
import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';

const FLUSH_AT = 64 * 1024;

export class LineFile {
  private fd: number;
  private parts: string[] = [];
  private size = 0;

  /** Creates (or truncates) `path`; `mode` applies to a new file (and is set on an old one). */
  constructor(readonly path: string, mode = 0o666, private readonly flushEach = false) {
    this.fd = openSync(path, 'w', mode);
    // a file that existed keeps its mode on open: a private log must not stay readable by others
    if (mode !== 0o666) fchmodSync(this.fd, mode);
  }

  line(s: string): void {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.flushEach || this.size >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0 || this.fd < 0) return;
    writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
