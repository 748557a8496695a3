import { describe, expect, it } from 'vitest';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/model/proto.js';
import { Service } from '../../src/model/service.js';
import { ConnTable } from '../../src/conn/table.js';
import { schedule } from '../../src/conn/schedule.js';
import { BAD_PORT, CHECK_DROP, CHECK_MISS, NO_DEST, TABLE_FULL } from '../../src/conn/codes.js';
import { listConns } from '../../src/conn/listing.js';
import { DIR_INPUT, DIR_OUTPUT, TH_ACK, TH_FIN, TH_RST, TH_SYN } from '../../src/conn/tcp-states.js';
import { RS1, RS2, VIP, ip, makeService, pkt, rrPicks } from './helpers.js';

const S = 1000;
const C = ip('198.51.100.7');
const C2 = ip('198.51.100.200');
const C3 = ip('198.51.101.7');

function tcp(caddr: number, cport: number, vport = 80) {
  return pkt(IPPROTO_TCP, caddr, cport, VIP, vport);
}

function establish(t: ConnTable, slot: number, now: number): void {
  t.update(slot, DIR_INPUT, TH_SYN, now);
  t.update(slot, DIR_OUTPUT, TH_SYN | TH_ACK, now);
  t.update(slot, DIR_INPUT, TH_ACK, now);
}

describe('schedule, not persistent', () => {
  it('asks the scheduler for each new conn and counts it in dest and service stats', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({}, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    const b = schedule(t, svc, tcp(C, 2), 0);
    const c = schedule(t, svc, tcp(C, 3), 0);
    expect([t.daddr[a], t.daddr[b], t.daddr[c]]).toEqual([RS2, RS1, RS2]);
    expect(rrPicks(svc)).toBe(3);
    expect(svc.stats.conns).toBe(3);
    expect(svc.findDest(RS2, 8080)!.stats.conns).toBe(2);
    expect(svc.findDest(RS1, 8080)!.stats.conns).toBe(1);
    expect(svc.dests.reduce((n, d) => n + d.persistConns, 0)).toBe(0);
  });

  it('forwards to the packet port when the dest has port 0', () => {
    const t = new ConnTable({ max: 4, seed: 1 });
    const svc = makeService({}, 1, undefined, 0);
    const a = schedule(t, svc, tcp(C, 1), 0);
    expect(t.dport[a]).toBe(80);
  });

  it('returns NO_DEST when no real server can take it, BAD_PORT for a port the service does not own', () => {
    const t = new ConnTable({ max: 4, seed: 1 });
    const svc = makeService({}, 2);
    for (const d of svc.dests) svc.editDest(d, { weight: 0 });
    expect(schedule(t, svc, tcp(C, 1), 0)).toBe(NO_DEST);
    const svc0 = makeService({ port: 0 }, 1);
    expect(schedule(t, svc0, tcp(C, 1, 443), 0)).toBe(BAD_PORT);
    expect(t.size).toBe(0);
  });
});

