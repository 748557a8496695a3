import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

/**
 * keepalived's SMTP_CHECK: read the 220 greeting, send HELO (helo_name, or
 * this host's name), want 250, then QUIT. Any other reply code fails.
 */
export function probeSmtp(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const helo = spec.opts?.heloName ?? hostname();
  return withDeadline(spec.timeoutMs, signal, (settle) => {
    const sock = connect({ host: spec.addr, port: spec.port, localAddress: spec.opts?.bindto, localPort: spec.opts?.bindPort });
    let buf = '';
    let stage: 'greeting' | 'helo' = 'greeting';
    sock.setEncoding('latin1');
    sock.on('data', (s: string) => {
      buf += s;
      // a reply is complete at a line "NNN " (multi-line replies use "NNN-")
      const lines = buf.split('\r\n');
      const last = lines.slice(0, -1).find((l) => /^\d{3} /.test(l) || /^\d{3}$/.test(l));
      if (!last) return;
      buf = '';
      const code = Number(last.slice(0, 3));
      if (stage === 'greeting') {
        if (code !== 220) return settle({ ok: false, error: `SMTP greeting ${code}, expected 220` });
        stage = 'helo';
        sock.write(`HELO ${helo}\r\n`);
        return;
      }
      if (code !== 250) return settle({ ok: false, error: `SMTP HELO answered ${code}, expected 250` });
      sock.end('QUIT\r\n');
      settle({ ok: true });
    });
    sock.once('error', (e) => settle({ ok: false, error: errorText(e) }));
    sock.once('end', () => settle({ ok: false, error: 'connection closed during the SMTP dialogue' }));
    return () => sock.destroy();
  });
}
