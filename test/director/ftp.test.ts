// The FTP helper of LVS-NAT (xmit/ftp.ts, as the kernel's ip_vs_ftp on
// ip_vs_app): a control conn to port 21 of a NAT service, its PASV/EPSV
// replies and PORT/EPRT commands, the sequence/ack shift after a reply
// changed length, and the data conns it expects bound to the control
// conn's real server. Every expected frame is built from scratch.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONN_F_APP, CONN_F_NO_CPORT } from '../../src/conn/flags.js';
import { parseConfig } from '../../src/control/config.js';
import { expectFrames, Rig, type Frame } from './harness.js';
import { pad60, tcpFrame, type TcpSpec } from './frames.js';
import { CLIENT, drConfig, DR, ip, NAT, natConfig } from './topo.js';

const CPORT = 40000;
type Seg = { flags: string; seq: number; ack: number; payload?: string };

const fromClient = (s: Seg, sport = CPORT, dport = 21): TcpSpec =>
  ({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport, dport, ttl: 57, ...s });
const toServer = (s: Seg, sport = CPORT, dport = 21, rs: string = NAT.rs1, rsMac: string = NAT.rs1Mac): TcpSpec =>
  ({ smac: NAT.inMac, dmac: rsMac, src: CLIENT, dst: rs, sport, dport, ttl: 56, ...s });
const fromServer = (s: Seg, sport = 21, dport = CPORT, rs: string = NAT.rs1, rsMac: string = NAT.rs1Mac): TcpSpec =>
  ({ smac: rsMac, dmac: NAT.inMac, src: rs, dst: CLIENT, sport, dport, ttl: 64, ...s });
const toClient = (s: Seg, sport = 21, dport = CPORT): TcpSpec =>
  ({ smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, dst: CLIENT, sport, dport, ttl: 63, ...s });

/** Two real servers (rr), so a data conn sent by the scheduler would go to the other one. */
const cfg = natConfig({ services: [{ port: 21, dests: [{ addr: NAT.rs2, port: 21 }, { addr: NAT.rs1, port: 21 }] }] });

class Ftp {
  readonly rig: Rig;
  t = 1000;
  /** next sequence numbers as each side sends them (client; server as it sent, before the director's shift) */
  cseq = 1001;
  sseq = 5001;
  /** the shift the client sees in the server's numbering */
  shift = 0;

  constructor(c = cfg) {
    this.rig = new Rig(c);
    this.in({ flags: 'S', seq: 1000, ack: 0 });
    this.out({ flags: 'SA', seq: 5000, ack: 1001 });
    this.in({ flags: 'A', seq: 1001, ack: 5001 });
  }

  /** A client segment and what the real server gets. */
  in(s: Seg, expectAck = s.ack - this.shift): void {
    const out = this.rig.in(0, pad60(tcpFrame(fromClient(s))), this.t++);
    expectFrames(out, [{ port: 1, bytes: tcpFrame(toServer({ ...s, ack: s.flags === 'S' ? 0 : expectAck })) }]);
  }

  /** A server segment; `seen` is its payload as the client should get it (default: unchanged). */
  out(s: Seg, seen = s.payload, expectSeq = s.seq + this.shift): Frame[] {
    const out = this.rig.in(1, pad60(tcpFrame(fromServer(s))), this.t++);
    expectFrames(out, [{ port: 0, bytes: tcpFrame(toClient({ ...s, seq: expectSeq, ...(seen !== undefined ? { payload: seen } : {}) })) }]);
    return out;
  }

  /** The client sends a command line (acking all the server sent), the server gets it as it is. */
  command(line: string): void {
    this.in({ flags: 'PA', seq: this.cseq, ack: this.sseq + this.shift, payload: line }, this.sseq);
    this.cseq += line.length;
  }

  /** The server replies; the client sees `seen`, and later segments move by the length difference. */
  reply(line: string, seen = line): void {
    this.out({ flags: 'PA', seq: this.sseq, ack: this.cseq, payload: line }, seen);
    this.sseq += line.length;
    this.shift += seen.length - line.length;
  }

