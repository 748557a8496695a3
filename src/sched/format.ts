import type { Dest } from '../model/dest.js';

// Only for explain() (tracing), never on the hot path.

export function ipStr(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function destStr(d: Dest): string {
  return `${ipStr(d.addr)}:${d.port}`;
}
