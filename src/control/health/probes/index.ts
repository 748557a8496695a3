import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText } from './deadline.js';
import { probeHttp } from './http.js';
import { closeIcmp, probeIcmp } from './icmp.js';
import { probeMisc } from './misc.js';
import { probeTcp } from './tcp.js';

/** Runs one probe in this process's network namespace. Never rejects. */
export async function runProbe(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  try {
    switch (spec.kind) {
      case 'tcp': return await probeTcp(spec, signal);
      case 'http': return await probeHttp(spec, signal);
      case 'icmp': return await probeIcmp(spec, signal);
      case 'misc': return await probeMisc(spec, signal);
      default: return { ok: false, error: `unknown check kind '${String((spec as { kind: unknown }).kind)}'` };
    }
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}

export { closeIcmp };
