import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { greInner, greRefusal, gueInner, innerPacket, innerPacket6, isIpv6, rawSocketDrops } from '../../src/io/tun-decap.js';
import { openTap, type TapPort } from '../../src/io/tap.js';
import { checksum, ipv4, ipv4Header, putMac, put16, put32, u16, udpFrame } from '../netns-helpers/frames.js';
import { addNetns, delNetns, run, uniqueName } from '../netns-helpers/ns.js';
import { quietScript } from '../../src/io/tun-decap-quiet.js';

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

/** An inner IPv4/UDP packet (no Ethernet), 4 payload bytes, UDP checksum 0. */
function innerUdp(): Uint8Array {
  return udpFrame({ dmac: 0, smac: 0, src: ipv4('1.1.1.1'), dst: ipv4('172.16.0.100'), sport: 4000, dport: 7, payload: new Uint8Array([1, 2, 3, 4]) }).subarray(14);
}

describe('greInner', () => {
  // outer IPv4 (20) | GRE flags+version (2) protocol (2) [checksum (2) reserved1 (2)] | inner
  function gre(inner: Uint8Array, flags: number, proto: number): Uint8Array {
    const glen = flags & 0x8000 ? 8 : flags & 0x2000 ? 8 : 4;
    const pkt = new Uint8Array(20 + glen + inner.length);
    ipv4Header(pkt, 0, ipv4('172.16.1.1'), ipv4('172.16.1.11'), 47, pkt.length);
    put16(pkt, 20, flags);
    put16(pkt, 22, proto);
    pkt.set(inner, 20 + glen);
    if (flags & 0x8000) put16(pkt, 24, checksum(pkt, 20, pkt.length - 20));
    return pkt;
  }

  it('takes the inner packet after a plain and a checksummed GRE header', () => {
    const inner = innerUdp();
    expect(greInner(gre(inner, 0, 0x0800), 20 + 4 + inner.length)).toEqual([24, 24 + inner.length]);
    const c = gre(inner, 0x8000, 0x0800);
    expect(greInner(c, c.length)).toEqual([28, 28 + inner.length]);
  });

  it('drops a GRE checksum that does not verify, and says so', () => {
    const c = gre(innerUdp(), 0x8000, 0x0800);
    c[c.length - 1]! ^= 0xff;
    expect(greInner(c, c.length)).toBeUndefined();
    expect(greRefusal).toBe('checksum');
  });

  it('refuses keyed GRE, a protocol type the inner packet does not match, version 1 and truncation', () => {
    const inner = innerUdp();
    const keyed = gre(inner, 0x2000, 0x0800);
    expect(greInner(keyed, keyed.length)).toBeUndefined();
    expect(greRefusal).toBe('malformed');
    const v6type = gre(inner, 0, 0x86dd);
    expect(greInner(v6type, v6type.length)).toBeUndefined();
    const ver1 = gre(inner, 0x0001, 0x0800);
    expect(greInner(ver1, ver1.length)).toBeUndefined();
    const ok = gre(inner, 0, 0x0800);
    expect(greInner(ok, 26)).toBeUndefined();
  });
});

