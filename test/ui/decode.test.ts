// The browser view's frame decoding and its diff of a received and a sent
// frame: which fields the page marks as the forwarding method's rewrite,
// which as an ordinary hop change, and which layer as added.
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { decodeFrame, diffFrames, endpointsOf, type DecodedFrame } from '../../src/ui/decode.js';

const client = '203.0.113.7';
const vip = '10.0.0.100';

function fromRouter(dport = 80, ttl = 58): Uint8Array {
  return eth({ src: '02:00:00:00:00:fe', dst: '02:00:00:00:00:01' })
    .ipv4({ src: client, dst: vip, ttl, id: 7, flags: 'DF' })
    .tcp({ sport: 45000, dport, flags: 'S', seq: 100 })
    .build();
}

/** Every changed field of every layer as "layer.field:kind", and added layers as "layer:added". */
function changes(f: DecodedFrame): string[] {
  const out: string[] = [];
  for (const l of f.layers) {
    if (l.added) out.push(`${l.id}:added`);
    for (const x of l.fields) if (x.changed) out.push(`${l.id}.${x.id}:${x.changed}`);
  }
  return out.sort();
}

describe('decodeFrame', () => {
  it('gives each layer its fields, with values as a reader writes them', () => {
    const d = decodeFrame(fromRouter());
    expect(d.layers.map((l) => l.id)).toEqual(['eth', 'ip', 'tcp']);
    const v = (layer: string, field: string) => d.layers.find((l) => l.id === layer)!.fields.find((x) => x.id === field)!.value;
    expect(v('eth', 'dst')).toBe('02:00:00:00:00:01');
    expect(v('ip', 'src')).toBe(client);
    expect(v('ip', 'dst')).toBe(vip);
    expect(v('ip', 'ttl')).toBe('58');
    expect(v('ip', 'df')).toBe('set');
    expect(v('ip', 'checksum')).toMatch(/^0x[0-9a-f]{4} \(ok\)$/);
    expect(v('tcp', 'flags')).toBe('[S]');
    expect(v('tcp', 'checksum')).toMatch(/\(ok\)$/);
    expect(d.summary).toContain(`ip ${client} > ${vip} ttl 58`);
  });

  it('reads ARP and an IP-in-IP packet layer by layer', () => {
    const arp = decodeFrame(eth({ src: '02:00:00:00:00:02', dst: 'ff:ff:ff:ff:ff:ff' })
      .arp({ op: 1, sha: '02:00:00:00:00:02', spa: '192.168.10.1', tpa: '192.168.10.11' }).build());
    expect(arp.layers.map((l) => l.id)).toEqual(['eth', 'arp']);
    expect(arp.layers[1]!.fields.find((f) => f.id === 'tpa')!.value).toBe('192.168.10.11');
    const tun = decodeFrame(eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:0a' })
      .ipip({ src: '172.16.0.2', dst: '172.16.1.11' }).ipv4({ src: client, dst: vip }).tcp({ sport: 1, dport: 80 }).build());
    expect(tun.layers.map((l) => l.id)).toEqual(['eth', 'ip-outer', 'ip', 'tcp']);
    expect(tun.layers[1]!.name).toContain('outer');
  });

  it('never throws on a short frame', () => {
    expect(decodeFrame(new Uint8Array(5)).layers[0]!.name).toBe('Unreadable');
  });
});

