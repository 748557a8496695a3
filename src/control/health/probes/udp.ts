import { createSocket } from 'node:dgram';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

/**
 * keepalived's UDP_CHECK: send the payload on a connected UDP socket. An
 * ICMP error (the port is closed) fails; silence until the timeout passes,
 * unless require_reply; a reply passes when its length is within
 * min/max_reply_length and, if reply bytes are given, its first bytes equal
 * them outside the mask's bits.
 */
export function probeUdp(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const o = spec.opts ?? {};
  const payload = Buffer.from(o.udpPayload ?? '', 'hex');
  const want = o.udpReply !== undefined ? Buffer.from(o.udpReply, 'hex') : undefined;
  const mask = o.udpReplyMask !== undefined ? Buffer.from(o.udpReplyMask, 'hex') : undefined;
  const requireReply = o.udpRequireReply ?? false;
  return new Promise((resolve) => {
    let silentOk = false;
    void withDeadline(spec.timeoutMs, signal, (settle) => {
      const sock = createSocket(spec.addr.includes(':') ? 'udp6' : 'udp4');
      sock.once('error', (e) => settle({ ok: false, error: errorText(e) }));
      sock.on('message', (msg) => {
        if (msg.length < (o.udpMinReply ?? 0) || msg.length > (o.udpMaxReply ?? 65535)) {
          return settle({ ok: false, error: `reply of ${msg.length} bytes, outside ${o.udpMinReply ?? 0}..${o.udpMaxReply ?? 65535}` });
        }
        if (want) {
          const n = Math.min(want.length, msg.length);
          for (let i = 0; i < n; i++) {
            if ((msg[i]! ^ want[i]!) & ~(mask?.[i] ?? 0) & 0xff) return settle({ ok: false, error: `reply differs at byte ${i}` });
          }
        }
        settle({ ok: true });
      });
      const bind = o.bindto !== undefined || o.bindPort !== undefined ? { address: o.bindto, port: o.bindPort ?? 0 } : undefined;
      const go = (): void => sock.connect(spec.port, spec.addr, () => sock.send(payload));
      if (bind) sock.bind(bind, go);
      else go();
      silentOk = !requireReply;
      return () => { try { sock.close(); } catch { /* closed */ } };
    }).then((r) => {
      // silence until the timeout passes is a success unless a reply is required
      if (!r.ok && silentOk && r.error?.startsWith('timed out')) resolve({ ok: true });
      else resolve(r);
    });
  });
}
