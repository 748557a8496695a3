// The FTP helper over IPv6 (xmit/ftp.ts on nat6): EPSV's 229 passes as it
// is and the data conn to [VIP]:port is bound to the control conn's real
// server; EPRT |2|addr|port| makes the active data conn from the real
// server's port 20, seen from [VIP]:20; PASV and PORT (IPv4 forms) are left
// alone. Expected frames are built from scratch.
import { describe, expect, it } from 'vitest';
import { expectFrames, Rig } from './harness.js';
import { pad60 } from './frames.js';
import { CLIENT6, ip6, NAT6, nat6Config, tcp6Frame, type Tcp6Spec } from './topo6.js';

const CPORT = 40000;
type Seg = { flags: string; seq: number; ack: number; payload?: string };
const fromClient = (s: Seg, sport = CPORT, dport = 21): Tcp6Spec =>
  ({ smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport, dport, hopLimit: 57, ...s });
const toServer = (s: Seg, sport = CPORT, dport = 21): Tcp6Spec =>
  ({ smac: NAT6.inMac, dmac: NAT6.rs1Mac, src: CLIENT6, dst: NAT6.rs1, sport, dport, hopLimit: 56, ...s });
const fromServer = (s: Seg, sport = 21, dport = CPORT): Tcp6Spec =>
  ({ smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport, dport, hopLimit: 64, ...s });
const toClient = (s: Seg, sport = 21, dport = CPORT): Tcp6Spec =>
  ({ smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, dst: CLIENT6, sport, dport, hopLimit: 63, ...s });

// rs2 first in the list: rr picks rs1 for the control conn, and would pick rs2 for a scheduled data conn
const cfg = nat6Config({ services: [{ port: 21, dests: [{ addr: NAT6.rs2, port: 21 }, { addr: NAT6.rs1, port: 21 }] }] });

function session(): { rig: Rig; t: { now: number }; through: (dir: 'in' | 'out', s: Seg) => void } {
  const rig = new Rig(cfg);
  const t = { now: 1000 };
  const through = (dir: 'in' | 'out', s: Seg): void => {
    const out = rig.in(dir === 'in' ? 0 : 1, pad60(tcp6Frame(dir === 'in' ? fromClient(s) : fromServer(s))), t.now++);
    expectFrames(out, [{ port: dir === 'in' ? 1 : 0, bytes: tcp6Frame(dir === 'in' ? toServer(s) : toClient(s)) }]);
  };
  through('in', { flags: 'S', seq: 1000, ack: 0 });
  through('out', { flags: 'SA', seq: 5000, ack: 1001 });
  through('in', { flags: 'A', seq: 1001, ack: 5001 });
  return { rig, t, through };
}

describe('FTP through LVS-NAT over IPv6', () => {
  it('EPSV: the 229 reply as it is; the data conn to [VIP]:40002 goes to the control conn\'s real server', () => {
    const { rig, t, through } = session();
    through('in', { flags: 'PA', seq: 1001, ack: 5001, payload: 'EPSV\r\n' });
    through('out', { flags: 'PA', seq: 5001, ack: 1007, payload: '229 Entering Extended Passive Mode (|||40002|)\r\n' });
    const syn = { flags: 'S', seq: 9, ack: 0 };
    const out = rig.in(0, pad60(tcp6Frame(fromClient(syn, 40777, 40002))), t.now++);
    expectFrames(out, [{ port: 1, bytes: tcp6Frame(toServer(syn, 40777, 40002)) }]);
    const d = rig.d.conns;
    const data = d.lookupIn6(6, ip6(CLIENT6), 0, 40777, ip6(NAT6.vip), 0, 40002, t.now);
    expect(data).toBeGreaterThanOrEqual(0);
    expect(d.control[data]).toBe(d.lookupIn6(6, ip6(CLIENT6), 0, CPORT, ip6(NAT6.vip), 0, 21, t.now));
    expect(rig.drops()).toEqual({});
  });

  it('EPRT |2|: the real server\'s connect from port 20 reaches the client from [VIP]:20; PASV/PORT are not looked at', () => {
    const { rig, t, through } = session();
    through('in', { flags: 'PA', seq: 1001, ack: 5001, payload: 'PASV\r\n' });
    through('out', { flags: 'PA', seq: 5001, ack: 1007, payload: '227 Entering Passive Mode (192,168,10,11,156,64).\r\n' });
    through('in', { flags: 'PA', seq: 1007, ack: 5052, payload: 'PORT 10,0,0,2,156,65\r\n' });
    expect(rig.d.conns.appChildren).toBe(0);
    through('in', { flags: 'PA', seq: 1029, ack: 5052, payload: 'EPRT |2|2001:db8:ff::7|40001|\r\n' });
    expect(rig.d.conns.appChildren).toBe(1);
    const syn = { flags: 'S', seq: 300, ack: 0 };
    let out = rig.in(1, pad60(tcp6Frame(fromServer(syn, 20, 40001))), t.now++);
    expectFrames(out, [{ port: 0, bytes: tcp6Frame(toClient(syn, 20, 40001)) }]);
    const synAck = { flags: 'SA', seq: 700, ack: 301 };
    out = rig.in(0, pad60(tcp6Frame(fromClient(synAck, 40001, 20))), t.now++);
    expectFrames(out, [{ port: 1, bytes: tcp6Frame(toServer(synAck, 40001, 20)) }]);
    expect(rig.drops()).toEqual({});
  });
});
