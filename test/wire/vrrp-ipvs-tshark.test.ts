// What Wireshark's tshark (4.0, Debian 12) makes of the VRRP adverts and IPVS
// sync messages tapvs builds: its `vrrp` dissector decodes v2 and v3 (IPv4
// and IPv6) and verifies the checksum, v3 with the pseudo-header; its `ipvs`
// dissector (UDP port 8848) decodes v0 and v1 headers and the fixed part of
// v1 records, IPv4 and IPv6, but not v1 options: it steps over a record by
// its fixed size, not by the record's size field, so a record after one with
// options is misread. It reads v0 sequence data in network order, where an
// x86 kernel sends host order. tshark is required (scripts/setup.sh installs
// it); these tests fail, never skip, without it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter, readCapture } from '../../src/io/pcap-file.js';
import { ipToString, parseIp } from '../../src/wire/addr.js';
import { ip6ToString } from '../../src/wire/addr6.js';
import { eth } from '../../src/wire/builder.js';
import {
  decodeIpvsSync, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_IN_SEQ, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_TUNNEL, IPVS_SYNC_GROUP,
  IPVS_SYNC_PORT, newIpvsSyncConn, type IpvsSyncConn,
} from '../../src/wire/ipvs-sync.js';
import { WIRE_OK } from '../../src/wire/errors.js';
import { VrrpView } from '../../src/wire/vrrp.js';

const tmp = mkdtempSync(join(tmpdir(), 'tapvs-ha-tshark-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('tshark is not installed or does not run: install it with scripts/setup.sh (Debian package tshark); these tests need it');
  }
});

type Tree = { [k: string]: string | string[] | Tree };

