// Wireshark's dissectors as a second opinion on the IPv6 frames the director
// sends: NAT6 in both directions (TCP, and a UDP datagram that came without a
// checksum), ICMPv6 errors it translated and ones it made itself, an
// IPv6-in-IPv6 packet, neighbour advertisements and an echo reply. None may be
// malformed and every checksum tshark checks (TCP, UDP, ICMPv6) must be
// good. tshark is required (scripts/setup.sh installs it); these tests fail,
// never skip, without it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { Rig } from './harness.js';
import { CLIENT6, ipPart, NAT6, nat6Config, tcp6Frame, TUN6, tun6Config, udp6Frame } from './topo6.js';

const tmp = mkdtempSync(join(tmpdir(), 'tapvs-tshark6-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('tshark is not installed or does not run: install it with scripts/setup.sh (Debian package tshark); these tests need it');
  }
});

function pcap(frames: Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(1, 20);
  parts.push(h);
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1700000000 + i, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

const FIELDS = [
  'frame.protocols', '_ws.malformed', '_ws.expert.message', 'tcp.checksum.status', 'udp.checksum.status', 'icmpv6.checksum.status',
  'icmpv6.type', 'ipv6.src', 'ipv6.dst',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;

function tshark(frames: Uint8Array[], name: string): Row[] {
  const path = join(tmp, `${name}.pcap`);
  writeFileSync(path, pcap(frames));
  const out = execFileSync('tshark', [
    '-r', path, '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=,', '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f]),
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trimEnd().split('\n').map((line) => {
    const cols = line.split('\t');
    return Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])) as Row;
  });
}

/** '1' good, '0' bad, '2' unverified; a frame's statuses over all its layers. */
const statuses = (s: string): string[] => (s === '' ? [] : s.split(','));

describe('tshark reads the director\'s IPv6 output', () => {
  it('NAT6, TUN6, translated and originated ICMPv6: no malformed packet, every checksum good', () => {
    const frames: Uint8Array[] = [];
    const keep = (out: { bytes: Uint8Array }[]) => { for (const f of out) frames.push(f.bytes); };
    // NAT6: a TCP exchange, a UDP datagram without checksum, errors both ways, echo, NS
    const nat = new Rig(nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }, { proto: 'udp', port: 9000, dests: [{ addr: NAT6.rs1, port: 9001 }] }] }));
    const c = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 40000, dport: 80 };
    const r = { smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 8080, dport: 40000 };
    keep(nat.in(0, tcp6Frame({ ...c, flags: 'S', seq: 1 }), 1));
    keep(nat.in(1, tcp6Frame({ ...r, flags: 'SA', seq: 100, ack: 2 }), 2));
    keep(nat.in(0, tcp6Frame({ ...c, flags: 'PA', seq: 2, ack: 101, payload: 'GET / HTTP/1.0\r\n\r\n' }), 3));
    const toClient = tcp6Frame({ ...c, smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, dst: CLIENT6, sport: 80, dport: 40000, flags: 'PA', seq: 101, ack: 20, payload: 'hello', hopLimit: 63 });
    keep(nat.in(0, eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip }).icmpv6({ type: 1, code: 4 }).payload(ipPart(toClient)).build(), 4));
    const q = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 1111, dport: 9000, payload: 'query' };
    keep(nat.in(0, udp6Frame({ ...q, checksum: 0 }), 5));
    const atRs = udp6Frame({ ...q, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 9001 });
    keep(nat.in(1, eth({ src: NAT6.rs1Mac, dst: NAT6.inMac }).ipv6({ src: NAT6.rs1, dst: CLIENT6 }).icmpv6({ type: 1, code: 4 }).payload(ipPart(atRs)).build(), 6));
    keep(nat.in(0, eth({ src: NAT6.routerMac, dst: NAT6.outMac }).ipv6({ src: CLIENT6, dst: NAT6.vip }).icmpv6({ type: 128, id: 1, seq: 1, payload: 'ping' }).build(), 7));
    keep(nat.in(0, eth({ src: NAT6.routerMac, dst: '33:33:ff:00:01:00' }).ipv6({ src: NAT6.router, dst: 'ff02::1:ff00:100', hopLimit: 255 })
      .icmpv6({ type: 135, target: NAT6.vip, options: [{ sll: NAT6.routerMac }] }).build(), 8));
    keep(nat.in(1, tcp6Frame({ ...r, flags: 'A', seq: 101, ack: 20, hopLimit: 1 }), 9)); // time exceeded
    keep(nat.start(10));
    // TUN6: a tunnelled segment and packet too big
    const tun = new Rig(tun6Config({ services: [{ port: 80, dests: [{ addr: TUN6.rs1, port: 80 }] }] }));
    const t = { smac: TUN6.routerMac, dmac: TUN6.mac, src: CLIENT6, dst: TUN6.vip, sport: 40001, dport: 80 };
    keep(tun.in(0, tcp6Frame({ ...t, flags: 'S', seq: 1 }), 11));
    keep(tun.in(0, tcp6Frame({ ...t, flags: 'PA', seq: 2, ack: 1, payload: 'x'.repeat(1450) }), 12));

    expect(frames.length).toBe(16);
    const rows = tshark(frames, 'ipv6-out');
    expect(rows).toHaveLength(frames.length);
    for (const row of rows) {
      const what = `${row['frame.protocols']} ${row['ipv6.src']} > ${row['ipv6.dst']} icmpv6 ${row['icmpv6.type']}`;
      expect(row['_ws.malformed'], what).toBe('');
      // packet-too-big quotes the start of a packet over 1280 bytes: tshark sums the cut quote and calls the
      // quoted TCP checksum bad, so for that one only the ICMPv6 checksum is asked (the quote is the sender's bytes)
      const cut = row['icmpv6.type'] === '2';
      if (!cut) expect(row['_ws.expert.message'], what).not.toMatch(/malformed|incorrect|bad checksum/i);
      for (const f of cut ? ['icmpv6.checksum.status'] as const : ['tcp.checksum.status', 'udp.checksum.status', 'icmpv6.checksum.status'] as const) {
        // the outermost of each is fully present and must verify; a quoted one may be cut short (unverified)
        const s = statuses(row[f]);
        if (s.length > 0) expect([what, f, s[0]]).toEqual([what, f, '1']);
        expect([what, f, s.includes('0')]).toEqual([what, f, false]);
      }
    }
    const kinds = rows.map((x) => x['frame.protocols']);
    expect(kinds).toContain('eth:ethertype:ipv6:ipv6:tcp');
    expect(rows.map((x) => x['icmpv6.type'].split(',')[0])).toEqual(expect.arrayContaining(['1', '2', '3', '129', '136']));
  });

  it('control: tshark does check ICMPv6 checksums (a wrong one is reported bad)', () => {
    const bad = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.vip, dst: CLIENT6 }).icmpv6({ type: 129, id: 1, seq: 1, checksum: 0x1234 }).build();
    expect(tshark([bad], 'bad')[0]!['icmpv6.checksum.status']).toBe('0');
  });
});
