// Scheduling seen from the wire: rr alternation, persistence pinning a
// client to one real server across connections, weight-0 draining and the
// removal of a real server with expire_nodest_conn off and on.
import { describe, expect, it } from 'vitest';
import { expectFrames, Rig } from './harness.js';
import { pad60, tcpFrame, udpFrame } from './frames.js';
import { CLIENT, CLIENT2, ip, NAT, natConfig } from './topo.js';

const RS: Record<string, string> = { [NAT.rs1]: NAT.rs1Mac, [NAT.rs2]: NAT.rs2Mac };
// both dests listen on 8080; the kernel lists the last added first, so rr picks rs2 first
const dests = [{ addr: NAT.rs1, port: 8080 }, { addr: NAT.rs2, port: 8080 }];

const syn = (client: string, cport: number) =>
  ({ smac: NAT.routerMac, dmac: NAT.outMac, src: client, dst: NAT.vip, sport: cport, dport: 80, flags: 'S', seq: 1, ttl: 60 });
const synAt = (client: string, cport: number, rs: string) =>
  ({ ...syn(client, cport), smac: NAT.inMac, dmac: RS[rs]!, dst: rs, dport: 8080, ttl: 59 });
const ack = (client: string, cport: number) => ({ ...syn(client, cport), flags: 'A', seq: 2, ack: 1 });
const ackAt = (client: string, cport: number, rs: string) => ({ ...synAt(client, cport, rs), flags: 'A', seq: 2, ack: 1 });

/** Opens a conn and asserts it went to `rs`. */
function open(rig: Rig, client: string, cport: number, rs: string, now: number): void {
  expectFrames(rig.in(0, pad60(tcpFrame(syn(client, cport))), now), [{ port: 1, bytes: tcpFrame(synAt(client, cport, rs)) }]);
}

describe('rr and persistence', () => {
  it('without persistence rr alternates between real servers for one client', () => {
    const rig = new Rig(natConfig({ services: [{ port: 80, dests }] }));
    open(rig, CLIENT, 1000, NAT.rs2, 1);
    open(rig, CLIENT, 1001, NAT.rs1, 2);
    open(rig, CLIENT, 1002, NAT.rs2, 3);
  });

  it('with persistence every conn of a client goes where its first went; another client moves on', () => {
    const rig = new Rig(natConfig({ services: [{ port: 80, persistent: 300, dests }] }));
    open(rig, CLIENT, 1000, NAT.rs2, 1);
    open(rig, CLIENT, 1001, NAT.rs2, 2);
    open(rig, CLIENT2, 1000, NAT.rs1, 3);
    open(rig, CLIENT, 1002, NAT.rs2, 4);
    open(rig, CLIENT2, 1001, NAT.rs1, 5);
    // a template per client, plus the five conns
    expect(rig.d.conns.counters.templates).toBe(2);
  });

  it('a UDP client stays on its real server across source ports until its template expires', () => {
    const rig = new Rig(natConfig({ services: [{ proto: 'udp', port: 53, persistent: 60, dests: [{ addr: NAT.rs1, port: 53 }, { addr: NAT.rs2, port: 53 }] }] }));
    const q = (cport: number) => ({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: cport, dport: 53, ttl: 60, payload: 'q' });
    const at = (cport: number, rs: string) => ({ ...q(cport), smac: NAT.inMac, dmac: RS[rs]!, dst: rs, ttl: 59 });
    expectFrames(rig.in(0, pad60(udpFrame(q(1))), 0), [{ port: 1, bytes: udpFrame(at(1, NAT.rs2)) }]);
    // the UDP conn (300 s) and the template (60 s, re-armed while it controls conns) keep the client on rs2
    expectFrames(rig.in(0, pad60(udpFrame(q(2))), 30_000), [{ port: 1, bytes: udpFrame(at(2, NAT.rs2)) }]);
    // both conns time out at 330 s; the template then lives its 60 s; after that rr moves on
    for (let t = 31_000; t <= 400_000; t += 1000) rig.tick(t);
    expect(rig.d.conns.size).toBe(0);
    expectFrames(rig.in(0, pad60(udpFrame(q(3))), 400_001), [{ port: 1, bytes: udpFrame(at(3, NAT.rs1)) }]);
  });
});

