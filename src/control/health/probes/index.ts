import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText } from './deadline.js';
import { probeDns } from './dns.js';
import { probeFile } from './file.js';
import { probeHttp } from './http.js';
import { closeIcmp, probeIcmp } from './icmp.js';
import { probeMisc } from './misc.js';
import { probeSmtp } from './smtp.js';
import { probeTcp } from './tcp.js';
import { probeUdp } from './udp.js';

/** Runs one probe in this process's network namespace. Never rejects. */
export async function runProbe(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  try {
    switch (spec.kind) {
      case 'tcp': return await probeTcp(spec, signal);
      case 'http':
      case 'ssl': return await probeHttp(spec, signal);
      case 'icmp': return await probeIcmp(spec, signal);
      case 'misc': return await probeMisc(spec, signal);
      case 'udp': return await probeUdp(spec, signal);
      case 'dns': return await probeDns(spec, signal);
      case 'smtp': return await probeSmtp(spec, signal);
      case 'file': return await probeFile(spec);
      default: return { ok: false, error: `unknown check kind '${String((spec as { kind: unknown }).kind)}'` };
    }
  } catch (e) {
    return { ok: false, error: errorText(e) };
  }
}

export { closeIcmp };