describe('diffFrames', () => {
  it('NAT toward a real server: destination address and port and both checksums are the rewrite; the MACs a hop change', () => {
    const sent = decodeFrame(eth({ src: '02:00:00:00:00:02', dst: '02:00:00:00:10:11' })
      .ipv4({ src: client, dst: '192.168.10.11', ttl: 58, id: 7, flags: 'DF' }).tcp({ sport: 45000, dport: 8080, flags: 'S', seq: 100 }).build());
    diffFrames(decodeFrame(fromRouter()), sent, 'NAT', 'to-real-server');
    expect(changes(sent)).toEqual([
      'eth.dst:hop', 'eth.src:hop', 'ip.checksum:rewrite', 'ip.dst:rewrite', 'tcp.checksum:rewrite', 'tcp.dport:rewrite',
    ]);
    const dst = sent.layers[1]!.fields.find((f) => f.id === 'dst')!;
    expect(dst.before).toBe(vip);
  });

  it('NAT reply: the source goes back to the VIP; the TTL and its header checksum share are hop changes', () => {
    const got = decodeFrame(eth({ src: '02:00:00:00:10:11', dst: '02:00:00:00:00:02' })
      .ipv4({ src: '192.168.10.11', dst: client, ttl: 64 }).tcp({ sport: 8080, dport: 45000, flags: 'SA' }).build());
    const sent = decodeFrame(eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:fe' })
      .ipv4({ src: vip, dst: client, ttl: 63 }).tcp({ sport: 80, dport: 45000, flags: 'SA' }).build());
    diffFrames(got, sent, 'NAT', 'to-client');
    expect(changes(sent)).toEqual([
      'eth.dst:hop', 'eth.src:hop', 'ip.checksum:rewrite', 'ip.src:rewrite', 'ip.ttl:hop', 'tcp.checksum:rewrite', 'tcp.sport:rewrite',
    ]);
  });

  it('DR: the destination MAC is the only rewrite, and nothing above Ethernet changes', () => {
    const sent = decodeFrame(eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:11' })
      .ipv4({ src: client, dst: vip, ttl: 58, id: 7, flags: 'DF' }).tcp({ sport: 45000, dport: 80, flags: 'S', seq: 100 }).build());
    diffFrames(decodeFrame(eth({ src: '02:00:00:00:00:fe', dst: '02:00:00:00:00:01' })
      .ipv4({ src: client, dst: vip, ttl: 58, id: 7, flags: 'DF' }).tcp({ sport: 45000, dport: 80, flags: 'S', seq: 100 }).build()), sent, 'DR', 'to-real-server');
    expect(changes(sent)).toEqual(['eth.dst:rewrite', 'eth.src:hop']);
  });

  it('a TTL-only change (a routed frame) marks the header checksum as a hop change too', () => {
    const sent = decodeFrame(fromRouter(80, 57));
    diffFrames(decodeFrame(fromRouter(80, 58)), sent, '', 'other');
    expect(changes(sent)).toEqual(['ip.checksum:hop', 'ip.ttl:hop']);
  });

  it('TUN: the outer header is added and the inner packet is unchanged', () => {
    const sent = decodeFrame(eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:fe' })
      .ipip({ src: '172.16.0.2', dst: '172.16.1.11', ttl: 58, flags: 'DF' })
      .ipv4({ src: client, dst: vip, ttl: 58, id: 7, flags: 'DF' }).tcp({ sport: 45000, dport: 80, flags: 'S', seq: 100 }).build());
    diffFrames(decodeFrame(fromRouter()), sent, 'TUN', 'to-real-server');
    expect(changes(sent)).toEqual(['eth.dst:hop', 'eth.src:hop', 'ip-outer:added']);
    expect(sent.layers[2]!.name).toBe('IPv4, inner');
  });
});

describe('endpointsOf', () => {
  it('reads the innermost transport endpoints, through IP-in-IP', () => {
    expect(endpointsOf(fromRouter())).toEqual({ proto: 'TCP', src: client, sport: 45000, dst: vip, dport: 80 });
    const tun = eth().ipip({ src: '172.16.0.2', dst: '172.16.1.11' }).ipv4({ src: client, dst: vip }).udp({ sport: 5000, dport: 7 }).build();
    expect(endpointsOf(tun)).toEqual({ proto: 'UDP', src: client, sport: 5000, dst: vip, dport: 7 });
    expect(endpointsOf(eth().arp({ op: 1, sha: '02:00:00:00:00:01', spa: '10.0.0.1', tpa: '10.0.0.2' }).build())).toBeNull();
  });
});
