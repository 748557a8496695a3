// Service and real-server keys on the control side, for both address
// families: finding a service by the key an ipvsadm line names, the key of a
// live service, and text keys for maps (an IPv6 address is four words, so a
// number is no key).
import { ip6ToString } from '../wire/addr6.js';
import type { Dest } from '../model/dest.js';
import { AF_INET, AF_INET6 } from '../model/proto.js';
import type { Service } from '../model/service.js';
import type { ServiceTable } from '../model/services.js';
import type { ServiceKey } from './ipvsadm-args.js';

/** The live service an ipvsadm key names (IPv4 or IPv6, address or fwmark), if any. */
export function findService(table: ServiceTable, k: ServiceKey): Service | undefined {
  if (k.fwmark) return table.getByMark(k.fwmark, k.af === AF_INET6 ? AF_INET6 : AF_INET);
  return k.addr6 ? table.get6(k.proto, k.addr6, k.port) : table.get(k.proto, k.addr, k.port);
}

/** The ipvsadm key of a live service. */
export function keyOfService(s: Service): ServiceKey {
  const k: ServiceKey = { proto: s.fwmark ? 0 : s.proto, addr: s.af === AF_INET6 ? 0 : s.addr, port: s.port, fwmark: s.fwmark };
  if (s.af === AF_INET6) {
    k.af = AF_INET6;
    if (!s.fwmark) k.addr6 = s.addr6;
  }
  return k;
}

/** A map key for a service key: "6/TCP/addr/port", "f1", "f1/6". */
export function serviceKeyText(k: ServiceKey): string {
  const v6 = k.af === AF_INET6;
  if (k.fwmark) return v6 ? `f${k.fwmark}/6` : `f${k.fwmark}`;
  return v6 && k.addr6 ? `6/${k.proto}/${ip6ToString(k.addr6)}/${k.port}` : `${k.proto}/${k.addr >>> 0}/${k.port}`;
}

/** A map key for a real server within its service: "addr:port" (IPv4 as a number, IPv6 as text). */
export function destKeyText(addr: number, addr6: Uint32Array | undefined, port: number): string {
  return addr6 ? `[${ip6ToString(addr6)}]:${port}` : `${addr >>> 0}:${port}`;
}

/** destKeyText() of a live real server. */
export function destKeyOf(d: Dest): string {
  return destKeyText(d.addr, d.af === AF_INET6 ? d.addr6 : undefined, d.port);
}

/** The addr6 of a live real server, or undefined for IPv4 (specs and messages leave it out then). */
export function destAddr6(d: Dest): Uint32Array | undefined {
  return d.af === AF_INET6 ? d.addr6 : undefined;
}
