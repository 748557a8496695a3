import { connect } from 'node:net';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

/** keepalived's TCP_CHECK: the server is up when a TCP connect (from bindto:bind_port, if given) completes in time. */
export function probeTcp(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  return withDeadline(spec.timeoutMs, signal, (settle) => {
    const sock = connect({ host: spec.addr, port: spec.port, localAddress: spec.opts?.bindto, localPort: spec.opts?.bindPort });
    sock.once('connect', () => settle({ ok: true }));
    sock.once('error', (e) => settle({ ok: false, error: errorText(e) }));
    return () => sock.destroy();
  });
}
