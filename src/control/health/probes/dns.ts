import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

/** keepalived's DNS_CHECK query types, by name. */
export const DNS_TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, RRSIG: 46, DNSKEY: 48 };

/** The query: a random id, recursion desired, one question of `type` for `name` in class IN. */
export function dnsQuery(id: number, name: string, type: number): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + 1 + Buffer.byteLength(l), 0) + 1 + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(0x0100, 2); // RD
  q.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    o = q.writeUInt8(Buffer.byteLength(l), o);
    o += q.write(l, o, 'latin1');
  }
  o = q.writeUInt8(0, o);
  o = q.writeUInt16BE(type, o);
  q.writeUInt16BE(1, o);
  return q;
}

/** keepalived's DNS_CHECK: the server is up when it answers the query (same id, a response) with rcode 0. */
export function probeDns(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  const id = randomInt(0, 0x10000);
  const query = dnsQuery(id, spec.opts?.dnsName ?? '', spec.opts?.dnsType ?? DNS_TYPES.SOA!);
  return withDeadline(spec.timeoutMs, signal, (settle) => {
    const sock = createSocket(spec.addr.includes(':') ? 'udp6' : 'udp4');
    sock.once('error', (e) => settle({ ok: false, error: errorText(e) }));
    sock.on('message', (msg) => {
      if (msg.length < 12 || msg.readUInt16BE(0) !== id) return; // not ours: keep waiting
      const flags = msg.readUInt16BE(2);
      if (!(flags & 0x8000)) return; // a query, not a response
      const rcode = flags & 0xf;
      settle(rcode === 0 ? { ok: true } : { ok: false, error: `DNS rcode ${rcode}` });
    });
    sock.connect(spec.port, spec.addr, () => sock.send(query));
    return () => { try { sock.close(); } catch { /* closed */ } };
  });
}
