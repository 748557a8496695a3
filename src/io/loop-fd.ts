/**
 * The receive loop for a frame-per-read descriptor (a TAP/TUN queue).
 *
 * Measured on the project machine (bench/io.ts, 60-byte frames sent into a TAP
 * by a second process):
 *   - this loop (libuv epoll on the fd, reads into one fixed buffer, sink
 *     called on the main thread per frame): ~585 k frames/s;
 *   - a worker doing blocking readSync into a SharedArrayBuffer ring, main
 *     thread woken with Atomics.waitAsync: ~340 k frames/s (three busy threads
 *     on two cores, and a reader blocked in read(2) cannot be stopped without
 *     deleting the device);
 *   - async fs.read through the libuv thread pool: ~44 k frames/s.
 * So the descriptor is handed to libuv as a stream: libuv puts it in epoll,
 * reads until EAGAIN (up to 32 frames per wake-up) into a buffer we own, and
 * calls back synchronously. No allocation per frame, no extra thread, and
 * stopping is a plain handle close.
 *
 * libuv's stream handle for a file descriptor is reached through Node's
 * `pipe_wrap` binding (what `net.Socket({ fd })` uses for pipes); a TAP
 * descriptor is a character device, which Node's public `fd` option refuses,
 * so we wrap it ourselves and hand the handle to net.Socket. If that binding
 * ever disappears, the loop falls back to async fs.read (slow but correct).
 */
import fs from 'node:fs';
import net from 'node:net';
import { HEADROOM, MAX_FRAME } from './port.js';

/** Called once per received frame; the frame is at buf[HEADROOM .. HEADROOM+len). */
export type RawFrameHandler = (buf: Uint8Array, len: number) => void;

export interface FdReader {
  /** 'uv-stream' (epoll via libuv) or 'fs-read' (thread-pool fallback). */
  readonly kind: 'uv-stream' | 'fs-read';
  /** Stop reading and close the descriptor; resolves once no more callbacks can happen. */
  stop(): Promise<void>;
}

/** The largest read we ask for: a TAP returns an error, not a truncation, when a frame does not fit. */
export const READ_SPACE = 65536 + 64;

interface PipeHandle {
  open(fd: number): number;
}
interface PipeBinding {
  Pipe: new (type: number) => PipeHandle;
  constants: { SOCKET: number };
}

function pipeBinding(): PipeBinding | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): unknown }).binding('pipe_wrap') as PipeBinding;
    return typeof binding?.Pipe === 'function' && typeof binding.constants?.SOCKET === 'number' ? binding : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Read frames from `fd` until stop() or a fatal read error (device deleted).
 * The reader takes ownership of `fd` and closes it when it stops.
 * `buf` must be at least HEADROOM + READ_SPACE long; frames land at HEADROOM.
 */
export function startFdReader(
  fd: number,
  buf: Uint8Array,
  onFrame: RawFrameHandler,
  onEnd: (err: Error | undefined) => void,
  forceFallback = false,
): FdReader {
  if (buf.length < HEADROOM + READ_SPACE) throw new Error(`receive buffer too small: ${buf.length}`);
  const binding = forceFallback ? undefined : pipeBinding();
  if (binding) {
    const handle = new binding.Pipe(binding.constants.SOCKET);
    const rc = handle.open(fd);
    if (rc === 0) return uvStreamReader(handle, buf, onFrame, onEnd);
  }
  return fsReadReader(fd, buf, onFrame, onEnd);
}

function uvStreamReader(handle: unknown, buf: Uint8Array, onFrame: RawFrameHandler, onEnd: (err: Error | undefined) => void): FdReader {
  const view = Buffer.from(buf.buffer, buf.byteOffset + HEADROOM, READ_SPACE);
  let ended = false;
  const finish = (err: Error | undefined): void => {
    if (ended) return;
    ended = true;
    onEnd(err);
  };
  const socket = new net.Socket({
    handle,
    readable: true,
    writable: false,
    onread: { buffer: view, callback: (nread: number) => { onFrame(buf, nread); return true; } },
  } as net.SocketConstructorOpts);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', (err) => finish(err));
  socket.on('close', () => finish(undefined));
  return {
    kind: 'uv-stream',
    stop(): Promise<void> {
      socket.destroy();
      return closed;
    },
  };
}

function fsReadReader(fd: number, buf: Uint8Array, onFrame: RawFrameHandler, onEnd: (err: Error | undefined) => void): FdReader {
  let stopping = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const loop = (): void => {
    if (stopping) return resolveDone();
    fs.read(fd, buf, HEADROOM, READ_SPACE, null, (err, n) => {
      if (stopping) return resolveDone();
      if (err) {
        if (err.code === 'EAGAIN') return void setImmediate(loop);
        stopping = true;
        resolveDone();
        onEnd(err);
        return;
      }
      if (n > 0) onFrame(buf, n);
      loop();
    });
  };
  loop();
  return {
    kind: 'fs-read',
    // A read parked in the thread pool only returns with a frame; the owner
    // deletes or brings down the device first (tap.ts does), then we close.
    async stop(): Promise<void> {
      stopping = true;
      await Promise.race([done, new Promise((r) => setTimeout(r, 200))]);
      try { fs.closeSync(fd); } catch { /* already gone */ }
    },
  };
}

export { MAX_FRAME };