/** tshark's verbose text and its JSON for the vrrp / ipvs layers, one entry per frame. */
function dissect(frames: Uint8Array[], name: string): { text: string[]; layers: Tree[] } {
  const path = join(tmp, `${name}.pcap`);
  const w = new PcapWriter();
  frames.forEach((f, i) => w.add(BigInt(i + 1) * 1_000_000_000n, f));
  w.writeFile(path);
  const run = (args: string[]): string => execFileSync('tshark', ['-r', path, ...args], {
    encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const text = run(['-V', '-S', '\u0001']).split('\u0001').slice(0, frames.length);
  const docs = JSON.parse(run(['-T', 'json', '--no-duplicate-keys'])) as { _source: { layers: Tree } }[];
  return { text, layers: docs.map((d) => d._source.layers) };
}

function noMalformed(text: string[], layers: Tree[]): void {
  for (const t of text) {
    expect(t).not.toMatch(/Malformed/);
    expect(t).not.toMatch(/\[Expert Info \(Error/);
  }
  for (const l of layers) expect(Object.keys(l)).not.toContain('_ws.malformed');
}

const vrrpFrames = [
  eth({ src: '00:00:5e:00:01:33', dst: '01:00:5e:00:00:12' })
    .ipv4({ src: '10.0.0.2', dst: '224.0.0.18', tos: 0xc0 }).vrrp({ vrid: 51, priority: 100, interval: 100, addrs: ['10.0.0.100'] }).build(),
  eth({ src: '00:00:5e:00:01:34', dst: '01:00:5e:00:00:12' })
    .ipv4({ src: '10.0.0.3', dst: '224.0.0.18' }).vrrp({ version: 2, vrid: 52, priority: 150, interval: 2, addrs: ['10.0.0.101', '10.0.0.102'] }).build(),
  eth({ src: '00:00:5e:00:02:01', dst: '33:33:00:00:00:12' })
    .ipv6({ src: 'fe80::1', dst: 'ff02::12' }).vrrp({ vrid: 1, priority: 200, interval: 25, addrs6: ['fe80::100', '2001:db8::100'] }).build(),
];

describe('tshark vrrp dissector', () => {
  it('decodes v3 (IPv4, IPv6) and v2 with our field values and finds our checksums good', () => {
    const { text, layers } = dissect(vrrpFrames, 'vrrp');
    noMalformed(text, layers);
    const v = layers.map((l) => l.vrrp as Tree);
    const tv = (t: Tree): Tree => t['vrrp.typever_tree'] as Tree;
    expect([tv(v[0]!)['vrrp.version'], tv(v[0]!)['vrrp.type'], v[0]!['vrrp.virt_rtr_id'], v[0]!['vrrp.prio'], v[0]!['vrrp.addr_count'],
      v[0]!['vrrp.short_adver_int'], v[0]!['vrrp.checksum.status'], v[0]!['vrrp.ip_addr']])
      .toEqual(['3', '1', '51', '100', '1', '100', '1', '10.0.0.100']);
    expect([tv(v[1]!)['vrrp.version'], v[1]!['vrrp.virt_rtr_id'], v[1]!['vrrp.prio'], v[1]!['vrrp.auth_type'], v[1]!['vrrp.adver_int'],
      v[1]!['vrrp.checksum.status'], v[1]!['vrrp.ip_addr']])
      .toEqual(['2', '52', '150', '0', '2', '1', ['10.0.0.101', '10.0.0.102']]);
    expect([tv(v[2]!)['vrrp.version'], v[2]!['vrrp.virt_rtr_id'], v[2]!['vrrp.prio'], v[2]!['vrrp.short_adver_int'],
      v[2]!['vrrp.checksum.status'], v[2]!['vrrp.ipv6_addr']])
      .toEqual(['3', '1', '200', '25', '1', ['fe80::100', '2001:db8::100']]);
    expect(text[0]).toMatch(/Checksum: 0x7572 \[correct\]/);
  });

  it('a damaged checksum is reported as bad (so "good" above means something)', () => {
    const bad = vrrpFrames[0]!.slice();
    bad[34 + 7] ^= 1;
    const { layers } = dissect([bad], 'vrrp-bad');
    expect((layers[0]!.vrrp as Tree)['vrrp.checksum.status']).toBe('0');
  });
});

describe('tshark and tapvs read the keepalived captures alike', () => {
  for (const file of ['vrrp-v2.pcap', 'vrrp-v3.pcap', 'vrrp-v3-ipv6.pcap']) {
    it(file, () => {
      const fs = readCapture(join(import.meta.dirname, '../../fixtures/wire/keepalived', file)).frames.map((f) => f.data);
      const { text, layers } = dissect(fs, `ka-${file}`);
      noMalformed(text, layers);
      fs.forEach((f, i) => {
        const v6 = f[12] === 0x86;
        const v = new VrrpView();
        expect(v.wrap(f, v6 ? 54 : 34, f.length - (v6 ? 54 : 34), v6 ? 6 : 4)).toBe(WIRE_OK);
        const t = layers[i]!.vrrp as Tree;
        const addrs: string[] = [];
        for (let k = 0; k < v.count; k++) {
          if (v6) {
            const a = new Uint32Array(4);
            v.addr6(k, a);
            addrs.push(ip6ToString(a, 0));
          } else {
            addrs.push(ipToString(v.addr4(k)));
          }
        }
        const ta = t[v6 ? 'vrrp.ipv6_addr' : 'vrrp.ip_addr'];
        expect([(t['vrrp.typever_tree'] as Tree)['vrrp.version'], t['vrrp.virt_rtr_id'], t['vrrp.prio'], t['vrrp.addr_count'],
          t['vrrp.checksum'], t['vrrp.checksum.status'], typeof ta === 'string' ? [ta] : ta])
          .toEqual([String(v.version), String(v.vrid), String(v.priority), String(v.count), '0x' + v.checksum.toString(16).padStart(4, '0'),
            '1', addrs]);
      });
    });
  }
});

const ip = parseIp;
const conn = (o: Partial<IpvsSyncConn>): Partial<IpvsSyncConn> => ({ ...newIpvsSyncConn(), ...o });
const C4 = conn({
  protocol: 6, flags: IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_DROUTE, state: 3, cport: 40000, vport: 80, dport: 80, timeout: 60, fwmark: 0,
  caddr: ip('10.0.0.1'), vaddr: ip('10.0.0.100'), daddr: ip('192.168.1.11'),
});
const C4SEQ = conn({
  protocol: 6, flags: IP_VS_CONN_F_IN_SEQ, state: 1, cport: 50000, vport: 21, dport: 21, timeout: 900, fwmark: 7,
  caddr: ip('10.0.0.2'), vaddr: ip('10.0.0.100'), daddr: ip('192.168.1.12'), inSeqInit: 0x11223344, inSeqDelta: 16,
});
const C6 = conn({
  af: 10, protocol: 17, flags: IP_VS_CONN_F_TUNNEL, state: 0, cport: 5060, vport: 5060, dport: 5060, timeout: 300,
  caddr6: Uint32Array.of(0x20010db8, 0, 0, 1), vaddr6: Uint32Array.of(0x20010db8, 0, 0, 0x100), daddr6: Uint32Array.of(0x20010db8, 0x10000, 0, 0x11),
});

function syncFrame(version: 0 | 1, conns: Partial<IpvsSyncConn>[], syncid = 9): Uint8Array {
  return eth({ src: '02:00:00:00:00:01', dst: '01:00:5e:00:00:51' })
    .ipv4({ src: '10.0.0.2', dst: IPVS_SYNC_GROUP, ttl: 1 })
    .udp({ sport: IPVS_SYNC_PORT, dport: IPVS_SYNC_PORT })
    .ipvsSync({ version, syncid, conns }).build();
}

const hex4 = (n: number, w = 4): string => '0x' + n.toString(16).padStart(w, '0');

/** The fields tshark shows for one of our records, as tshark prints them. */
function expectedV1(c: Partial<IpvsSyncConn>, size: number): Tree {
  const v6 = c.af === 10;
  const a6 = (w: Uint32Array): string => ip6ToString(w, 0);
  const addrs: Tree = v6
    ? { 'ipvs.caddr6': a6(c.caddr6!), 'ipvs.vaddr6': a6(c.vaddr6!), 'ipvs.daddr6': a6(c.daddr6!) }
    : { 'ipvs.caddr': ipStr(c.caddr!), 'ipvs.vaddr': ipStr(c.vaddr!), 'ipvs.daddr': ipStr(c.daddr!) };
  return {
    'ipvs.type': v6 ? '1' : '0', 'ipvs.proto': hex4(c.protocol!, 2), 'ipvs.ver': '0', 'ipvs.size.v1': String(size),
    'ipvs.flags.v1': hex4(c.flags!, 8), 'ipvs.state': hex4(c.state!), 'ipvs.cport': String(c.cport), 'ipvs.vport': String(c.vport),
    'ipvs.dport': String(c.dport), 'ipvs.fwmark': hex4(c.fwmark!, 8), 'ipvs.timeout': String(c.timeout), ...addrs,
  };
}

function ipStr(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

describe('tshark ipvs dissector', () => {
  it('v0: header and records, sequence data shown in network order', () => {
    const { text, layers } = dissect([syncFrame(0, [C4, C4SEQ], 5)], 'ipvs-v0');
    noMalformed(text, layers);
    const s = layers[0]!.ipvs as Tree;
    expect([s['ipvs.conncount'], s['ipvs.syncid'], s['ipvs.size']]).toEqual(['2', '5', '76']);
    const c1 = s['Connection #1'] as Tree;
    const c2 = s['Connection #2'] as Tree;
    expect([c1['ipvs.proto'], c1['ipvs.cport'], c1['ipvs.vport'], c1['ipvs.dport'], c1['ipvs.caddr'], c1['ipvs.vaddr'], c1['ipvs.daddr'],
      c1['ipvs.flags'], c1['ipvs.state']])
      .toEqual(['0x06', '40000', '80', '80', '10.0.0.1', '10.0.0.100', '192.168.1.11', '0x0103', '0x0003']);
    expect([c2['ipvs.cport'], c2['ipvs.flags'], c2['ipvs.in_seq.initial'], c2['ipvs.in_seq.delta']])
      .toEqual(['50000', '0x0400', '0x44332211', '0x10000000']);
  });

  it('v1 without options: every IPv4 and IPv6 record field as we wrote it', () => {
    const f = syncFrame(1, [C4, C6, C4]);
    expect(decodeIpvsSync(f.subarray(42)).conns.length).toBe(3);
    const { text, layers } = dissect([f], 'ipvs-v1');
    noMalformed(text, layers);
    const s = layers[0]!.ipvs as Tree;
    expect([s['ipvs.syncid'], s['ipvs.size'], s['ipvs.conncount'], s['ipvs.version']]).toEqual(['9', String(8 + 36 + 72 + 36), '3', '1']);
    expect(s['Connection #1']).toEqual(expectedV1(C4, 36));
    expect(s['Connection #2']).toEqual(expectedV1(C6, 72));
    expect((s['Connection #2'] as Tree)['ipvs.daddr6']).toBe('2001:db8:1::11');
    expect(s['Connection #3']).toEqual(expectedV1(C4, 36));
  });

  it('v1 with a sequence option as the last record: that record is right (the option itself is not shown)', () => {
    const { text, layers } = dissect([syncFrame(1, [C4, C4SEQ])], 'ipvs-v1-opt-last');
    noMalformed(text, layers);
    const s = layers[0]!.ipvs as Tree;
    expect(s['Connection #1']).toEqual(expectedV1(C4, 36));
    expect(s['Connection #2']).toEqual(expectedV1(C4SEQ, 62));
    expect(text[0]).not.toMatch(/Sequence/);
  });

  it('v1 with a record after an option: tshark 4.0 misreads it and calls the (valid) message malformed', () => {
    const f = syncFrame(1, [C4SEQ, C4]);
    const ours = decodeIpvsSync(f.subarray(42));
    expect([ours.rc, ours.conns.length]).toEqual([0, 2]);
    const { text, layers } = dissect([f], 'ipvs-v1-opt');
    const s = layers[0]!.ipvs as Tree;
    expect(s['Connection #1']).toEqual(expectedV1(C4SEQ, 62));
    // it reads record 2 at 8 + 36, where our sequence option starts, instead of at 8 + 64
    expect((s['Connection #2'] as Tree)['ipvs.type']).toBe('1'); // the option type byte IPVS_OPT_SEQ_DATA
    expect(text[0]).toMatch(/Malformed Packet/);
  });
});
