import type { ConnTable } from '../conn/table.js';
import { CONN_F_FWD_MASK } from '../conn/flags.js';
import { TCP_STATE_NAMES } from '../conn/tcp-states.js';
import { fwdName, type Dest, type Fwd } from '../model/dest.js';
import { IPPROTO_TCP, protoName } from '../model/proto.js';
import type { Service } from '../model/service.js';
import type { SchedPacket } from '../model/scheduler.js';
import { ipToString } from '../wire/addr.js';
import { formatFrame } from '../wire/printer.js';
import { DROP_REASONS } from './counters.js';

const MODE_NAMES: Record<string, string> = { Masq: 'NAT', Route: 'DR', Tunnel: 'TUN' };

export function svcLabel(svc: Service): string {
  if (svc.fwmark) return `FWM ${svc.fwmark}`;
  return `${protoName(svc.proto)} ${ipToString(svc.addr)}:${svc.port}`;
}

/**
 * The learner's view of each frame: what arrived, what the director decided
 * and why, and every frame it sent, layer by layer. Only built when tracing
 * is on: the director holds `null` otherwise and skips every call.
 */
export class Tracer {
  private t0 = -1;

  constructor(private readonly write: (line: string) => void) {}

  begin(now: number, port: string, buf: Uint8Array, off: number, len: number): void {
    if (this.t0 < 0) this.t0 = now;
    const t = ((now - this.t0) / 1000).toFixed(6);
    const layers = formatFrame(buf, off, len);
    this.write(`[${t}] in  ${port}: ${layers.join(' | ')}`);
  }

  conn(svc: Service, dest: Dest, isNew: boolean, conns: ConnTable, slot: number, pkt: SchedPacket): void {
    const mode = MODE_NAMES[fwdName((conns.flags[slot]! & CONN_F_FWD_MASK) as Fwd)];
    const to = `${ipToString(dest.addr)}:${conns.dport[slot]}`;
    const state = conns.proto[slot] === IPPROTO_TCP ? ` state ${TCP_STATE_NAMES[conns.state[slot]!]}` : '';
    if (isNew) {
      let why: string;
      if (svc.persistent) why = `persistent ${svc.timeout}s: client ${ipToString(pkt.caddr)} bound to ${to}`;
      else why = svc.sched.explain?.(svc, svc.schedState, dest, pkt) ?? `${svc.sched.name} picked ${to}`;
      this.write(`  svc ${svcLabel(svc)} ${svc.sched.name}: new conn -> ${to} (${why}) mode ${mode}${state}`);
    } else {
      this.write(`  svc ${svcLabel(svc)}: existing conn -> ${to} mode ${mode}${state}`);
    }
  }

  reply(conns: ConnTable, slot: number): void {
    const state = conns.proto[slot] === IPPROTO_TCP ? ` state ${TCP_STATE_NAMES[conns.state[slot]!]}` : '';
    this.write(`  reply of conn ${ipToString(conns.caddr[slot]!)}:${conns.cport[slot]} -> ` +
      `${ipToString(conns.vaddr[slot]!)}:${conns.vport[slot]} (NAT: source back to the VIP)${state}`);
  }

  note(text: string): void {
    this.write(`  ${text}`);
  }

  sent(port: string, buf: Uint8Array, off: number, len: number): void {
    this.write(`  out ${port}: ${formatFrame(buf, off, len).join(' | ')}`);
  }

  dropped(code: number): void {
    this.write(`  dropped: ${DROP_REASONS[code]}`);
  }
}
