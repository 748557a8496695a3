import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { innerPacket, innerPacket6, isIpv6 } from '../../src/io/tun-decap.js';
import { openTap, type TapPort } from '../../src/io/tap.js';
import { ipv4, ipv4Header, putMac, put16, udpFrame } from '../netns-helpers/frames.js';
import { addNetns, delNetns, uniqueName } from '../netns-helpers/ns.js';

/** Wait until a child prints a line matching `re` on stdout. */
function waitFor(child: ChildProcess, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${re}; stdout=${out} stderr=${err}`)), ms);
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(re);
      if (m) { clearTimeout(t); resolve(m[0]); }
    });
    child.once('exit', (code) => { clearTimeout(t); if (!re.test(out)) reject(new Error(`exited ${code}: ${out} ${err}`)); });
  });
}

describe('innerPacket', () => {
  it('finds the inner packet after an outer header with options, and rejects what is not IPIP', () => {
    const inner = udpFrame({ dmac: 0, smac: 0, src: ipv4('1.1.1.1'), dst: ipv4('2.2.2.2'), sport: 1, dport: 2, payload: new Uint8Array(4) }).subarray(14);
    const pkt = new Uint8Array(24 + inner.length);
    ipv4Header(pkt, 0, ipv4('3.3.3.3'), ipv4('4.4.4.4'), 4, pkt.length);
    pkt[0] = 0x46; // 24-byte outer header
    pkt.set(inner, 24);
    expect(innerPacket(pkt, pkt.length)).toEqual([24, 24 + inner.length]);
    const udp = pkt.slice(); udp[9] = 17;
    expect(innerPacket(udp, udp.length)).toBeUndefined();
    expect(innerPacket(pkt, 30)).toBeUndefined(); // truncated
    const v6inside = pkt.slice(); v6inside[24] = 0x60;
    expect(innerPacket(v6inside, v6inside.length)).toBeUndefined();
  });
});

describe('innerPacket6', () => {
  it('takes the inner IPv6 packet a raw protocol-41 socket hands over, without trailing bytes, and rejects the rest', () => {
    // an inner IPv6 header with an 8-byte payload, then 4 bytes of trailer that must not be delivered
    const pkt = new Uint8Array(40 + 8 + 4);
    pkt[0] = 0x60;
    pkt[5] = 8; // payload length
    pkt[6] = 17;
    pkt[7] = 64;
    expect(innerPacket6(pkt, pkt.length)).toEqual([0, 48]);
    expect(innerPacket6(pkt, 47)).toBeUndefined(); // payload length runs past the bytes
    const v4 = pkt.slice(); v4[0] = 0x45;
    expect(innerPacket6(v4, v4.length)).toBeUndefined();
    expect(innerPacket6(pkt, 39)).toBeUndefined();
  });

  it('tells the VIP families apart as the lab writes them', () => {
    expect(['172.16.0.100', '2001:db8:10::100'].map(isIpv6)).toEqual([false, true]);
  });
});

describe('LVS-TUN decapsulation in a real-server namespace', () => {
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  let tap: TapPort | undefined;
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await tap?.close();
    delNetns(...namespaces);
  });

  it('delivers the inner UDP datagram of a real IPIP packet to a socket bound to the VIP', async () => {
    const ns = uniqueName('d');
    namespaces.push(ns);
    addNetns(ns);
    // the test plays the director: a TAP whose netdev is the real server's eth
    tap = openTap({ name: 'dir', device: `tv${process.pid % 100000}t`, netns: ns, addrs: ['10.79.0.2/24'] });
    tap.start(() => undefined, 0);

    const helper = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'src/io/tun-decap-main.ts', '--vip', '10.0.0.100', '--dev', 'tvdecap0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(helper);
    const ready = await waitFor(helper, /ready (kernel|helper \S+)/, 20_000);
    expect(ready).toMatch(/ready/);

    const listener = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>{console.log('got '+m+' from '+r.address);process.exit(0)});s.bind(9000,'10.0.0.100',()=>console.log('listening'))"],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(listener);
    const got = waitFor(listener, /got .* from \S+/, 15_000);
    await waitFor(listener, /listening/, 10_000);

    const inner = udpFrame({ dmac: 0, smac: 0, src: ipv4('10.9.9.9'), dst: ipv4('10.0.0.100'), sport: 40000, dport: 9000, payload: new TextEncoder().encode('hello-decap') }).subarray(14);
    const frame = new Uint8Array(14 + 20 + inner.length);
    putMac(frame, 0, tap.mac!); putMac(frame, 6, 0x020000790001); put16(frame, 12, 0x0800);
    ipv4Header(frame, 14, ipv4('10.79.0.1'), ipv4('10.79.0.2'), 4, 20 + inner.length);
    frame.set(inner, 34);
    // repeat a few times: the first may race the helper's socket setup
    const timer = setInterval(() => tap!.send(frame, 0, frame.length), 200);
    try {
      expect(await got).toBe('got hello-decap from 10.9.9.9');
    } finally {
      clearInterval(timer);
    }
    expect(tap.counters.txErrors).toBe(0);
  });
});
