import { createHash } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { HttpUrlCheck } from '../../../model/config.js';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

/** The url a probe fetches: one of keepalived's urls, or the `check http` line's path/status/digest. */
export function urlOf(spec: ProbeSpec): HttpUrlCheck {
  const urls = spec.opts?.urls;
  if (urls && urls.length > 0) return urls[Math.min(spec.url ?? 0, urls.length - 1)]!;
  const s = spec.expectStatus ?? 200;
  const u: HttpUrlCheck = { path: spec.path ?? '/', status: [[s, s]] };
  if (spec.digest !== undefined) u.digest = spec.digest;
  return u;
}

/**
 * The request keepalived's HTTP_GET sends: HTTP/1.0 unless http_protocol
 * says 1.1, "Connection: close" for 1.1 and 1.0C, Host the virtualhost (as
 * is) or ADDR:PORT ([ADDR]:PORT for IPv6).
 */
export function httpRequest(spec: ProbeSpec, url: HttpUrlCheck): string {
  const proto = spec.opts?.httpProtocol ?? '1.0';
  const host = url.virtualhost ?? (spec.addr.includes(':') ? `[${spec.addr}]:${spec.port}` : `${spec.addr}:${spec.port}`);
  const ua = spec.opts?.urls ? 'KeepAliveClient' : 'tapvs-healthcheck';
  return `GET ${url.path} HTTP/1.${proto === '1.1' ? 1 : 0}\r\nUser-Agent: ${ua}\r\n` +
    `${proto === '1.0' ? '' : 'Connection: close\r\n'}Host: ${host}\r\n\r\n`;
}

const statusOk = (status: number, ranges: [number, number][]): boolean => ranges.some(([lo, hi]) => status >= lo && status <= hi);

/** Checks a complete response (head and body bytes) against one url; null when it passes. */
export function judgeResponse(url: HttpUrlCheck, head: string, body: Buffer): string | null {
  const m = /^HTTP\/\d+\.\d+\s+(\d{3})/.exec(head);
  if (!m) return 'no HTTP status line in the reply';
  const status = Number(m[1]);
  if (!statusOk(status, url.status)) return `HTTP status ${status}, expected ${url.status.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`;
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const content = cl ? body.subarray(0, Number(cl[1])) : body;
  if (url.digest !== undefined) {
    const got = createHash('md5').update(content).digest('hex');
    if (got !== url.digest) return `body digest ${got}, expected ${url.digest}`;
  }
  if (url.regex !== undefined) {
    const text = content.toString('latin1');
    const re = new RegExp(url.regex, (url.regexFlags ?? '').replace('g', '') + 'g');
    re.lastIndex = url.regexMinOffset ?? 0;
    const hit = re.exec(text);
    const matched = hit !== null && (url.regexMaxOffset === undefined || hit.index <= url.regexMaxOffset);
    if (matched === (url.regexNoMatch ?? false)) return url.regexNoMatch ? `body matches ${url.regex}` : `body does not match ${url.regex}`;
  }
  return null;
}

const MAX_REPLY = 16 << 20;

/**
 * keepalived's HTTP_GET / SSL_GET (and the `check http` line): one GET of
 * one url over a fresh connection, read to the end; up when the status is
 * in the url's ranges and, if given, the body's MD5 and regex agree. Each
 * step (connect, every read) must come within the timeout, as keepalived's
 * connect_timeout applies to each.
 */
export function probeHttp(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const url = urlOf(spec);
  const tls = spec.kind === 'ssl';
  // the whole exchange is bounded too, so a server trickling bytes cannot hold a probe forever
  return withDeadline(spec.timeoutMs * 4, signal, (settle) => {
    const opts = { host: spec.addr, port: spec.port, localAddress: spec.opts?.bindto, localPort: spec.opts?.bindPort };
    const sock: Socket = tls
      ? tlsConnect({ ...opts, rejectUnauthorized: false, servername: spec.opts?.sni && url.virtualhost ? url.virtualhost : undefined })
      : netConnect(opts);
    const chunks: Buffer[] = [];
    let size = 0;
    sock.setTimeout(spec.timeoutMs, () => settle({ ok: false, error: `timed out after ${spec.timeoutMs} ms` }));
    sock.once(tls ? 'secureConnect' : 'connect', () => sock.write(httpRequest(spec, url)));
    sock.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_REPLY) return settle({ ok: false, error: 'reply larger than 16 MiB' });
      chunks.push(b);
    });
    sock.once('error', (e) => settle({ ok: false, error: errorText(e) }));
    sock.once('end', () => {
      const all = Buffer.concat(chunks);
      if (all.length === 0) return settle({ ok: false, error: 'no data received' });
      const sep = all.indexOf('\r\n\r\n');
      if (sep < 0) return settle({ ok: false, error: 'reply ended inside its headers' });
      const why = judgeResponse(url, all.subarray(0, sep + 2).toString('latin1'), all.subarray(sep + 4));
      settle(why === null ? { ok: true } : { ok: false, error: why });
    });
    return () => sock.destroy();
  });
}