  controlSlot(): number {
    return this.rig.d.conns.lookupIn(6, ip(CLIENT), CPORT, ip(NAT.vip), 21, this.t);
  }
}

describe('FTP through LVS-NAT: passive mode', () => {
  it('rewrites the 227 reply to the VIP (shorter), shifts later seq/acks both ways, binds the data conn to the same real server', () => {
    const f = new Ftp();
    const ctl = f.controlSlot();
    expect(ctl).toBeGreaterThanOrEqual(0);
    expect(f.rig.d.conns.flags[ctl]! & CONN_F_APP).toBe(CONN_F_APP);
    f.reply('220 hello\r\n');
    f.command('USER anonymous\r\n');
    f.reply('331 ok\r\n');
    f.command('PASV\r\n');
    // 192,168,10,11 (13 characters) becomes 10,0,0,100 (10): the segment is 3 bytes shorter
    f.reply('227 Entering Passive Mode (192,168,10,11,156,64).\r\n', '227 Entering Passive Mode (10,0,0,100,156,64).\r\n');
    expect(f.shift).toBe(-3);
    // the next reply comes 3 earlier in the client's numbering; the client's acks go 3 up to the server
    f.command('RETR file\r\n');
    f.reply('150 Opening BINARY mode data connection\r\n');
    f.command('QUIT\r\n');
    f.reply('226 done\r\n');
    expect(f.rig.drops()).toEqual({});

    // the data conn: client, any port -> VIP:40000, to rs1 (the scheduler's rr would pick rs2 now)
    const d = f.rig.d.conns;
    const dataSyn = { flags: 'S', seq: 77, ack: 0 };
    let out = f.rig.in(0, pad60(tcpFrame(fromClient(dataSyn, 40123, 40000))), f.t++);
    expectFrames(out, [{ port: 1, bytes: tcpFrame(toServer(dataSyn, 40123, 40000)) }]);
    const data = d.lookupIn(6, ip(CLIENT), 40123, ip(NAT.vip), 40000, f.t);
    expect(data).toBeGreaterThanOrEqual(0);
    expect(d.control[data]).toBe(ctl);
    expect(d.flags[data]! & (CONN_F_NO_CPORT | CONN_F_APP)).toBe(0);
    expect(d.cport[data]).toBe(40123);
    const synAck = { flags: 'SA', seq: 900, ack: 78 };
    out = f.rig.in(1, pad60(tcpFrame(fromServer(synAck, 40000, 40123))), f.t++);
    expectFrames(out, [{ port: 0, bytes: tcpFrame(toClient(synAck, 40000, 40123)) }]);
    // a new control conn is scheduled by rr as usual: the other real server
    const other = { flags: 'S', seq: 1, ack: 0 };
    out = f.rig.in(0, pad60(tcpFrame(fromClient(other, 40999, 21))), f.t++);
    expectFrames(out, [{ port: 1, bytes: tcpFrame(toServer(other, 40999, 21, NAT.rs2, NAT.rs2Mac)) }]);
    expect(f.rig.drops()).toEqual({});
  });

  it('a longer reply, then a second one: deltas add up, and a retransmission before the change keeps its number', () => {
    const f = new Ftp();
    f.command('PASV\r\n');
    // the server announces a short address (1,2,3,4: 7 characters); the VIP's 10 make it 3 longer
    const first = '227 Entering Passive Mode (1,2,3,4,156,70)\r\n';
    const firstSeq = f.sseq;
    f.reply(first, '227 Entering Passive Mode (10,0,0,100,156,70)\r\n');
    expect(f.shift).toBe(3);
    f.command('PASV\r\n');
    f.reply('227 Entering Passive Mode (192,168,10,11,156,71)\r\n', '227 Entering Passive Mode (10,0,0,100,156,71)\r\n');
    expect(f.shift).toBe(0);
    f.reply('200 still in step\r\n');
    // the server sends the first 227 again (its seq is before the last change): it moves by the delta
    // in force before that change (+3), and it is no longer rewritten (no PASV pending)
    f.out({ flags: 'PA', seq: firstSeq, ack: f.cseq, payload: first }, first, firstSeq + 3);
    f.command('NOOP\r\n');
    expect(f.rig.drops()).toEqual({});
    // both data conns expected: the second to rs1; the first where its 227 said (1.2.3.4), as the kernel makes it
    const d = f.rig.d.conns;
    const syn = { flags: 'S', seq: 5, ack: 0 };
    const out = f.rig.in(0, pad60(tcpFrame(fromClient(syn, 41001, 156 * 256 + 71))), f.t++);
    expectFrames(out, [{ port: 1, bytes: tcpFrame(toServer(syn, 41001, 156 * 256 + 71)) }]);
    expect(d.appChildren).toBe(2);
    const data1 = d.lookupOut(6, ip('1.2.3.4'), 156 * 256 + 70, ip(CLIENT), 0, f.t);
    expect(data1).toBeGreaterThanOrEqual(0);
    expect(d.dest(data1).addr).toBe(ip(NAT.rs1));
  });

  it('EPSV: the 229 reply stays as it is, the data conn to VIP:port goes to the same real server', () => {
    const f = new Ftp();
    f.command('EPSV\r\n');
    f.reply('229 Entering Extended Passive Mode (|||40002|)\r\n');
    expect(f.shift).toBe(0);
    const syn = { flags: 'S', seq: 5, ack: 0 };
    const out = f.rig.in(0, pad60(tcpFrame(fromClient(syn, 40124, 40002))), f.t++);
    expectFrames(out, [{ port: 1, bytes: tcpFrame(toServer(syn, 40124, 40002)) }]);
  });

  it('a 227 split over two segments, or garbage, passes unchanged and expects nothing', () => {
    const f = new Ftp();
    f.command('PASV\r\n');
    f.reply('227 Entering Passive Mode (192,168,');
    f.reply('10,11,156,64).\r\n');
    f.command('PASV\r\n');
    f.reply('227 Entering Passive Mode (999,168,10,11,156,64).\r\n');
    f.reply('227 Entering Passive Mode (1,2,3,4,5).\r\n');
    f.reply('227 (1,2,3,4,5,6,7)\r\n');
    f.reply('227 Entering Passive Mode (1,2,3,4,5,6\r\n');
    f.reply('227 \u0000\u00ff((((,,,,)))\r\n');
    f.command('EPSV\r\n');
    f.reply('229 Entering Extended Passive Mode (|||99999|)\r\n');
    f.reply('229 Entering Extended Passive Mode (|1|1.2.3.4|5|)\r\n');
    f.command('PORT 1,2,3\r\n');
    f.command('EPRT |3|x|1|\r\n');
    f.command('EPRT |1|300.1.1.1|1|\r\n');
    expect(f.shift).toBe(0);
    expect(f.rig.d.conns.appChildren).toBe(0);
    expect(f.rig.drops()).toEqual({});
    // random payloads on a conn waiting for a 227: never a throw, always forwarded
    let x = 12345;
    for (let i = 0; i < 300; i++) {
      const n = 1 + (i % 60);
      let p = '';
      for (let k = 0; k < n; k++) {
        x = (x * 1103515245 + 12345) >>> 0;
        // ASCII only (the frame builder takes strings): near-227 text or any 7-bit byte
        p += String.fromCharCode(i % 3 === 0 ? '227 (1,2,3,4,5|)'.charCodeAt(k % 16) ^ (x >>> 30) : x >>> 25);
      }
      if (i % 7 === 0) f.command('PASV\r\n');
      const out = f.rig.in(1, pad60(tcpFrame(fromServer({ flags: 'PA', seq: f.sseq, ack: f.cseq, payload: p }))), f.t++);
      expect(out.length).toBe(1);
      f.sseq += n;
      f.shift += out[0]!.bytes.length - 14 - 40 - n;
    }
  });
});

