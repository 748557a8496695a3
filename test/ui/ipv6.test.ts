// The browser view with IPv6: frames decoded layer by layer (IPv6 with its
// extension headers, ICMPv6 echo, neighbour solicitations and advertisements
// with their options, errors with the quoted packet, IPv6-in-IPv6), the diff
// of received and sent frames per mode (NAT6: address, port and transport
// checksum are the rewrite; DR6: only the destination MAC, the hop limit a
// hop change; TUN6: the added outer header), and the IPv6 replay fixtures
// through the hub: walks, neighbour-discovery notes, the connection table,
// services and topology in ipvsadm's [addr]:port form.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, replayTo } from '../../src/cli/replay.js';
import { decodeFrame, diffFrames, endpointsOf, type DecodedFrame } from '../../src/ui/decode.js';
import { replayUi } from '../../src/ui/index.js';
import { topologyOf, type Tables } from '../../src/ui/tables.js';
import { passView, walkSummary } from '../../src/ui/walk.js';
import { eth } from '../../src/wire/builder.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'fixtures', 'pcap');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-ui-ipv6-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CLIENT = '2001:db8:ff::7';
const VIP = '2001:db8:0:1::100';
const RS = '2001:db8:0:10::11';
const M = { router: '02:00:00:00:00:fe', out: '02:00:00:00:00:01', in: '02:00:00:00:00:02', rs: '02:00:00:00:10:11' };

const syn6 = (o: { smac: string; dmac: string; src: string; dst: string; sport: number; dport: number; hop: number }) =>
  eth({ src: o.smac, dst: o.dmac }).ipv6({ src: o.src, dst: o.dst, hopLimit: o.hop, tc: 0x28, flowLabel: 0x12345 })
    .tcp({ sport: o.sport, dport: o.dport, flags: 'S', seq: 100 }).build();
const fromClient = () => syn6({ smac: M.router, dmac: M.out, src: CLIENT, dst: VIP, sport: 45000, dport: 80, hop: 58 });

function changes(f: DecodedFrame): string[] {
  const out: string[] = [];
  for (const l of f.layers) {
    if (l.added) out.push(`${l.id}:added`);
    for (const x of l.fields) if (x.changed) out.push(`${l.id}.${x.id}:${x.changed}`);
  }
  return out.sort();
}
const value = (d: DecodedFrame, layer: string, field: string) => d.layers.find((l) => l.id === layer)?.fields.find((x) => x.id === field)?.value;