describe('gueInner', () => {
  it('takes the inner packet after a 4-byte GUE header (version 0, proto 4)', () => {
    const inner = innerUdp();
    const p = new Uint8Array(4 + inner.length + 3); // 3 trailing bytes not delivered
    p[0] = 0x00; p[1] = 4; put16(p, 2, 0);
    p.set(inner, 4);
    expect(gueInner(p, p.length)).toEqual([4, 4 + inner.length]);
  });

  it('refuses control messages, a proto the payload does not match, and unknown flags', () => {
    const inner = innerUdp();
    const p = new Uint8Array(4 + inner.length);
    p.set(inner, 4);
    p[1] = 4;
    p[0] = 0x20; // C: a control message
    expect(gueInner(p, p.length)).toBeUndefined();
    p[0] = 0; p[1] = 41; // says IPv6, carries IPv4
    expect(gueInner(p, p.length)).toBeUndefined();
    p[1] = 4; put16(p, 2, 0x8000); // a flag the kernel does not know
    expect(gueInner(p, p.length)).toBeUndefined();
  });

  it('completes a remote-offloaded UDP checksum before delivery', () => {
    const inner = innerUdp();
    // the sender leaves the pseudo-header sum in the field (CHECKSUM_PARTIAL)
    const udpLen = inner.length - 20;
    let pseudo = 0x0101 + 0x0101 + 0xac10 + 0x0064 + 17 + udpLen;
    while (pseudo > 0xffff) pseudo = (pseudo & 0xffff) + (pseudo >>> 16);
    put16(inner, 26, pseudo);
    // version 0, hlen 2 | proto 4 | flags P | private flags REMCSUM | start 20, field 26
    const p = new Uint8Array(12 + inner.length);
    p[0] = 2; p[1] = 4; put16(p, 2, 0x0001); put32(p, 4, 0x80000000); put16(p, 8, 20); put16(p, 10, 26);
    p.set(inner, 12);
    expect(gueInner(p, p.length)).toEqual([12, 12 + inner.length]);
    // the checksum now verifies over the pseudo-header and the UDP datagram
    const pseudoBytes = new Uint8Array(12);
    put32(pseudoBytes, 0, ipv4('1.1.1.1')); put32(pseudoBytes, 4, ipv4('172.16.0.100')); pseudoBytes[9] = 17; put16(pseudoBytes, 10, udpLen);
    const all = new Uint8Array(12 + udpLen);
    all.set(pseudoBytes, 0); all.set(p.subarray(12 + 20), 12);
    expect(u16(p, 12 + 26)).not.toBe(pseudo);
    expect(checksum(all, 0, all.length)).toBe(0);
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

describe('quietScript', () => {
  it('drops only the errors about the helper\'s own protocols, at the quoted header\'s protocol byte', () => {
    const text = quietScript([4, 47], [41]);
    expect(text).toContain('icmp type destination-unreachable icmp code prot-unreachable @th,136,8 { 4, 47 } counter drop');
    expect(text).toContain('icmpv6 type parameter-problem icmpv6 code 1 @th,112,8 { 41 } counter drop');
    // replaces a table a killed helper left behind
    expect(text.indexOf('delete table inet tapvs_decap')).toBeLessThan(text.indexOf('table inet tapvs_decap {'));
    expect(quietScript([4], [])).not.toContain('icmpv6');
  });
});

describe('LVS-TUN decapsulation in a real-server namespace', () => {
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  const taps: TapPort[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const t of taps) await t.close();
    delNetns(...namespaces);
  });

  it('delivers the inner UDP datagram of a real IPIP packet to a socket bound to the VIP', async () => {
    const ns = uniqueName('d');
    namespaces.push(ns);
    addNetns(ns);
    // the test plays the director: a TAP whose netdev is the real server's eth
    const tap = openTap({ name: 'dir', device: `tv${process.pid % 100000}t`, netns: ns, addrs: ['10.79.0.2/24'] });
    taps.push(tap);
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

    const frame = ipipToRealServer(tap.mac!, new TextEncoder().encode('hello-decap'));
    // repeat a few times: the first may race the helper's socket setup
    const timer = setInterval(() => tap.send(frame, 0, frame.length), 200);
    try {
      expect(await got).toBe('got hello-decap from 10.9.9.9');
    } finally {
      clearInterval(timer);
    }
    expect(tap.counters.txErrors).toBe(0);
  });

  it('does not make its namespace answer "protocol 4 unreachable" when its raw socket is full', async () => {
    const ns = uniqueName('q');
    namespaces.push(ns);
    addNetns(ns);
    let unreachables = 0;
    const device = `tv${process.pid % 100000}q`;
    const tap = openTap({ name: 'dir', device, netns: ns, addrs: ['10.79.0.2/24'] });
    taps.push(tap);
    tap.start((_p, buf, off, len) => {
      // Ethernet IPv4, protocol ICMP, type 3 code 2
      if (len >= 14 + 20 + 8 && u16(buf, off + 12) === 0x0800 && buf[off + 23] === 1) {
        const icmp = off + 14 + (buf[off + 14]! & 15) * 4;
        if (buf[icmp] === 3 && buf[icmp + 1] === 2) unreachables++;
      }
    }, 0);
    // the real server's route back to the "director" needs its MAC: nobody answers ARP on this TAP
    expect((await run('ip', ['neigh', 'replace', '10.79.0.1', 'lladdr', '02:00:00:79:00:01', 'dev', device], ns)).code).toBe(0);

    const helper = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'src/io/tun-decap-main.ts', '--vip', '10.0.0.100', '--dev', 'tvdecap0', '--helper'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(helper);
    await waitFor(helper, /ready helper \S+/, 20_000);
    expect((await run('nft', ['list', 'table', 'inet', 'tapvs_decap'], ns)).code).toBe(0);
    // the helper stops reading (ip netns exec execs node, so this is its PID): its raw socket
    // (8 MiB) fills and the kernel drops the rest
    helper.kill('SIGSTOP');
    const frame = ipipToRealServer(tap.mac!, new Uint8Array(16));
    const snmp0 = await unknownProtos(ns);
    for (let i = 0; i < 30_000; i++) {
      tap.send(frame, 0, frame.length);
      if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 500));
    const drops = rawSocketDrops((await run('cat', ['/proc/net/raw'], ns)).stdout, 4);
    // the socket did overflow, and this kernel took the overflow for "no socket": it would have answered
    expect(drops).toBeGreaterThan(0);
    expect((await unknownProtos(ns)) - snmp0).toBeGreaterThan(0);
    // and nothing came back to the director
    expect(unreachables).toBe(0);
    helper.kill('SIGCONT');
  }, 60_000);
});

/**
 * What the director sends the real server (10.79.0.2, MAC `rsMac`) from 10.79.0.1: IPIP around
 * UDP 10.9.9.9:40000 -> VIP 10.0.0.100:9000 carrying `payload`.
 */
function ipipToRealServer(rsMac: number, payload: Uint8Array): Uint8Array {
  const inner = udpFrame({ dmac: 0, smac: 0, src: ipv4('10.9.9.9'), dst: ipv4('10.0.0.100'), sport: 40000, dport: 9000, payload }).subarray(14);
  const frame = new Uint8Array(14 + 20 + inner.length);
  putMac(frame, 0, rsMac); putMac(frame, 6, 0x020000790001); put16(frame, 12, 0x0800);
  ipv4Header(frame, 14, ipv4('10.79.0.1'), ipv4('10.79.0.2'), 4, 20 + inner.length);
  frame.set(inner, 34);
  return frame;
}

async function unknownProtos(ns: string): Promise<number> {
  const lines = (await run('cat', ['/proc/net/snmp'], ns)).stdout.split('\n').filter((l) => l.startsWith('Ip:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('InUnknownProtos')]);
}