describe('persistence', () => {
  it('sends every conn of a client to the same real server through one template', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = makeService({ persistent: 300 }, 2);
    const slots = [1, 2, 3].map((p) => schedule(t, svc, tcp(C, p), p * S));
    expect(new Set(slots.map((s) => t.daddr[s])).size).toBe(1);
    expect(rrPicks(svc)).toBe(1); // only the first conn asked the scheduler
    const d = t.dest(slots[0]!);
    expect(d.persistConns).toBe(1);
    expect(d.inactConns).toBe(3);
    expect(d.stats.conns).toBe(3);

    const other = schedule(t, svc, tcp(C3, 1), 4 * S);
    expect(t.daddr[other]).not.toBe(t.daddr[slots[0]!]);

    const tpl = listConns(t, 4 * S).filter((r) => r.template && r.caddr === C);
    expect(tpl).toHaveLength(1);
    expect(tpl[0]).toMatchObject({ proto: 'TCP', cport: 0, vaddr: VIP, vport: 80, dport: 8080, state: 'NONE' });
    // refreshed on each use: 300 s from the last conn at t=3 s
    expect(tpl[0]!.expiresIn).toBe(299 * S);
  });

  it('groups clients by the persistence netmask', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = makeService({ persistent: 300, netmask: ip('255.255.255.0') }, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    const b = schedule(t, svc, tcp(C2, 1), 0); // same /24
    const c = schedule(t, svc, tcp(C3, 1), 0); // other /24
    expect(t.daddr[b]).toBe(t.daddr[a]);
    expect(t.daddr[c]).not.toBe(t.daddr[a]);
    expect(rrPicks(svc)).toBe(2);
    // the conns keep the real client address; only the template is masked
    expect(t.caddr[b]).toBe(C2);
    expect(listConns(t, 0).filter((r) => r.template).map((r) => r.caddr).sort()).toEqual([ip('198.51.100.0'), ip('198.51.101.0')]);
  });

  it('a port-0 service keeps a client on one server across ports, forwarding each to its own port', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = makeService({ port: 0, persistent: 300 }, 2, undefined, 0);
    const web = schedule(t, svc, tcp(C, 1, 80), 0);
    const tls = schedule(t, svc, tcp(C, 2, 443), 0);
    expect(t.daddr[tls]).toBe(t.daddr[web]);
    expect([t.dport[web], t.dport[tls]]).toEqual([80, 443]);
    expect(rrPicks(svc)).toBe(1);
    const tpl = listConns(t, 0).filter((r) => r.template);
    expect(tpl).toHaveLength(1);
    expect(tpl[0]).toMatchObject({ vport: 0, dport: 0 });
  });

  it('a fwmark service keeps a client on one server across ports and protocols', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = new Service({ proto: 0, fwmark: 7, persistent: 300, scheduler: 'conn-test-rr' });
    svc.addDest({ addr: RS1, port: 0 });
    svc.addDest({ addr: RS2, port: 0 });
    const a = schedule(t, svc, pkt(IPPROTO_TCP, C, 1, VIP, 80), 0);
    const b = schedule(t, svc, pkt(IPPROTO_UDP, C, 2, VIP, 53), 0);
    const c = schedule(t, svc, pkt(IPPROTO_TCP, C, 3, VIP + 1, 443), 0);
    expect(t.daddr[b]).toBe(t.daddr[a]);
    expect(t.daddr[c]).toBe(t.daddr[a]);
    expect(rrPicks(svc)).toBe(1);
    expect(t.lookupIn(IPPROTO_UDP, C, 2, VIP, 53)).toBe(b);
    const tpl = listConns(t, 0).filter((r) => r.template);
    expect(tpl).toHaveLength(1);
    expect(tpl[0]).toMatchObject({ proto: 'IP', vaddr: 7, vport: 0 });
  });

  it('the template expires svc.timeout after its last use once no conn uses it', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = makeService({ persistent: 60 }, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    const first = t.daddr[a];
    t.update(a, DIR_INPUT, TH_SYN, 0);
    t.update(a, DIR_OUTPUT, TH_RST, 1 * S); // server refuses: CLOSE, gone after 10 s
    t.expire(20 * S, 1000);
    expect(t.size).toBe(1); // the template alone
    const b = schedule(t, svc, tcp(C, 2), 30 * S); // reuses it and refreshes it to t=90 s
    expect(t.daddr[b]).toBe(first);
    t.expireNow(b);
    t.expire(89 * S, 1000);
    expect(t.size).toBe(1);
    t.expire(91 * S, 1000);
    expect(t.size).toBe(0);
    const c = schedule(t, svc, tcp(C, 3), 92 * S);
    expect(rrPicks(svc)).toBe(2);
    expect(t.daddr[c]).not.toBe(first);
  });

  it('a template outlives its timeout while a conn it controls is alive', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = makeService({ persistent: 60 }, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    establish(t, a, 0); // 900 s
    t.expire(300 * S, 10_000);
    expect(t.size).toBe(2);
    const b = schedule(t, svc, tcp(C, 2), 300 * S);
    expect(t.daddr[b]).toBe(t.daddr[a]);
    expect(rrPicks(svc)).toBe(1);
    // after the conns end, the template goes after its timeout
    t.expireNow(a);
    t.expireNow(b);
    t.expire(400 * S, 10_000);
    expect(t.size).toBe(0);
    for (const d of svc.dests) expect([d.activeConns, d.inactConns, d.persistConns]).toEqual([0, 0, 0]);
  });

  it('a quiescent (weight 0) dest keeps its template unless expire_quiescent_template is set', () => {
    for (const expireQuiescentTemplate of [false, true]) {
      const t = new ConnTable({ max: 32, seed: 1, settings: { expireQuiescentTemplate } });
      const svc = makeService({ persistent: 300 }, 2);
      const a = schedule(t, svc, tcp(C, 1), 0);
      establish(t, a, 0);
      const d = t.dest(a);
      svc.editDest(d, { weight: 0 });
      const b = schedule(t, svc, tcp(C, 2), S);
      if (!expireQuiescentTemplate) {
        expect(t.dest(b)).toBe(d);
        expect(rrPicks(svc)).toBe(1);
      } else {
        expect(t.dest(b)).not.toBe(d);
        expect(rrPicks(svc)).toBe(2);
        expect(d.persistConns).toBe(1); // the old template lingers until its conns are gone
        expect(t.dest(b).persistConns).toBe(1);
      }
      // either way the weight-0 dest keeps its established conn
      expect(t.lookupIn(IPPROTO_TCP, C, 1, VIP, 80)).toBe(a);
      expect(t.checkIn(a, false, S)).toBe(a);
      expect(d.activeConns).toBe(1);
    }
  });

  it('a template whose dest was removed is replaced', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = makeService({ persistent: 300 }, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    const d = t.dest(a);
    svc.removeDest(d);
    const b = schedule(t, svc, tcp(C, 2), S);
    expect(t.dest(b)).not.toBe(d);
    expect(t.dest(b).available).toBe(true);
  });

  it('reports TABLE_FULL without asking the scheduler when template + conn do not fit', () => {
    const t = new ConnTable({ max: 3, seed: 1 });
    const svc = makeService({ persistent: 300 }, 2);
    expect(schedule(t, svc, tcp(C, 1), 0)).toBeGreaterThanOrEqual(0); // template + conn
    expect(schedule(t, svc, tcp(C3, 1), 0)).toBe(TABLE_FULL); // needs two, one left
    expect(rrPicks(svc)).toBe(1);
    expect(schedule(t, svc, tcp(C, 2), 0)).toBeGreaterThanOrEqual(0); // template exists: one slot is enough
    expect(schedule(t, svc, tcp(C, 3), 0)).toBe(TABLE_FULL);
    expect(t.counters.tableFull).toBe(2);
  });
});