describe('decodeFrame: IPv6', () => {
  it('an IPv6 TCP segment: addresses as RFC 5952 writes them, hop limit, traffic class, flow label, a verified checksum', () => {
    const d = decodeFrame(fromClient());
    expect(d.layers.map((l) => `${l.id}:${l.name}`)).toEqual(['eth:Ethernet', 'ip:IPv6', 'tcp:TCP']);
    expect(value(d, 'eth', 'type')).toBe('IPv6 (0x86dd)');
    expect(value(d, 'ip', 'src')).toBe(CLIENT);
    expect(value(d, 'ip', 'dst')).toBe(VIP);
    expect(value(d, 'ip', 'hlim')).toBe('58');
    expect(value(d, 'ip', 'nxt')).toBe('TCP (6)');
    expect(value(d, 'ip', 'tc')).toBe('0x28');
    expect(value(d, 'ip', 'flow')).toBe('0x12345');
    expect(value(d, 'ip', 'plen')).toBe('20');
    expect(value(d, 'tcp', 'checksum')).toMatch(/^0x[0-9a-f]{4} \(ok\)$/);
    // a damaged checksum is called bad (the IPv6 pseudo-header is summed)
    const bad = fromClient();
    bad[14 + 40 + 16] ^= 0x10;
    expect(value(decodeFrame(bad), 'tcp', 'checksum')).toMatch(/\(bad\)$/);
  });

  it('walks extension headers to the upper layer and names them', () => {
    const d = decodeFrame(eth({ src: M.router, dst: M.out }).ipv6({ src: CLIENT, dst: VIP }).hopByHop().destOpts()
      .udp({ sport: 1000, dport: 53, payload: 'q' }).build());
    expect(d.layers.map((l) => l.id)).toEqual(['eth', 'ip', 'udp']);
    expect(value(d, 'ip', 'nxt')).toBe('hop-by-hop options (0)');
    expect(value(d, 'ip', 'ext')).toBe('16 bytes, then UDP (17)');
    expect(value(d, 'udp', 'checksum')).toMatch(/\(ok\)$/);
  });

  it('a neighbour solicitation and advertisement: target, flags and the link-layer options', () => {
    const ns = decodeFrame(eth({ src: M.in, dst: '33:33:ff:00:00:11' }).ipv6({ src: 'fe80::ff:fe00:2', dst: 'ff02::1:ff00:11', hopLimit: 255 })
      .icmpv6({ type: 135, target: RS, options: [{ sll: M.in }] }).build());
    expect(ns.layers.map((l) => l.id)).toEqual(['eth', 'ip', 'icmpv6']);
    expect(value(ns, 'icmpv6', 'type')).toBe('neighbour solicitation (135)');
    expect(value(ns, 'icmpv6', 'target')).toBe(RS);
    expect(value(ns, 'icmpv6', 'sll')).toBe(M.in);
    expect(value(ns, 'icmpv6', 'checksum')).toMatch(/\(ok\)$/);
    const na = decodeFrame(eth({ src: M.rs, dst: M.in }).ipv6({ src: RS, dst: 'fe80::ff:fe00:2', hopLimit: 255 })
      .icmpv6({ type: 136, target: RS, flags: 'SO', options: [{ tll: M.rs }] }).build());
    expect(value(na, 'icmpv6', 'type')).toBe('neighbour advertisement (136)');
    expect(value(na, 'icmpv6', 'naflags')).toBe('solicited, override');
    expect(value(na, 'icmpv6', 'tll')).toBe(M.rs);
    expect(value(na, 'icmpv6', 'sll')).toBeUndefined();
  });

  it('echo: identifier and sequence', () => {
    const d = decodeFrame(eth().ipv6({ src: CLIENT, dst: VIP }).icmpv6({ type: 128, id: 7, seq: 3, payload: 'ping' }).build());
    expect([value(d, 'icmpv6', 'type'), value(d, 'icmpv6', 'id'), value(d, 'icmpv6', 'seq')]).toEqual(['echo request (128)', '7', '3']);
  });

  it('an error: the MTU of packet too big, the quoted packet as [addr]:port, its quoted checksum', () => {
    const quoted = fromClient().subarray(14);
    const d = decodeFrame(eth().ipv6({ src: VIP, dst: CLIENT }).icmpv6({ type: 2, mtu: 1460 }).payload(quoted).build());
    expect(value(d, 'icmpv6', 'type')).toBe('packet too big (2)');
    expect(value(d, 'icmpv6', 'mtu')).toBe('1460');
    expect(value(d, 'icmpv6', 'quoted')).toBe(`TCP [${CLIENT}]:45000 > [${VIP}]:80`);
    expect(value(d, 'icmpv6', 'qlen')).toBe(String(quoted.length));
    expect(value(d, 'icmpv6', 'qsum')).toMatch(/^0x[0-9a-f]{4}$/);
    expect(value(d, 'icmpv6', 'checksum')).toMatch(/\(ok\)$/);
  });

  it('IPv6-in-IPv6: the outer header, then the packet inside', () => {
    const d = decodeFrame(eth().ip6ip6({ src: '2001:db8:2::2', dst: '2001:db8:20:1::5' }).payload(fromClient().subarray(14)).build());
    expect(d.layers.map((l) => `${l.id}:${l.name}`)).toEqual(['eth:Ethernet', 'ip-outer:IPv6, outer (IPv6-in-IPv6)', 'ip:IPv6, inner', 'tcp:TCP']);
    expect(value(d, 'ip-outer', 'nxt')).toBe('IPv6 (41)');
    expect(value(d, 'ip', 'dst')).toBe(VIP);
  });

  it('endpointsOf: IPv6, through ip6ip6; ICMPv6 as ICMP; ND is no connection\'s', () => {
    expect(endpointsOf(fromClient())).toEqual({ proto: 'TCP', src: CLIENT, sport: 45000, dst: VIP, dport: 80 });
    const tun = eth().ip6ip6({ src: '2001:db8:2::2', dst: '2001:db8:20:1::5' }).payload(fromClient().subarray(14)).build();
    expect(endpointsOf(tun)).toEqual({ proto: 'TCP', src: CLIENT, sport: 45000, dst: VIP, dport: 80 });
    expect(endpointsOf(eth().ipv6({ src: CLIENT, dst: VIP }).icmpv6({ type: 128, id: 1, seq: 1 }).build())?.proto).toBe('ICMP');
  });
});

