// The decision log over real replays: one record per input frame with the
// verdict the director reached and why, the same keys in the same order
// every time, the same bytes on a second run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, replayTo } from '../../src/cli/replay.js';
import { readEvents } from '../../src/control/rule-log.js';
import { parseCapture, PcapWriter } from '../../src/io/pcap-file.js';
import { DecisionLog, msToTime, type DecisionRecord } from '../../src/trace/decisions.js';
import { eth } from '../../src/wire/builder.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'pcap');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-decisions-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const KEYS = ['type', 'frame', 'time', 'port', 'summary', 'verdict', 'reason', 'service', 'conn', 'client', 'real_server',
  'scheduler', 'sched_reason', 'mode', 'state', 'notes', 'sent'];

function decide(c: string, input = join(FIX, `${c}.in.pcapng`), extra: { events?: boolean } = {}): { lines: string[]; recs: DecisionRecord[] } {
  const lines: string[] = [];
  const log = new DecisionLog((l) => lines.push(l));
  const ev = extra.events ? { events: readEvents(join(FIX, `${c}.events`)) } : {};
  replayTo(loadConfig(join(FIX, `${c}.conf`)), input, join(tmp, `${c}.pcapng`), { decisions: log, ...ev });
  return { lines, recs: lines.map((l) => JSON.parse(l) as DecisionRecord) };
}

