// Control events: the table's change between two pictures as ipvsadm lines
// that rebuild it exactly on another director (order of the real-server list
// included), the .events file with its errors by line, and where a replay
// applies an event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, replayTo } from '../../src/cli/replay.js';
import { applyEvent, diffPictures, parseEvents, pictureOf, type RulesPicture } from '../../src/control/rule-log.js';
import { parseConfig } from '../../src/control/config.js';
import { Director } from '../../src/director/director.js';
import { FWD_MASQ, FWD_TUN } from '../../src/model/dest.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/model/proto.js';
import { readCapture } from '../../src/io/pcap-file.js';
import { parseIp } from '../../src/wire/addr.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'pcap');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-rulelog-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CONF = `port outside kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24
port inside kind=memory mac=02:00:00:00:00:02 addr=192.168.10.1/24
vip 10.0.0.100 on outside
route default via 10.0.0.254
-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 1
-a -t 10.0.0.100:80 -r 192.168.10.12:8080 -m -w 1
-A -u 10.0.0.100:53 -s wlc
-a -u 10.0.0.100:53 -r 192.168.10.11:53 -m -w 3
`;
const cfg = (() => {
  const r = parseConfig(CONF, 't.conf');
  if ('errors' in r) throw new Error('bad test config');
  return r.config;
})();
const director = () => new Director(cfg, { send: () => {} });
/** What a picture says, without the objects. */
const text = (p: RulesPicture) => ({
  services: p.services.map((s) => ({ line: s.line, dests: s.dests.map((d) => `${d.line} ${d.attrs}`) })),
  timeouts: p.timeouts, nodest: p.expireNodestConn, quiescent: p.expireQuiescentTemplate, marks: p.marks,
});

describe('diffPictures', () => {
  it('turns every kind of change into lines that give another director the same table, list order included', () => {
    const a = director();
    const before = pictureOf(a);
    const web = a.services.all[0]!;
    const dns = a.services.all[1]!;
    a.mutate.removeDest(web.findDest(parseIp('192.168.10.11'), 8080)!);
    a.mutate.addDest(web, { addr: parseIp('192.168.10.13'), port: 8080, weight: 2, fwd: FWD_MASQ, uThreshold: 100, lThreshold: 10 });
    a.mutate.addDest(web, { addr: parseIp('192.168.10.11'), port: 8080, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
    a.mutate.editDest(web.findDest(parseIp('192.168.10.12'), 8080)!, { weight: 0 });
    a.mutate.editService(web, { scheduler: 'wlc', flags: { shFallback: false, shPort: false, mhFallback: false, mhPort: false }, persistent: 300, netmask: 0xffffff00, onePacket: false });
    a.mutate.removeService(dns);
    const svc = a.mutate.addService({ proto: IPPROTO_TCP, addr: parseIp('10.0.0.100'), port: 443, scheduler: 'mh', flags: { mhPort: true } });
    a.mutate.addDest(svc, { addr: parseIp('192.168.10.11'), port: 443, weight: 1, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
    a.mutate.addDest(svc, { addr: parseIp('192.168.10.12'), port: 443, weight: 4, fwd: FWD_MASQ, uThreshold: 0, lThreshold: 0 });
    a.mutate.setTimeouts({ tcp: 600 });
    a.mutate.setConnSettings({ expireNodestConn: true });
    a.mutate.setMarks([{ mark: 7, proto: IPPROTO_UDP, addr: parseIp('10.0.0.100'), ports: [5060] }]);
    const after = pictureOf(a);
    const d = diffPictures(before, after)!;
    expect(d.ipvsadm).toEqual([
      '-D -u 10.0.0.100:53',
      '-E -t 10.0.0.100:80 -s wlc -p 300 -M 255.255.255.0',
      '-d -t 10.0.0.100:80 -r 192.168.10.11:8080',
      '-e -t 10.0.0.100:80 -r 192.168.10.12:8080 -m -w 0 -x 0 -y 0',
      // the real server removed and added back is a new one: it goes to the head of the list again
      '-a -t 10.0.0.100:80 -r 192.168.10.13:8080 -m -w 2 -x 100 -y 10',
      '-a -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 1 -x 0 -y 0',
      '-A -t 10.0.0.100:443 -s mh -b mh-port',
      '-a -t 10.0.0.100:443 -r 192.168.10.11:443 -m -w 1 -x 0 -y 0',
      '-a -t 10.0.0.100:443 -r 192.168.10.12:443 -m -w 4 -x 0 -y 0',
      '--set 600 120 300',
    ]);
    expect(d.set).toEqual({ expire_nodest_conn: 1 });
    expect(d.marks).toEqual([{ mark: 7, proto: 'udp', addr: '10.0.0.100', ports: [5060] }]);
    // applied to a director that is as `a` was, it makes it what `a` is now
    const b = director();
    applyEvent(b, cfg, { event: { time: '0', source: 'test', ...d }, line: 1, timeNs: 0n }, 'test');
    expect(text(pictureOf(b))).toEqual(text(after));
    expect(diffPictures(after, pictureOf(a))).toBeNull();
  });

  it('a tunnel server and a fwmark service are written as ipvsadm reads them back', () => {
    const a = director();
    const before = pictureOf(a);
    const fw = a.mutate.addService({ proto: IPPROTO_TCP, fwmark: 3, scheduler: 'sh', persistent: 60 });
    a.mutate.addDest(fw, { addr: parseIp('192.168.10.14'), port: 0, weight: 1, fwd: FWD_TUN, uThreshold: 0, lThreshold: 0 });
    const d = diffPictures(before, pictureOf(a))!;
    expect(d.ipvsadm).toEqual(['-A -f 3 -s sh -p 60', '-a -f 3 -r 192.168.10.14:0 -i -w 1 -x 0 -y 0']);
    const b = director();
    applyEvent(b, cfg, { event: { time: '0', source: 'test', ...d }, line: 1, timeNs: 0n }, 'test');
    expect(text(pictureOf(b))).toEqual(text(pictureOf(a)));
  });
});

describe('the .events file', () => {
  it('skips blank lines and comments, takes times as strings or numbers', () => {
    const evs = parseEvents(`# drain
{"time":"1700000000.5","source":"ipvsadm","ipvsadm":["-e -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 0"]}