describe('FTP through LVS-NAT: active mode', () => {
  for (const [name, cmd] of [['PORT', 'PORT 203,0,113,7,156,65\r\n'], ['EPRT', 'EPRT |1|203.0.113.7|40001|\r\n']] as const) {
    it(`${name}: the command passes as it is; the real server's connect from port 20 reaches the client from VIP:20`, () => {
      const f = new Ftp();
      f.command(cmd);
      f.reply('200 PORT command successful\r\n');
      const d = f.rig.d.conns;
      const data = d.lookupIn(6, ip(CLIENT), 40001, ip(NAT.vip), 20, f.t);
      expect(data).toBeGreaterThanOrEqual(0);
      expect(d.control[data]).toBe(f.controlSlot());
      expect(d.dport[data]).toBe(20);
      const syn = { flags: 'S', seq: 300, ack: 0 };
      let out = f.rig.in(1, pad60(tcpFrame(fromServer(syn, 20, 40001))), f.t++);
      expectFrames(out, [{ port: 0, bytes: tcpFrame(toClient(syn, 20, 40001)) }]);
      const synAck = { flags: 'SA', seq: 700, ack: 301 };
      out = f.rig.in(0, pad60(tcpFrame(fromClient(synAck, 40001, 20))), f.t++);
      expectFrames(out, [{ port: 1, bytes: tcpFrame(toServer(synAck, 40001, 20)) }]);
      expect(f.rig.drops()).toEqual({});
    });
  }

  it('without the helper (option ftp_ports none) the same connect finds no conn', () => {
    const f = new Ftp({ ...cfg, options: { ...cfg.options, ftpPorts: [] } });
    f.command('PORT 203,0,113,7,156,65\r\n');
    expect(f.rig.d.conns.appChildren).toBe(0);
    expect(f.rig.d.conns.flags[f.controlSlot()]! & CONN_F_APP).toBe(0);
  });
});