describe('diffFrames: IPv6 per mode', () => {
  it('NAT6 toward the real server: destination address, port and TCP checksum rewritten; MACs and hop limit hop changes', () => {
    const sent = decodeFrame(syn6({ smac: M.in, dmac: M.rs, src: CLIENT, dst: RS, sport: 45000, dport: 8080, hop: 57 }));
    diffFrames(decodeFrame(fromClient()), sent, 'NAT', 'to-real-server');
    expect(changes(sent)).toEqual(['eth.dst:hop', 'eth.src:hop', 'ip.dst:rewrite', 'ip.hlim:hop', 'tcp.checksum:rewrite', 'tcp.dport:rewrite']);
    expect(sent.layers[1]!.fields.find((x) => x.id === 'dst')!.before).toBe(VIP);
  });

  it('DR6: the destination MAC is the only rewrite; the hop limit is a hop change', () => {
    const sent = decodeFrame(syn6({ smac: M.out, dmac: '02:00:00:00:01:11', src: CLIENT, dst: VIP, sport: 45000, dport: 80, hop: 57 }));
    diffFrames(decodeFrame(fromClient()), sent, 'DR', 'to-real-server');
    expect(changes(sent)).toEqual(['eth.dst:rewrite', 'eth.src:hop', 'ip.hlim:hop']);
  });

  it('TUN6: the outer IPv6 header is added; inside, only the hop limit', () => {
    const inner = syn6({ smac: M.router, dmac: M.out, src: CLIENT, dst: VIP, sport: 45000, dport: 80, hop: 57 }).subarray(14);
    const sent = decodeFrame(eth({ src: M.out, dst: '02:00:00:00:02:f1' }).ip6ip6({ src: '2001:db8:2::2', dst: '2001:db8:20:1::5', hopLimit: 57 }).payload(inner).build());
    diffFrames(decodeFrame(fromClient()), sent, 'TUN', 'to-real-server');
    expect(changes(sent)).toEqual(['eth.dst:hop', 'eth.src:hop', 'ip-outer:added', 'ip.hlim:hop']);
  });
});

function replayCase(name: string, input: string) {
  const ui = replayUi({ listen: { host: '127.0.0.1', port: 0 } });
  const cfg = loadConfig(join(FIX, `${name}.conf`));
  replayTo(cfg, join(FIX, input), join(tmp, `${name}.out.pcapng`), { ui });
  ui.hub.finish();
  return { hub: ui.hub, cfg };
}
const rewrites = (f: DecodedFrame) =>
  f.layers.flatMap((l) => [...(l.added ? [`${l.id}:added`] : []), ...l.fields.filter((x) => x.changed === 'rewrite').map((x) => `${l.id}.${x.id}`)]).sort();

