import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADROOM } from '../../src/io/port.js';
import { PcapStreamParser, openPcap, type PcapPort } from '../../src/io/pcap-port.js';
import { arpReply, echoReply, getMac, ipv4, u16, u32 } from '../netns-helpers/frames.js';
import { addNetns, delNetns, run, uniqueName } from '../netns-helpers/ns.js';

function pcapStream(frames: Uint8Array[], littleEndian = true): Uint8Array {
  const total = 24 + frames.reduce((n, f) => n + 16 + f.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, littleEndian);
  dv.setUint16(4, 2, littleEndian); dv.setUint16(6, 4, littleEndian);
  dv.setUint32(16, 65535, littleEndian); dv.setUint32(20, 1, littleEndian);
  let at = 24;
  for (const f of frames) {
    dv.setUint32(at, 1, littleEndian); dv.setUint32(at + 4, 2, littleEndian);
    dv.setUint32(at + 8, f.length, littleEndian); dv.setUint32(at + 12, f.length, littleEndian);
    out.set(f, at + 16);
    at += 16 + f.length;
  }
  return out;
}

describe('PcapStreamParser', () => {
  it('yields every record exactly, however the byte stream is split', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      (frames, cuts, le) => {
        const stream = pcapStream(frames, le);
        const got: number[][] = [];
        const p = new PcapStreamParser((d, at, caplen) => got.push(Array.from(d.subarray(at, at + caplen))));
        let pos = 0;
        let i = 0;
        while (pos < stream.length) {
          const n = cuts[i++ % cuts.length]!;
          expect(p.push(stream.subarray(pos, pos + n))).toBe(true);
          pos += n;
        }
        expect(got).toEqual(frames.map((f) => Array.from(f)));
      },
    ));
  });

  it('refuses a stream that is not Ethernet pcap', () => {
    const notPcap = new PcapStreamParser(() => undefined);
    expect(notPcap.push(new Uint8Array(40).fill(0x41))).toBe(false);
    const s = pcapStream([]);
    s[20] = 113; // Linux cooked capture
    expect(new PcapStreamParser(() => undefined).push(s)).toBe(false);
  });
});

describe('pcap port on a real veth', () => {
  const namespaces: string[] = [];
  const ports: PcapPort[] = [];
  const links: string[] = [];
  afterAll(async () => {
    for (const p of ports) await p.close();
    for (const l of links) { try { execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' }); } catch { /* gone with the ns */ } }
    delNetns(...namespaces);
  });

  it('answers ARP and ping through an attached interface and never sees its own frames', async () => {
    const ns = uniqueName('c');
    namespaces.push(ns);
    addNetns(ns);
    const dev = `tv${process.pid % 100000}c`;
    links.push(dev);
    execFileSync('ip', ['link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    execFileSync('ip', ['link', 'set', dev, 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', '10.78.0.2/24', 'dev', 'eth0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    const port = openPcap({ name: 'att', device: dev });
    ports.push(port);
    expect(port.mac).toBeGreaterThan(0);
    const myMac = 0x020000780001;
    const myIp = ipv4('10.78.0.1');
    let ownFramesSeen = 0;
    let echoes = 0;
    port.start((_i, buf, off, len) => {
      expect(off).toBeGreaterThanOrEqual(HEADROOM);
      if (getMac(buf, off + 6) === myMac) ownFramesSeen++;
      const type = u16(buf, off + 12);
      if (type === 0x0806 && u16(buf, off + 20) === 1 && u32(buf, off + 38) === myIp) {
        const r = arpReply(buf, off, myMac);
        port.send(r, 0, r.length);
      } else if (type === 0x0800 && buf[off + 23] === 1 && u32(buf, off + 30) === myIp && buf[off + 34] === 8) {
        echoes++;
        const r = echoReply(buf, off, len);
        port.send(r, 0, r.length);
      }
    }, 0);
    await port.ready;
    const ping = await run('ping', ['-c2', '-i0.2', '-W3', '10.78.0.1'], ns);
    expect(ping.stdout).toMatch(/2 received/);
    expect(echoes).toBe(2);
    expect(port.counters.txFrames).toBeGreaterThanOrEqual(3);
    expect(ownFramesSeen).toBe(0);
    await port.close();
    expect(port.lastError).toBeUndefined();
  });

  it('reports an interface that does not exist by name', () => {
    expect(() => openPcap({ name: 'x', device: 'tvt-nonexist' })).toThrow(/tvt-nonexist: no such interface/);
  });
});