describe('the decision log', () => {
  it('says, frame by frame, what a NAT director decided: held for ARP, learned, forwarded, with the scheduler and state', () => {
    const { lines, recs } = decide('nat-http');
    for (const r of recs) expect(Object.keys(r)).toEqual(KEYS);
    expect(recs[0]).toMatchObject({ type: 'timer', frame: null, summary: 'start', verdict: null });
    expect(recs[0]!.sent.map((s) => s.summary)).toEqual([
      'ARP request who-has 10.0.0.1 tell 10.0.0.1', 'ARP request who-has 10.0.0.100 tell 10.0.0.100', 'ARP request who-has 192.168.10.1 tell 192.168.10.1',
    ]);
    const frames = recs.filter((r) => r.type === 'frame');
    expect(frames.map((r) => r.frame)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(frames.map((r) => r.verdict)).toEqual(['held', 'consumed', 'held', 'consumed', 'forwarded', 'forwarded', 'forwarded', 'forwarded', 'forwarded', 'forwarded']);
    expect(frames[0]).toMatchObject({
      time: '1700000000.010000', port: 'outside', summary: 'TCP 203.0.113.7:45000 > 10.0.0.100:80 [S] seq 100 ack 0 len 0',
      service: 'TCP 10.0.0.100:80', conn: 'new', client: '203.0.113.7:45000', real_server: '192.168.10.11:8080', scheduler: 'rr',
      mode: 'NAT', state: 'SYN_RECV', notes: ['held: resolving 192.168.10.11 on inside'],
      sent: [{ port: 'inside', summary: 'ARP request who-has 192.168.10.11 tell 192.168.10.1' }],
    });
    expect(frames[0]!.sched_reason).toMatch(/^rr: 192\.168\.10\.11:8080/);
    // the ARP answer releases the SYN: the frame sent is listed under the answer
    expect(frames[1]).toMatchObject({ conn: null, notes: ['arp learned 192.168.10.11 is-at 02:00:00:00:10:11'],
      sent: [{ port: 'inside', summary: 'TCP 203.0.113.7:45000 > 192.168.10.11:8080 [S] seq 100 ack 0 len 0' }] });
    expect(frames[2]).toMatchObject({ conn: 'reply', real_server: '192.168.10.11:8080', mode: 'NAT', scheduler: null });
    expect(frames.slice(0, 5).map((r) => r.state)).toEqual(['SYN_RECV', null, 'SYN_RECV', null, 'ESTABLISHED']);
    expect(frames.at(-1)!.state).toBe('TIME_WAIT');
    // the same replay, the same bytes
    expect(decide('nat-http').lines).toEqual(lines);
  });

  it('names each drop by its reason, and the ICMP the director sent', () => {
    const frames = decide('nat-garbage').recs.filter((r) => r.type === 'frame');
    const reasons = frames.map((r) => r.reason);
    expect(reasons.slice(0, 3)).toEqual(['malformed-ethernet', 'not-for-us', 'vlan-tagged']);
    expect(reasons[3]).toMatch(/^not-ip/);
    expect(reasons.slice(4)).toEqual(['bad-ip-checksum', 'malformed-ip', 'malformed-ip', 'malformed-l4', 'martian-source', 'no-conn-not-syn', 'no-service', null]);
    expect(frames.slice(0, 11).every((r) => r.verdict === 'dropped')).toBe(true);
    expect(frames[0]!.summary).toBe('10 bytes, too short for Ethernet');
    expect(frames[10]).toMatchObject({
      notes: ['icmp type 3 code 3 sent to 203.0.113.7'],
      sent: [{ port: 'outside', summary: 'ICMP 10.0.0.100 > 203.0.113.7 type 3 code 3 about UDP 203.0.113.7:43002 > 10.0.0.100:9999 len 0' }],
    });
    expect(frames[11]).toMatchObject({ verdict: 'forwarded', conn: 'new' });
  });

  it('has a record for control events where they were applied, a held fragment, persistence, and skipped frames', () => {
    const drain = decide('nat-drain-transfer', undefined, { events: true }).recs;
    const at = drain.findIndex((r) => r.type === 'control');
    expect(drain[at]).toMatchObject({ time: '1700000000.015000', summary: 'ipvsadm: drain rs1', notes: ['-e -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 0'], verdict: null });
    expect(drain[at - 1]).toMatchObject({ frame: 5 });
    expect(drain.filter((r) => r.conn === 'new').map((r) => r.real_server)).toEqual(['192.168.10.11:8080', '192.168.10.12:8080', '192.168.10.12:8080']);

    const frag = decide('nat-frag-reversed').recs.filter((r) => r.type === 'frame');
    expect(frag.map((r) => r.verdict)).toEqual(['held', 'forwarded']);
    expect(frag[0]!.notes).toEqual(['fragment held until its first fragment arrives']);
    expect(frag[1]!.notes).toEqual(['held fragment released']);
    expect(frag[1]!.sent).toHaveLength(2);

    const pers = decide('dr-persistence', join(FIX, 'dr-persistence.in.pcap')).recs.filter((r) => r.type === 'frame');
    expect(pers[1]!.sched_reason).toBe('persistent 300s: client 203.0.113.7 bound to 10.1.0.12:80');

    // a frame too big for the replay is in the log too, as skipped
    const cap = parseCapture(readFileSync(join(FIX, 'dr-http.in.pcap')), 'dr');
    const w = new PcapWriter();
    cap.frames.forEach((f, i) => {
      w.add(f.timeNs, f.data);
      if (i === 0) w.add(f.timeNs, new Uint8Array(70000));
    });
    const big = join(tmp, 'big.pcap');
    w.writeFile(big);
    const lines: string[] = [];
    replayTo(loadConfig(join(FIX, 'dr-http.conf')), big, join(tmp, 'big.pcapng'), { decisions: new DecisionLog((l) => lines.push(l)) });
    const skipped = lines.map((l) => JSON.parse(l) as DecisionRecord).filter((r) => r.type === 'frame');
    expect(skipped.map((r) => r.frame)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(skipped[1]).toMatchObject({ verdict: 'skipped', reason: 'capture-frame-too-big', port: null });
  });

  it('an ARP request for the VIP is answered (and its sender learned)', () => {
    const w = new PcapWriter();
    w.add(1_700_000_000_000_000_000n, eth({ src: '02:00:00:00:01:fe', dst: 'ff:ff:ff:ff:ff:ff' }).arp({ op: 'request', sha: '02:00:00:00:01:fe', spa: '10.1.0.1', tpa: '10.1.0.100' }).build());
    const p = join(tmp, 'arp.pcap');
    w.writeFile(p);
    const lines: string[] = [];
    replayTo(loadConfig(join(FIX, 'dr-http.conf')), p, join(tmp, 'arp.pcapng'), { decisions: new DecisionLog((l) => lines.push(l)) });
    const r = JSON.parse(lines.at(-1)!) as DecisionRecord;
    expect(r).toMatchObject({ verdict: 'answered', summary: 'ARP request who-has 10.1.0.100 tell 10.1.0.1', notes: ['arp learned 10.1.0.1 is-at 02:00:00:00:01:fe', 'arp answered for 10.1.0.100 (VIP)'] });
    expect(r.sent).toEqual([{ port: 'lan', summary: 'ARP reply 10.1.0.100 is-at 02:00:00:00:01:01' }]);
  });

  it('writes times as exact decimal strings', () => {
    expect(msToTime(1700000000123.456)).toBe('1700000000.123456');
    expect(msToTime(5)).toBe('0.005000');
  });
});

describe('the decision log with IPv6', () => {
  it('names IPv6 endpoints as [addr]:port and neighbour discovery in its notes (nat6-http)', () => {
    const { recs } = decide('nat6-http');
    for (const r of recs) expect(Object.keys(r)).toEqual(KEYS);
    expect(recs[0]!.sent.map((s) => s.summary)[0]).toBe('ICMPv6 fe80::ff:fe00:1 > ff02::1 neighbour advertisement fe80::ff:fe00:1 R O');
    const frames = recs.filter((r) => r.type === 'frame');
    expect(frames.map((r) => r.verdict)).toEqual(['held', 'consumed', 'held', 'consumed', 'forwarded', 'forwarded', 'forwarded', 'forwarded', 'forwarded', 'forwarded']);
    expect(frames[0]).toMatchObject({
      summary: 'TCP [2001:db8:ff::7]:45000 > [2001:db8:0:1::100]:80 [S] seq 100 ack 0 len 0',
      service: 'TCP [2001:db8:0:1::100]:80', conn: 'new', client: '[2001:db8:ff::7]:45000', real_server: '[2001:db8:0:10::11]:8080',
      notes: ['held: resolving 2001:db8:0:10::11 on inside'],
    });
    expect(frames[0]!.sent.map((s) => s.summary)).toEqual(['ICMPv6 fe80::ff:fe00:2 > ff02::1:ff00:11 neighbour solicitation who-has 2001:db8:0:10::11']);
    expect(frames[1]!.notes).toEqual(['nd learned 2001:db8:0:10::11 is-at 02:00:00:00:10:11']);
    // the real server's reply: the service and ends as the reply's connection names them
    expect(frames[2]).toMatchObject({ conn: 'reply', service: 'TCP [2001:db8:0:1::100]:80', client: '[2001:db8:ff::7]:45000', real_server: '[2001:db8:0:10::11]:8080' });
  });

  it('an ICMPv6 error the director sends is noted as icmpv6 (tun6-too-big)', () => {
    const { recs } = decide('tun6-too-big', join(FIX, 'tun6-too-big.in.pcap'));
    const last = recs.filter((r) => r.type === 'frame').at(-1)!;
    expect(last).toMatchObject({ verdict: 'dropped', reason: 'frag-needed', notes: ['icmpv6 type 2 code 0 sent to 2001:db8:ff::7'] });
  });
});