describe('UiHub on the IPv6 replay fixtures', () => {
  it('NAT6: the walk, its rewrites both ways, the SYN held for neighbour discovery, the tables in [addr]:port form', () => {
    const { hub, cfg } = replayCase('nat6-http', 'nat6-http.in.pcapng');
    const key = `TCP ${CLIENT}:45000 ${VIP}:80 ${RS}:8080`;
    expect([...hub.walks.keys()]).toEqual([key]);
    const w = hub.walks.get(key)!;
    const s = walkSummary(w);
    expect([s.client, s.virtual, s.dest, s.mode]).toEqual([`[${CLIENT}]:45000`, `[${VIP}]:80`, `[${RS}]:8080`, 'NAT']);
    expect(w.reason).toBe(`rr: [${RS}]:8080 (first in list)`);
    const passes = hub.walkPasses(key)!.passes;
    expect(passes.map((p) => p.kind)).toEqual(['request', 'reply', 'request', 'request', 'reply', 'request', 'reply', 'request']);
    const syn = passView(passes[0]!, w);
    expect(passes[0]!.held).toBe(true);
    expect(passes[0]!.notes.join(' ')).toContain(`next hop ${RS} on inside has no known MAC yet`);
    expect(passes[0]!.notes.join(' ')).toContain('(neighbour solicitation)');
    // the forwarded SYN first, the solicitation it caused after it
    expect(syn.sent.map((x) => x.frame.layers.at(-1)!.id)).toEqual(['tcp', 'icmpv6']);
    expect(rewrites(syn.sent[0]!.frame)).toEqual(['ip.dst', 'tcp.checksum', 'tcp.dport']);
    expect(syn.sent[0]!.frame.layers[1]!.fields.find((x) => x.id === 'dst')).toMatchObject({ value: RS, before: VIP, changed: 'rewrite' });
    expect(syn.sent[0]!.frame.layers[1]!.fields.find((x) => x.id === 'hlim')).toMatchObject({ value: '57', before: '58', changed: 'hop' });
    const reply = passView(passes[1]!, w);
    expect(rewrites(reply.sent[0]!.frame)).toEqual(['ip.src', 'tcp.checksum', 'tcp.sport']);
    // the real server's advertisement: a pass of neighbour discovery, learned, releasing the SYN
    const na = hub.passes.get(syn.sent[0]!.releasedBy!)!;
    expect(na.kind).toBe('nd');
    expect(na.notes.join(' ')).toContain(`neighbour discovery: learned ${RS} is at ${M.rs}`);
    const tables = hub.snapshots.at(-1) as Tables;
    expect(tables.conns.map((c) => `${c.proto} ${c.source} ${c.virtual} ${c.destination} ${c.state}`))
      .toEqual([`TCP [${CLIENT}]:45000 [${VIP}]:80 [${RS}]:8080 TIME_WAIT`]);
    expect(tables.services.map((x) => x.label)).toEqual([`TCP [${VIP}]:80`]);
    expect(tables.services[0]!.dests[0]).toMatchObject({ addr: RS, port: 8080, mode: 'NAT', via: { port: 'inside' } });
    const topo = topologyOf(cfg);
    expect(topo.ports.map((p) => `${p.name} ${p.addrs.join(',')} ${p.vips.join(',')}`))
      .toEqual(['outside 2001:db8:0:1::1/64 2001:db8:0:1::100', 'inside 2001:db8:0:10::1/64 ']);
    expect(topo.routes).toEqual([{ dst: '::/0', via: '2001:db8:0:1::fe', port: undefined }]);
    expect(topo.router).toEqual({ addr: '2001:db8:0:1::fe', port: 'outside' });
  });

  it('NAT6: a real server\'s ICMPv6 error, translated: quoted packet, its checksum and the outer source rewritten', () => {
    const { hub } = replayCase('nat6-icmp-from-rs', 'nat6-icmp-from-rs.in.pcapng');
    const [w] = [...hub.walks.values()];
    const passes = hub.walkPasses(w!.key)!.passes;
    expect(passes.map((p) => p.kind)).toEqual(['request', 'icmp']);
    const v = passView(passes[1]!, w);
    expect(rewrites(v.sent[0]!.frame)).toEqual(['icmpv6.checksum', 'icmpv6.qsum', 'icmpv6.quoted', 'ip.src']);
    expect(v.sent[0]!.frame.layers.at(-1)!.fields.find((x) => x.id === 'quoted')).toMatchObject({
      value: `UDP [${CLIENT}]:40000 > [${VIP}]:9000`, before: `UDP [${CLIENT}]:40000 > [${RS}]:9001`,
    });
  });

  it('DR6: the destination MAC is the only rewrite of every pass', () => {
    const { hub } = replayCase('dr6-http', 'dr6-http.in.pcap');
    const [w] = [...hub.walks.values()];
    expect(w!.mode).toBe('DR');
    for (const p of hub.walkPasses(w!.key)!.passes) {
      const v = passView(p, w);
      expect(rewrites(v.sent[0]!.frame)).toEqual(['eth.dst']);
      expect(changes(v.sent[0]!.frame)).toContain('ip.hlim:hop');
    }
  });

  it('TUN6: the outer IPv6 header is added, nothing else rewritten; the gateway solicited once', () => {
    const { hub } = replayCase('tun6-http', 'tun6-http.in.pcap');
    const [w] = [...hub.walks.values()];
    expect(w!.mode).toBe('TUN');
    const passes = hub.walkPasses(w!.key)!.passes;
    for (const p of passes) expect(rewrites(passView(p, w).sent[0]!.frame)).toEqual(['ip-outer:added']);
    expect(passes[0]!.notes.join(' ')).toContain('next hop 2001:db8:2::1 on uplink has no known MAC yet');
  });
});

describe('tables of an IPv6 director with health checks', () => {
  it('a check\'s verdict reaches its IPv6 real server; one a failed check took out stays listed, down', async () => {
    const { Director } = await import('../../src/director/director.js');
    const { tablesOf } = await import('../../src/ui/tables.js');
    const cfg = loadConfig(join(FIX, 'nat6-http.conf'));
    // a second real server, which a failed check has taken out of the live service
    const taken = { ...cfg.services[0]!.dests[0]!, addr6: new Uint32Array([0x20010db8, 0x10, 0, 0x12]) }; // 2001:db8:0:10::12
    const d = new Director(cfg, { send() {} });
    const withBoth = { ...cfg, services: [{ ...cfg.services[0]!, dests: [...cfg.services[0]!.dests, taken] }] };
    const svc = `-t [${VIP}]:80`;
    const t = tablesOf(d, withBoth, 0, undefined, [
      { service: svc, dest: `[${RS}]:8080`, kind: 'http', up: true, failures: 0 },
      { service: svc, dest: '[2001:db8:0:10::12]:8080', kind: 'http', up: false, failures: 3, lastError: 'connection refused' },
    ]);
    const dests = t.services[0]!.dests;
    expect(dests.map((x) => `${x.addr} ${x.port} ${x.health?.up} ${x.heldOut ?? false}`)).toEqual([
      `${RS} 8080 true false`, '2001:db8:0:10::12 8080 false true',
    ]);
    expect(dests[1]).toMatchObject({ mode: 'NAT', via: { port: 'inside' }, health: { error: 'connection refused' } });
  });
});
