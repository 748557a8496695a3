import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

/**
 * keepalived's HTTP_GET: GET the path; up when the status is the expected
 * one and, if a digest is given, the MD5 of the body (as keepalived's genhash
 * prints it) matches. The whole exchange must finish within the timeout.
 */
export function probeHttp(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const expect = spec.expectStatus ?? 200;
  return withDeadline(spec.timeoutMs, signal, (settle) => {
    const req = request({
      host: spec.addr,
      port: spec.port,
      path: spec.path ?? '/',
      method: 'GET',
      agent: false,
      headers: { Host: `${spec.addr}:${spec.port}`, Connection: 'close', 'User-Agent': 'tapvs-healthcheck' },
    });
    req.once('error', (e) => settle({ ok: false, error: errorText(e) }));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status !== expect) {
        res.resume();
        return settle({ ok: false, error: `HTTP status ${status}, expected ${expect}` });
      }
      if (spec.digest === undefined) {
        res.resume();
        return settle({ ok: true });
      }
      const md5 = createHash('md5');
      res.on('data', (chunk: Buffer) => md5.update(chunk));
      res.once('error', (e) => settle({ ok: false, error: errorText(e) }));
      res.once('end', () => {
        const got = md5.digest('hex');
        settle(got === spec.digest ? { ok: true } : { ok: false, error: `body digest ${got}, expected ${spec.digest}` });
      });
    });
    req.end();
    return () => req.destroy();
  });
}
