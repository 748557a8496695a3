import { readFile } from 'node:fs/promises';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText } from './deadline.js';

/**
 * keepalived's FILE_CHECK (track_file with weight 0): the file holds a
 * number; 0 means up, anything else down. A file that cannot be read
 * counts as 0, as keepalived's does until it is written.
 */
export async function probeFile(spec: ProbeSpec): Promise<ProbeResult> {
  const path = spec.opts?.file ?? '';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true };
    return { ok: false, error: errorText(e) };
  }
  const m = /^\s*([+-]?\d+)/.exec(text);
  const v = m ? Number(m[1]) : 0;
  return v === 0 ? { ok: true } : { ok: false, error: `${path} holds ${v}` };
}
