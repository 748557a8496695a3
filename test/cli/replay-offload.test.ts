// A session recorded with offload (the default on TAP ports) replays as it
// ran: the recorder marks each TCP super-frame with its segment size in the
// packet comment, and the replay hands it to the director as a super-frame.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import { replayTo } from '../../src/cli/replay.js';
import { gsoCommentText, readGsoComment } from '../../src/io/gso-comment.js';
import { openCapture, PcapngWriter, readCapture } from '../../src/io/pcap-file.js';
import { VNET_GSO_ECN, VNET_GSO_TCPV4, VNET_GSO_TCPV6 } from '../../src/wire/virtio-net.js';
import { eth } from '../../src/wire/builder.js';

const tmp = mkdtempSync(join(tmpdir(), 'tapvs-replay-gso-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const conf = (() => {
  const r = parseConfig(readFileSync(join(__dirname, '../../fixtures/pcap/nat-weight0.conf'), 'utf8'), 'nat-weight0.conf');
  if ('errors' in r) throw new Error(JSON.stringify(r.errors));
  return r.config;
})();

const client = { src: '02:00:00:00:00:fe', dst: '02:00:00:00:00:01' };
const seg = (flags: string, payload?: string) =>
  eth(client).ipv4({ src: '203.0.113.7', dst: '10.0.0.100', ttl: 58, id: 1, flags: 'DF' })
    .tcp({ sport: 45000, dport: 80, flags, seq: flags === 'S' ? 100 : 101, ack: flags === 'S' ? 0 : 901, ...(payload ? { payload } : {}) }).build();

function replayOf(comment: string | undefined): { frames: { ifIndex: number; len: number; comment?: string }[] } {
  const w = new PcapngWriter(['outside', 'inside']);
  w.add(0, 1_700_000_000_000_000_000n, seg('S'));
  // 4000 bytes of payload in one IPv4 packet with DF: a super-frame, or too big for the 1500-byte link
  w.add(0, 1_700_000_000_001_000_000n, seg('PA', 'z'.repeat(4000)), comment);
  const input = join(tmp, `in-${comment ? 'gso' : 'plain'}.pcapng`);
  const output = join(tmp, `out-${comment ? 'gso' : 'plain'}.pcapng`);
  w.writeFile(input);
  replayTo(conf, input, output);
  const r = openCapture(output);
  const frames: { ifIndex: number; len: number; comment?: string }[] = [];
  while (r.next()) frames.push({ ifIndex: r.ifIndex, len: r.capLen, ...(r.comment !== undefined ? { comment: r.comment } : {}) });
  r.close();
  return { frames };
}

describe('replay of a recorded super-frame', () => {
  it('the comment round-trips the gso type and size; other comments and other text say nothing', () => {
    const m = { gsoType: 0, gsoSize: 0, csumStart: 5, csumOffset: 6 };
    expect(gsoCommentText(VNET_GSO_TCPV4, 1448)).toBe('tapvs: TCP super-frame (offload), gso_type tcpv4, gso_size 1448');
    expect(readGsoComment(gsoCommentText(VNET_GSO_TCPV6 | VNET_GSO_ECN, 1428), m)).toBe(true);
    expect(m).toEqual({ gsoType: VNET_GSO_TCPV6 | VNET_GSO_ECN, gsoSize: 1428, csumStart: 0, csumOffset: 0 });
    for (const other of [undefined, 'a comment a user wrote', 'tapvs: TCP super-frame (offload), gso_type udp, gso_size 1448',
      'tapvs: TCP super-frame (offload), gso_type tcpv4, gso_size 0', 'tapvs: TCP super-frame (offload), gso_type tcpv4, gso_size 99999']) {
      expect(readGsoComment(other, m), String(other)).toBe(false);
    }
  });

  it('goes to the real server whole, commented, as the live director sent it; without the comment it is too big for the link', () => {
    const gso = replayOf(gsoCommentText(VNET_GSO_TCPV4, 1448));
    // the SYN, then the super-frame on the inside port (NAT), its comment kept
    expect(gso.frames.slice(-2)).toEqual([
      { ifIndex: 1, len: 54 },
      { ifIndex: 1, len: 14 + 20 + 20 + 4000, comment: gsoCommentText(VNET_GSO_TCPV4, 1448) },
    ]);
    const plain = replayOf(undefined);
    // an ordinary frame of 4054 bytes with DF: fragmentation needed back to the client, nothing to the real server
    // (the 42-byte frames are the gratuitous ARP of the start)
    expect(plain.frames.filter((f) => f.ifIndex === 1 && f.len !== 42).map((f) => f.len)).toEqual([54]);
    expect(plain.frames.at(-1)!.ifIndex).toBe(0);
  });

  it('readCapture still reads files with packet comments frame for frame', () => {
    const path = join(tmp, 'commented.pcapng');
    const w = new PcapngWriter(['p']);
    w.add(0, 1n, seg('S'), 'x'.repeat(100));
    w.add(0, 2n, seg('S'));
    w.writeFile(path);
    expect(readCapture(path).frames.map((f) => f.data.length)).toEqual([54, 54]);
  });
});