{"time":1700000001,"after_frame":3,"ipvsadm":[],"set":{"expire_nodest_conn":1}}
`, 'x.events');
    expect(evs.map((e) => [e.line, e.timeNs, e.event.source, e.event.after_frame])).toEqual([
      [2, 1_700_000_000_500_000_000n, 'ipvsadm', undefined], [4, 1_700_000_001_000_000_000n, 'events', 3],
    ]);
  });

  it('names the line of every error', () => {
    const bad = [
      '{"time":"soon","ipvsadm":[]}',
      '{"ipvsadm":[]}',
      '{"time":1,"ipvsadm":["-a -t 10.0.0.100:80 -r"]}',
      '{"time":1,"ipvsadm":["-L -n"]}',
      '{"time":1,"set":{"expire_everything":1}}',
      '{"time":1,"after_frame":-2}',
      'not json',
    ].join('\n');
    let msg = '';
    try {
      parseEvents(bad, 'e.events');
    } catch (e) {
      msg = (e as Error).message;
    }
    const lines = msg.split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/^e\.events:1: time 'soon': seconds since the epoch/);
    expect(lines[1]).toBe('e.events:2: "time" is missing');
    expect(lines[2]).toMatch(/^e\.events:3: ipvsadm line 1 '-a -t 10\.0\.0\.100:80 -r': /);
    expect(lines[3]).toMatch(/^e\.events:4: ipvsadm line 1 '-L -n': 'list' cannot be restored/);
    expect(lines[4]).toMatch(/^e\.events:5: "set": unknown setting 'expire_everything'/);
    expect(lines[5]).toBe('e.events:6: "after_frame" must be a whole number of frames');
    expect(lines[6]).toMatch(/^e\.events:7: not a JSON object/);
  });
});

describe('where a replay applies an event', () => {
  const c = 'nat-drain-transfer';
  const conf = loadConfig(join(FIX, `${c}.conf`));
  const run = (events: string, name: string) => {
    const p = join(tmp, `${name}.events`);
    writeFileSync(p, events);
    const out = join(tmp, `${name}.pcapng`);
    const r = replayTo(conf, join(FIX, `${c}.in.pcapng`), out, { events: parseEvents(events, p), eventsPath: p });
    return { r, frames: readCapture(out).frames.map((f) => Buffer.from(f.data).toString('hex')) };
  };
  const drain = '"ipvsadm":["-e -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 0"]';
  const want = readCapture(join(FIX, `${c}.expected.pcapng`)).frames.map((f) => Buffer.from(f.data).toString('hex'));

  it('by time (before the first frame stamped at or after it) or by after_frame, the same', () => {
    expect(run(`{"time":"1700000000.015",${drain}}\n`, 'by-time').frames).toEqual(want);
    expect(run(`{"time":"1700000000.016",${drain}}\n`, 'at-a-frame').frames).toEqual(want); // the frame stamped .016 comes after it
    expect(run(`{"time":"0","after_frame":5,${drain}}\n`, 'by-frame').frames).toEqual(want);
  });

  it('elsewhere it changes the outcome: before the first connection, rs1 gets nothing', () => {
    const early = run(`{"time":"0",${drain}}\n`, 'early');
    expect(early.r.eventsApplied).toBe(1);
    expect(early.frames).not.toEqual(want);
    // the first SYN went to rs2 then
    expect(early.frames[3]!.slice(0, 12)).toBe('020000001012');
  });

  it('an event the rules refuse stops the replay, naming the file and line', () => {
    expect(() => run(`{"time":"0","ipvsadm":["-d -t 10.0.0.100:80 -r 192.168.10.99:8080"]}\n`, 'refused')).toThrow(/refused\.events:1: '-d -t 10\.0\.0\.100:80 -r 192\.168\.10\.99:8080' refused: /);
  });
});
