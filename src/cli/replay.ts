import { readFileSync } from 'node:fs';
import { parseConfig, formatConfigError } from '../control/config.js';
import type { DirectorConfig } from '../model/config.js';
import { Director } from '../director/director.js';
import { readCapture } from '../io/pcap-file.js';
import { PcapngWriter } from '../io/pcap-file.js';
import { HEADROOM } from '../io/port.js';

export interface ReplayResult {
  framesIn: number;
  framesOut: number;
  drops: Record<string, number>;
  director: Director;
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

/**
 * Runs captured frames through a director with the capture's timestamps as
 * the clock and collects what it sends, per port, into a pcapng whose
 * interfaces are the director's ports. Deterministic: the same input and
 * config give the same bytes.
 */
export function replay(
  cfg: DirectorConfig, inPath: string, opts: { port?: string; trace?: (line: string) => void } = {},
): { result: ReplayResult; writer: PcapngWriter } {
  const cap = readCapture(inPath);
  const portNames = cfg.ports.map((p) => p.name);
  const writer = new PcapngWriter(portNames);
  let clockNs = 0n;
  const director = new Director(cfg, {
    send: (port, buf, off, len) => writer.add(port, clockNs, buf.slice(off, off + len)),
  }, { trace: opts.trace });

  // which port each capture interface feeds
  const ifPort = cap.interfaces.map((name, i) => {
    if (opts.port !== undefined) return portIndexOf(portNames, opts.port, `--port ${opts.port}`);
    if (cap.format === 'pcap' || name === '') {
      if (portNames.length === 1) return 0;
      throw new Error(`${inPath}: interface ${i} has no name; name the ingress port with --port (ports: ${portNames.join(', ')})`);
    }
    return portIndexOf(portNames, name, `${inPath}: interface '${name}'`);
  });

  const buf = new Uint8Array(HEADROOM + 65536 + HEADROOM);
  let started = false;
  for (const f of cap.frames) {
    clockNs = f.timeNs;
    const now = Number(f.timeNs / 1000n) / 1000;
    if (!started) {
      director.start(now);
      started = true;
    }
    director.tick(now);
    if (f.data.length > 65536) continue;
    buf.set(f.data, HEADROOM);
    director.process(ifPort[f.ifIndex]!, buf, HEADROOM, f.data.length, now);
  }
  return {
    result: { framesIn: cap.frames.length, framesOut: director.counters.framesOut, drops: director.drops.toObject(), director },
    writer,
  };
}

function portIndexOf(names: string[], name: string, what: string): number {
  const i = names.indexOf(name);
  if (i < 0) throw new Error(`${what} is not a port of this config (ports: ${names.join(', ')})`);
  return i;
}
