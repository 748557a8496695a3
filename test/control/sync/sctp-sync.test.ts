// SCTP conns through the sync daemons: the master sends an SCTP association
// once it is ESTABLISHED (and again when it moves to a synced shutdown
// state), with the kernel's SCTP state numbers, which tapvs's SCTP states
// are; the backup creates it bound to its own real server with that state
// and the master's timeout, and forwards the association's DATA mid-stream
// (it never saw the INIT), as after a takeover.
import { describe, expect, it } from 'vitest';
import { SyncDaemons } from '../../../src/control/sync/daemon.js';
import { SCTP_S_ESTABLISHED, SCTP_S_SHUTDOWN_RECEIVED, SCTP_STATE_NAMES } from '../../../src/conn/sctp-states.js';
import { decodeIpvsSync, IPVS_SYNC_GROUP, IPVS_SYNC_PORT, type IpvsSyncConn } from '../../../src/wire/ipvs-sync.js';
import { eth, type SctpChunkOpts } from '../../../src/wire/builder.js';
import { parseIpv4 } from '../../../src/wire/ipv4.js';
import { parseUdp } from '../../../src/wire/udp.js';
import { Rig, type Frame } from '../../director/harness.js';
import { CLIENT, ip, NAT, natConfig } from '../../director/topo.js';

const SCTP = 132;

function pair(): { a: Rig; b: Rig } {
  const mk = () => {
    const c = natConfig({ services: [{ port: 5000, dests: [{ addr: NAT.rs1, port: 5001 }] }] });
    c.services = c.services.map((s) => ({ ...s, proto: SCTP }));
    return c;
  };
  const cfgA = mk();
  const cfgB = mk();
  cfgB.ports = cfgB.ports.map((p, i) => ({ ...p, mac: p.mac + 0x10, addrs: [{ addr: ip(i === 0 ? '10.0.0.2' : '192.168.10.2'), prefix: 24 }] }));
  return { a: new Rig(cfgA), b: new Rig(cfgB) };
}

const fromClient = (vtag: number, chunks: SctpChunkOpts[], dmac: string = NAT.outMac) => eth({ src: NAT.routerMac, dst: dmac })
  .ipv4({ src: CLIENT, dst: NAT.vip, ttl: 60 }).sctp({ sport: 40000, dport: 5000, vtag, chunks }).build();
const fromServer = (chunks: SctpChunkOpts[]) => eth({ src: NAT.rs1Mac, dst: NAT.inMac })
  .ipv4({ src: NAT.rs1, dst: CLIENT, ttl: 64 }).sctp({ sport: 5001, dport: 40000, vtag: 1, chunks }).build();

function syncRecords(frames: Frame[]): { frames: Frame[]; conns: IpvsSyncConn[] } {
  const out: Frame[] = [];
  const conns: IpvsSyncConn[] = [];
  for (const f of frames) {
    if (f.bytes[12] !== 0x08 || f.bytes[23] !== 17) continue;
    const h = parseIpv4(f.bytes, 14);
    const u = parseUdp(f.bytes, 34);
    if (h.dst !== IPVS_SYNC_GROUP || u.dport !== IPVS_SYNC_PORT) continue;
    out.push(f);
    conns.push(...decodeIpvsSync(f.bytes, 42, u.length - 8).conns);
  }
  return { frames: out, conns };
}

describe('sync: an SCTP association', () => {
  it('goes master -> backup with its SCTP state; the backup forwards its DATA mid-stream', () => {
    const { a, b } = pair();
    const master = new SyncDaemons(a.d, {});
    expect(master.start({ state: 'master', mcastIfn: 'inside', syncid: 0 })).toBeNull();
    const backup = new SyncDaemons(b.d, {});
    expect(backup.start({ state: 'backup', mcastIfn: 'inside', syncid: 0 })).toBeNull();
    let t = 5_000_000;
    a.in(0, fromClient(0, [{ type: 'INIT', initTag: 1 }]), t++);
    a.in(1, fromServer([{ type: 'INIT ACK', initTag: 2, params: [{ type: 7, value: 'c' }] }]), t++);
    a.in(0, fromClient(2, [{ type: 'COOKIE ECHO', cookie: 'c' }]), t++);
    a.in(1, fromServer([{ type: 'COOKIE ACK' }]), t++);
    for (let i = 0; i < 3; i++) a.in(0, fromClient(2, [{ type: 'DATA', tsn: i, data: 'x' }]), t++);
    const mark = a.sent.length;
    master.flush(t);
    const sent = syncRecords(a.sent.slice(mark));
    expect(sent.conns.map((c) => [c.protocol, SCTP_STATE_NAMES[c.state], c.cport, c.vport, c.dport, c.timeout])).toEqual([[SCTP, 'ESTABLISHED', 40000, 5000, 5001, 900]]);
    for (const f of sent.frames) b.in(f.port, f.bytes, t);
    const slot = b.d.conns.lookupIn(SCTP, ip(CLIENT), 40000, ip(NAT.vip), 5000, t);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect([b.d.conns.state[slot], b.d.conns.dport[slot], b.d.conns.timeout[slot]]).toEqual([SCTP_S_ESTABLISHED, 5001, 900_000]);
    expect(b.d.conns.dest(slot).activeConns).toBe(1);
    // a client packet reaching the backup (as after a takeover) is forwarded on the synced conn: rewritten to rs1:5001
    const out = b.in(0, fromClient(2, [{ type: 'DATA', tsn: 9, data: 'after takeover' }], '02:00:00:00:00:11'), t + 1);
    expect(out.map((f) => [f.port, ((f.bytes[36]! << 8) | f.bytes[37]!)])).toEqual([[1, 5001]]);
    // a SHUTDOWN on the master: S-RECEIVED is a synced state, sent at once
    a.in(0, fromClient(2, [{ type: 'SHUTDOWN', cumTsnAck: 0 }]), t + 2);
    const m2 = a.sent.length;
    master.flush(t + 3);
    expect(syncRecords(a.sent.slice(m2)).conns.map((c) => c.state)).toEqual([SCTP_S_SHUTDOWN_RECEIVED]);
  });
});
