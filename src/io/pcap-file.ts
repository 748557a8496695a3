// Capture files in and out: the one import for everything else in tapvs.
// Reading picks the format from the file's first bytes; a file is read
// through a fixed window (a CaptureReader), so memory stays flat whatever its size.
import { type CaptureReader, type ParsedCapture, type ReadOptions, CaptureError, collect, truncatedError } from './capture.js';
import { type ByteSource, FileSource, MemorySource } from './capture-source.js';
import { isPcapMagic, PcapReader } from './pcap-classic.js';
import { isPcapngMagic, PcapngReader } from './pcapng.js';

export {
  type CapturedFrame,
  type CaptureInterface,
  type CaptureReader,
  type ParsedCapture,
  type ReadOptions,
  CaptureError,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  linkTypeLabel,
} from './capture.js';
export { PcapWriter, PcapStreamWriter, type PcapWriterOptions, type StreamWriterOptions } from './pcap-classic.js';
export { PcapngWriter, PcapngStreamWriter, type PcapngWriterOptions, type PcapngStreamOptions } from './pcapng.js';

/** A reader for whichever format `src` holds; closes `src` if the header is refused. */
function readerOf(src: ByteSource, opts: ReadOptions): CaptureReader {
  try {
    const name = src.name;
    if (src.size < 4) throw truncatedError(name, 0, 'capture file magic number', 4, src.size);
    src.load(0, 4);
    const head = src.buf.subarray(-src.base, 4 - src.base);
    if (isPcapngMagic(head)) return new PcapngReader(src, opts);
    if (isPcapMagic(head)) return new PcapReader(src, opts);
    if (head[0] === 0x1f && head[1] === 0x8b) {
      throw new CaptureError(name, 0, `${name}: is gzip-compressed; decompress it first`);
    }
    const hex = Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new CaptureError(name, 0, `${name}: not a pcap or pcapng file (starts with ${hex})`);
  } catch (e) {
    src.close();
    throw e;
  }
}

/**
 * Opens a classic pcap or pcapng file for reading frame by frame. Throws
 * CaptureError (naming `path` as given) for anything malformed, truncated,
 * or of a link type `opts` does not accept (default: Ethernet only).
 */
export function openCapture(path: string, opts: ReadOptions = {}): CaptureReader {
  return readerOf(FileSource.open(path, opts.bufferBytes), opts);
}

/** A frame-by-frame reader over a capture already in memory. */
export function captureReaderOf(bytes: Uint8Array, name: string, opts: ReadOptions = {}): CaptureReader {
  return readerOf(new MemorySource(name, bytes), opts);
}

/**
 * Decodes a classic pcap or pcapng capture held in memory. `name` is used in
 * error messages. Throws CaptureError for anything malformed, truncated, or
 * not Ethernet.
 */
export function parseCapture(bytes: Uint8Array, name: string): ParsedCapture {
  return collect(captureReaderOf(bytes, name));
}

/** Reads and decodes a whole capture file into memory (each frame a copy); errors name `path` as given. */
export function readCapture(path: string): ParsedCapture {
  return collect(openCapture(path));
}
