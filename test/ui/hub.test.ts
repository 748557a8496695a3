// The view's trace consumer on real director output: the replay fixtures
// run through replayTo with the view's hooks, and the passes must be filed
// under their connection, held frames given back to the pass that received
// them, the scheduler's reason kept, and memory bounded on a long run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, replayTo } from '../../src/cli/replay.js';
import { Director } from '../../src/director/director.js';
import { UiHub } from '../../src/ui/hub.js';
import { replayUi } from '../../src/ui/index.js';
import type { Tables } from '../../src/ui/tables.js';
import { passView } from '../../src/ui/walk.js';
import { config, clientAddr, clientFrame } from '../../bench/director.js';
import { FWD_MASQ } from '../../src/model/dest.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'fixtures', 'pcap');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-ui-hub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function replayCase(name: string, input: string) {
  const ui = replayUi({ listen: { host: '127.0.0.1', port: 0 } });
  replayTo(loadConfig(join(FIX, `${name}.conf`)), join(FIX, input), join(tmp, `${name}.out.pcapng`), { ui });
  ui.hub.finish();
  return ui.hub;
}

const rewrites = (f: { layers: { id: string; added?: boolean; fields: { id: string; changed?: string }[] }[] }) =>
  f.layers.flatMap((l) => [...(l.added ? [`${l.id}:added`] : []), ...l.fields.filter((x) => x.changed === 'rewrite').map((x) => `${l.id}.${x.id}`)]).sort();

describe('UiHub on the NAT fixture', () => {
  const hub = replayCase('nat-http', 'nat-http.in.pcapng');
  const key = 'TCP 203.0.113.7:45000 10.0.0.100:80 192.168.10.11:8080';

  it('files every pass of the one connection under it, in order', () => {
    expect([...hub.walks.keys()]).toEqual([key]);
    const w = hub.walks.get(key)!;
    expect(w.mode).toBe('NAT');
    expect(w.scheduler).toBe('rr');
    expect(w.reason).toBe('rr: 192.168.10.11:8080 (first in list)');
    const kinds = hub.walkPasses(key)!.passes.map((p) => p.kind);
    expect(kinds).toEqual(['request', 'reply', 'request', 'request', 'reply', 'request', 'reply', 'request']);
  });

  it('gives the SYN held for ARP back to its own pass, released by the ARP reply', () => {
    const [syn, synAck] = hub.walkPasses(key)!.passes;
    expect(syn!.held).toBe(true);
    const v = passView(syn!, hub.walks.get(key));
    // the forwarded SYN first, the ARP request it caused after it
    expect(v.sent.map((s) => s.frame.layers[1]!.id)).toEqual(['ip', 'arp']);
    expect(v.sent[0]!.releasedBy).toBeGreaterThan(syn!.id);
    expect(rewrites(v.sent[0]!.frame)).toEqual(['ip.checksum', 'ip.dst', 'tcp.checksum', 'tcp.dport']);
    const reply = passView(synAck!, hub.walks.get(key));
    expect(reply.direction).toBe('to-client');
    expect(rewrites(reply.sent[0]!.frame)).toEqual(['ip.checksum', 'ip.src', 'tcp.checksum', 'tcp.sport']);
    const arpPass = hub.passes.get(v.sent[0]!.releasedBy!)!;
    expect(arpPass.kind).toBe('arp');
    expect(arpPass.sent).toEqual([]);
    expect(arpPass.notes.join(' ')).toContain(`connection ${key}`);
  });

  it('keeps a timeline of every pass with the tables after it', () => {
    expect(hub.timeline.length).toBe(11); // the start's announcements + 10 frames
    expect(hub.passes.get(hub.timeline[0]!)!.kind).toBe('timer');
    const first = hub.snapshots[1] as Tables;
    expect(first.conns.map((c) => `${c.source} ${c.state}`)).toEqual(['203.0.113.7:45000 SYN_RECV']);
    const last = hub.snapshots.at(-1) as Tables;
    expect(last.conns[0]!.state).toBe('TIME_WAIT');
    expect(last.services[0]!.dests[0]!.stats.conns).toBe(1);
    // the clock the expiry counts from is the capture's, per pass
    expect(last.now).toBeGreaterThan(first.now);
  });
});

describe('UiHub on the DR and TUN fixtures', () => {
  it('DR: the only rewrite is the destination MAC', () => {
    const hub = replayCase('dr-http', 'dr-http.in.pcap');
    const [w] = [...hub.walks.values()];
    expect(w!.mode).toBe('DR');
    const views = hub.walkPasses(w!.key)!.passes.map((p) => passView(p, w));
    expect(views.every((v) => v.kind === 'request')).toBe(true); // replies never cross the director
    for (const v of views) expect(rewrites(v.sent[0]!.frame)).toEqual(['eth.dst']);
  });

  it('TUN: an outer header is added, nothing else rewritten', () => {
    const hub = replayCase('tun-http', 'tun-http.in.pcap');
    const [w] = [...hub.walks.values()];
    expect(w!.mode).toBe('TUN');
    for (const p of hub.walkPasses(w!.key)!.passes) expect(rewrites(passView(p, w).sent[0]!.frame)).toEqual(['ip-outer:added']);
  });
});

describe('UiHub memory bounds', () => {
  it('keeps the head and the latest passes of a long connection and forgets the oldest connections', () => {
    const hub = new UiHub({ headPasses: 4, tailPasses: 2, maxConns: 3, otherPasses: 5 });
    const d = new Director(config(FWD_MASQ), { send: () => {} }, { trace: hub.sink });
    const buf = new Uint8Array(64 + 2048);
    const send = (f: Uint8Array, now: number) => {
      buf.set(f, 64);
      d.process(0, buf, 64, f.length, now);
      hub.finish();
    };
    send(clientFrame(clientAddr(0), 10_000, 'S'), 1);
    for (let i = 0; i < 50; i++) send(clientFrame(clientAddr(0), 10_000, 'A', 10), 2 + i);
    const key = [...hub.walks.keys()][0]!;
    const r = hub.walkPasses(key)!;
    expect(r.passes.length).toBe(6);
    expect(r.skipped).toBe(45);
    expect(hub.walks.get(key)!.count).toBe(51);
    for (let c = 1; c <= 5; c++) send(clientFrame(clientAddr(c), 20_000 + c, 'S'), 100 + c);
    expect(hub.walks.size).toBe(3);
    expect(hub.walks.has(key)).toBe(false);
    // nothing of a forgotten connection stays behind
    expect(hub.passes.size).toBe(3);
  });
});