describe('weight 0: draining', () => {
  it('the existing conn keeps its real server; new conns go to the others', () => {
    const rig = new Rig(natConfig({ services: [{ port: 80, dests }] }));
    const svc = rig.d.services.all[0]!;
    open(rig, CLIENT, 1000, NAT.rs2, 1);
    svc.editDest(svc.findDest(ip(NAT.rs2), 8080)!, { weight: 0 });
    expectFrames(rig.in(0, pad60(tcpFrame(ack(CLIENT, 1000))), 2), [{ port: 1, bytes: tcpFrame(ackAt(CLIENT, 1000, NAT.rs2)) }]);
    open(rig, CLIENT, 1001, NAT.rs1, 3);
    open(rig, CLIENT, 1002, NAT.rs1, 4);
    open(rig, CLIENT2, 1000, NAT.rs1, 5);
    expect(rig.drops()).toEqual({});
  });

  it('with every real server at weight 0 a new conn gets port-unreachable', () => {
    const rig = new Rig(natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080, weight: 0 }] }] }));
    const out = rig.in(0, pad60(tcpFrame(syn(CLIENT, 1000))), 1);
    expect(out.length).toBe(1);
    expect(out[0]!.port).toBe(0);
    expect(out[0]!.bytes[14 + 20]).toBe(3); // ICMP destination unreachable
    expect(out[0]!.bytes[14 + 21]).toBe(3); // port
    expect(rig.drops()).toEqual({ 'no-real-server': 1 });
  });
});

describe('a removed real server', () => {
  function setup(expireNodest: boolean) {
    const cfg = natConfig({
      services: [
        { port: 80, dests },
        { proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 53 }, { addr: NAT.rs2, port: 53 }] },
      ],
    });
    cfg.options.expireNodestConn = expireNodest;
    const rig = new Rig(cfg);
    open(rig, CLIENT, 1000, NAT.rs2, 1);
    const q = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 7, dport: 53, ttl: 60, payload: 'q' };
    expectFrames(rig.in(0, pad60(udpFrame(q)), 2), [{ port: 1, bytes: udpFrame({ ...q, smac: NAT.inMac, dmac: NAT.rs2Mac, dst: NAT.rs2, ttl: 59 }) }]);
    for (const svc of rig.d.services.all) svc.removeDest(svc.dests.find((d) => d.addr === ip(NAT.rs2))!);
    return { rig, q };
  }

  it('expire_nodest_conn off: its conns stay in the table but their packets are dropped', () => {
    const { rig, q } = setup(false);
    expect(rig.in(0, pad60(tcpFrame(ack(CLIENT, 1000))), 3)).toEqual([]);
    expect(rig.in(0, pad60(udpFrame(q)), 4)).toEqual([]);
    expect(rig.drops()).toEqual({ 'dest-removed': 2 });
    expect(rig.d.conns.lookupIn(6, ip(CLIENT), 1000, ip(NAT.vip), 80, 5)).toBeGreaterThanOrEqual(0);
    // new conns go to the remaining real server
    open(rig, CLIENT, 1001, NAT.rs1, 6);
  });

  it('expire_nodest_conn on: the conn ends at its next packet, which is scheduled anew', () => {
    const { rig, q } = setup(true);
    // a TCP segment that is not a SYN cannot open the replacement conn
    expect(rig.in(0, pad60(tcpFrame(ack(CLIENT, 1000))), 3)).toEqual([]);
    expect(rig.drops()).toEqual({ 'no-conn-not-syn': 1 });
    expect(rig.d.conns.lookupIn(6, ip(CLIENT), 1000, ip(NAT.vip), 80, 4)).toBeLessThan(0);
    // a UDP datagram simply goes to the remaining real server
    expectFrames(rig.in(0, pad60(udpFrame(q)), 5), [{ port: 1, bytes: udpFrame({ ...q, smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, ttl: 59 }) }]);
    open(rig, CLIENT, 1000, NAT.rs1, 6);
  });
});
