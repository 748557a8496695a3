// Capture files in and out: the one import for everything else in tapvs.
// Reading picks the format from the file's first bytes.
import { readFileSync } from 'node:fs';
import { type ParsedCapture, CaptureError, truncatedError } from './capture.js';
import { isPcapMagic, parsePcap } from './pcap-classic.js';
import { isPcapngMagic, parsePcapng } from './pcapng.js';

export { type CapturedFrame, type ParsedCapture, CaptureError } from './capture.js';
export { PcapWriter, PcapStreamWriter, type PcapWriterOptions, type StreamWriterOptions } from './pcap-classic.js';
export { PcapngWriter, PcapngStreamWriter, type PcapngWriterOptions, type PcapngStreamOptions } from './pcapng.js';

/**
 * Decodes a classic pcap or pcapng capture held in memory. `name` is used in
 * error messages. Throws CaptureError for anything malformed, truncated, or
 * not Ethernet.
 */
export function parseCapture(bytes: Uint8Array, name: string): ParsedCapture {
  if (bytes.length < 4) throw truncatedError(name, 0, 'capture file magic number', 4, bytes.length);
  if (isPcapngMagic(bytes)) return parsePcapng(bytes, name);
  if (isPcapMagic(bytes)) return parsePcap(bytes, name);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new CaptureError(name, 0, `${name}: is gzip-compressed; decompress it first`);
  }
  const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new CaptureError(name, 0, `${name}: not a pcap or pcapng file (starts with ${hex})`);
}

/** Reads and decodes a capture file; errors name `path` as given. */
export function readCapture(path: string): ParsedCapture {
  return parseCapture(readFileSync(path), path);
}
