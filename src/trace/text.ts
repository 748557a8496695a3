// The text trace: one line per event, the frames layer by layer, times
// relative to the first frame. `tapvs run --trace` and `replay --trace` print this.
import { formatFrame } from '../wire/printer.js';
import type { ConnRef, TraceEvent, TraceSink } from './events.js';

/** addr:port, with an IPv6 address in brackets as ipvsadm writes it. */
function ap(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function label(c: ConnRef): string {
  return `${ap(c.client, c.cport)} -> ${ap(c.vip, c.vport)} -> ${ap(c.dest, c.dport)}`;
}

/** A sink that writes each event as the text trace's line(s). */
export function textTrace(write: (line: string) => void): TraceSink {
  let t0 = -1;
  return (ev: TraceEvent) => {
    if (ev.kind === 'frame-in' && t0 < 0) t0 = ev.time;
    write(textOf(ev, t0));
  };
}

function textOf(ev: TraceEvent, t0: number): string {
  const state = (s: string | undefined) => (s !== undefined ? ` state ${s}` : '');
  switch (ev.kind) {
    case 'frame-in': {
      const t = ((ev.time - t0) / 1000).toFixed(6);
      return `[${t}] in  ${ev.port}: ${formatFrame(ev.bytes).join(' | ')}`;
    }
    case 'conn':
      return ev.isNew
        ? `  svc ${ev.service} ${ev.scheduler}: new conn -> ${ev.dest} (${ev.reason}) mode ${ev.mode}${state(ev.state)}`
        : `  svc ${ev.service}: existing conn -> ${ev.dest} mode ${ev.mode}${state(ev.state)}`;
    case 'reply':
      return `  reply of conn ${ap(ev.conn.client, ev.conn.cport)} -> ${ap(ev.conn.vip, ev.conn.vport)} (NAT: source back to the VIP)${state(ev.state)}`;
    case 'icmp-for-conn':
      return `  icmp error from the ${ev.side} side about ${label(ev.conn)}`;
    case 'routed':
      return '  routed: no service, no connection';
    case 'arp-learned':
      return `  arp: learned ${ev.addr} is-at ${ev.mac}`;
    case 'arp-answered':
      return `  arp: ${ev.addr} is-at our MAC (${ev.owner})`;
    case 'arp-ignored':
      return '  arp: not ours';
    case 'nd-learned':
      return `  nd: learned ${ev.addr} is-at ${ev.mac}`;
    case 'nd-answered':
      return `  nd: ${ev.addr} is-at our MAC (${ev.owner})`;
    case 'nd-ignored':
      return '  nd: not ours on this port';
    case 'neighbour-wait':
      return `  ${ev.nd ? 'nd' : 'arp'}: resolving ${ev.addr} on ${ev.port}, frame held`;
    case 'echo-reply':
      return `  ${ev.from.includes(':') ? 'icmpv6' : 'icmp'}: echo reply from ${ev.vip ? 'VIP' : 'director'} ${ev.from}`;
    case 'icmp-sent':
      return `  ${ev.v6 ? 'icmpv6' : 'icmp'}: type ${ev.type} code ${ev.code} sent to ${ev.to}`;
    case 'fragment-held':
      return '  fragment held until its first fragment arrives';
    case 'fragment-released':
      return '  releasing a held fragment';
    case 'frame-out':
      return `  out ${ev.port}: ${formatFrame(ev.bytes).join(' | ')}`;
    case 'drop':
      return `  dropped: ${ev.reason}`;
  }
}