describe('FTP helper: which conns get it', () => {
  it('option ftp_ports names the ports (default 21); a DR service on 21 never gets it', () => {
    const base = readFileSync(new URL('../../fixtures/config/nat.conf', import.meta.url), 'utf8');
    const ports = (o: string) => {
      const r = parseConfig(`${base}\n${o}\n`, 'ftp.conf');
      return 'config' in r ? r.config.options.ftpPorts : r.errors.map((e) => e.message).join();
    };
    expect(ports('')).toBeUndefined();
    expect(ports('option ftp_ports 21,2121')).toEqual([21, 2121]);
    expect(ports('option ftp_ports none')).toEqual([]);
    expect(ports('option ftp_ports 21,x')).toMatch(/not up to 8 ports/);

    const nat2121 = natConfig({ services: [{ port: 2121, dests: [{ addr: NAT.rs1, port: 2121 }] }] });
    const rig = new Rig({ ...nat2121, options: { ...nat2121.options, ftpPorts: [21, 2121] } });
    rig.in(0, pad60(tcpFrame(fromClient({ flags: 'S', seq: 1, ack: 0 }, 40000, 2121))), 1);
    const s = rig.d.conns.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 2121, 1);
    expect(rig.d.conns.flags[s]! & CONN_F_APP).toBe(CONN_F_APP);

    const dr = new Rig(drConfig({ services: [{ port: 21, persistent: 300, dests: [{ addr: DR.rs1, port: 21 }] }] }));
    dr.in(0, pad60(tcpFrame({ smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport: 40000, dport: 21, flags: 'S' })), 1);
    const ds = dr.d.conns.lookupIn(6, ip(CLIENT), 40000, ip(DR.vip), 21, 1);
    expect(ds).toBeGreaterThanOrEqual(0);
    expect(dr.d.conns.flags[ds]! & CONN_F_APP).toBe(0);
  });
});