describe('changes while running', () => {
  it('expire_nodest_conn off: packets of a removed dest are dropped and the conn lives on', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({}, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    establish(t, a, 0);
    const d = t.dest(a);
    expect(t.destGone(a)).toBe(false);
    svc.removeDest(d);
    expect(t.destGone(a)).toBe(true);
    expect(t.checkIn(a, false, S)).toBe(CHECK_DROP);
    expect(t.lookupIn(IPPROTO_TCP, C, 1, VIP, 80)).toBe(a);
    expect(d.activeConns).toBe(1);
  });

  it('expire_nodest_conn on: the next packet ends the conn and is scheduled to a live dest', () => {
    const t = new ConnTable({ max: 16, seed: 1, settings: { expireNodestConn: true } });
    const svc = makeService({}, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    establish(t, a, 0);
    const d = t.dest(a);
    svc.removeDest(d);
    expect(t.checkIn(a, false, S)).toBe(CHECK_MISS);
    expect(t.lookupIn(IPPROTO_TCP, C, 1, VIP, 80)).toBe(-1);
    expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
    const b = schedule(t, svc, tcp(C, 1), S);
    expect(t.dest(b)).not.toBe(d);
  });

  it('expire_nodest_conn on: a SYN to a weight-0 dest is rescheduled, other packets are not', () => {
    const t = new ConnTable({ max: 16, seed: 1, settings: { expireNodestConn: true } });
    const svc = makeService({}, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    establish(t, a, 0);
    svc.editDest(t.dest(a), { weight: 0 });
    expect(t.checkIn(a, false, S)).toBe(a);
    expect(t.checkIn(a, true, S)).toBe(CHECK_MISS);
  });

  it('expireDest frees every conn and template of a dest at once', () => {
    const t = new ConnTable({ max: 32, seed: 1 });
    const svc = makeService({ persistent: 300 }, 2);
    const slots = [1, 2, 3].map((p) => schedule(t, svc, tcp(C, p), 0));
    const other = schedule(t, svc, tcp(C3, 1), 0);
    const d = t.dest(slots[0]!);
    svc.removeDest(d);
    expect(t.expireDest(d)).toBe(4);
    expect([d.activeConns, d.inactConns, d.persistConns]).toEqual([0, 0, 0]);
    expect(t.size).toBe(2);
    expect(t.lookupIn(IPPROTO_TCP, C3, 1, VIP, 80)).toBe(other);
  });

  it('conn_reuse_mode: a SYN on a TIME_WAIT conn starts a new conn, unless a template controls it', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({}, 2);
    const a = schedule(t, svc, tcp(C, 1), 0);
    establish(t, a, 0);
    expect(t.checkIn(a, true, 0)).toBe(a); // SYN on ESTABLISHED: not a new conn
    t.update(a, DIR_INPUT, TH_FIN | TH_ACK, 0);
    t.update(a, DIR_OUTPUT, TH_FIN | TH_ACK, 0);
    expect(t.state[a]).toBe(5 /* TIME_WAIT */);
    expect(t.checkIn(a, false, 0)).toBe(a);
    expect(t.checkIn(a, true, 0)).toBe(CHECK_MISS);
    expect(t.used(a)).toBe(false);

    const p = makeService({ persistent: 300 }, 2);
    const b = schedule(t, p, tcp(C, 9), 0);
    establish(t, b, 0);
    t.update(b, DIR_INPUT, TH_FIN | TH_ACK, 0);
    t.update(b, DIR_OUTPUT, TH_FIN | TH_ACK, 0);
    expect(t.checkIn(b, true, 0)).toBe(b);

    t.settings.connReuseMode = 0;
    const c = schedule(t, svc, tcp(C, 2), 0);
    establish(t, c, 0);
    t.update(c, DIR_INPUT, TH_RST, 0);
    expect(t.checkIn(c, true, 0)).toBe(c);
  });
});

describe('one-packet scheduling (UDP)', () => {
  it('schedules every datagram anew: the conn is never hashed and goes once its packet is sent', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({ proto: IPPROTO_UDP, port: 53, onePacket: true }, 2, undefined, 53);
    const dests: number[] = [];
    for (let k = 0; k < 4; k++) {
      expect(t.lookupIn(IPPROTO_UDP, C, 5353, VIP, 53)).toBe(-1);
      const s = schedule(t, svc, pkt(IPPROTO_UDP, C, 5353, VIP, 53), k);
      t.update(s, DIR_INPUT, 0, k);
      dests.push(t.daddr[s]!);
      expect(t.dest(s).inactConns).toBe(1);
      expect(t.lookupIn(IPPROTO_UDP, C, 5353, VIP, 53, k)).toBe(-1);
      t.put(s);
      expect(t.size).toBe(0);
    }
    expect(dests).toEqual([RS2, RS1, RS2, RS1]);
    expect(t.counters.onePacket).toBe(4);
    for (const d of svc.dests) expect(d.inactConns).toBe(0);
  });

  it('applies only to UDP; TCP conns of the same service are hashed as usual', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({ proto: IPPROTO_TCP, onePacket: true }, 1);
    const s = schedule(t, svc, tcp(C, 1), 0);
    t.put(s);
    expect(t.lookupIn(IPPROTO_TCP, C, 1, VIP, 80)).toBe(s);
  });

  it('with persistence, datagrams of one client stick to one server while each conn goes at once', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({ proto: IPPROTO_UDP, port: 53, onePacket: true, persistent: 60 }, 2, undefined, 53);
    const seen = new Set<number>();
    for (let k = 0; k < 3; k++) {
      const s = schedule(t, svc, pkt(IPPROTO_UDP, C, 1000 + k, VIP, 53), k);
      seen.add(t.daddr[s]!);
      t.put(s);
    }
    expect(seen.size).toBe(1);
    expect(t.size).toBe(1); // the template
  });
});
