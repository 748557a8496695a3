import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADROOM, MAX_FRAME } from '../../src/io/port.js';
import { DeviceError, openTap, type TapPort } from '../../src/io/tap.js';
import { arpReply, echoReply, ipv4, u16, u32 } from '../netns-helpers/frames.js';
import { addNetns, delNetns, linkExists, run, uniqueName } from '../netns-helpers/ns.js';

const MY_MAC = 0x020000770001;
const MY_IP = ipv4('10.77.0.1');

describe('TAP port on a real device', () => {
  const namespaces: string[] = [];
  const ports: TapPort[] = [];
  afterAll(async () => {
    for (const p of ports) await p.close();
    delNetns(...namespaces);
  });

  it('answers ARP and ping for an address on the TAP from inside a namespace', async () => {
    const ns = uniqueName('p');
    namespaces.push(ns);
    addNetns(ns);
    const device = `tv${process.pid % 100000}p`;
    const port = openTap({ name: 'lab', device, netns: ns, addrs: ['10.77.0.2/24'], mtu: 9500 });
    ports.push(port);
    expect(port.device).toBe(device);
    expect(port.mtu).toBe(9500);
    expect(port.mac).toBeGreaterThan(0);
    // the netdev now lives in the namespace, not here
    expect(linkExists(device)).toBe(false);

    const seen = { arpForMe: 0, echoRequests: 0, badOffsets: 0 };
    port.start((idx, buf, off, len) => {
      if (idx !== 7 || off < HEADROOM || buf.length < off + MAX_FRAME) seen.badOffsets++;
      const type = u16(buf, off + 12);
      if (type === 0x0806 && u16(buf, off + 20) === 1 && u32(buf, off + 38) === MY_IP) {
        seen.arpForMe++;
        const r = arpReply(buf, off, MY_MAC);
        port.send(r, 0, r.length);
      } else if (type === 0x0800 && buf[off + 23] === 1 && u32(buf, off + 30) === MY_IP && buf[off + 14 + (buf[off + 14]! & 15) * 4] === 8) {
        seen.echoRequests++;
        const r = echoReply(buf, off, len);
        port.send(r, 0, r.length);
      }
    }, 7);
    expect(port.loopKind).toBe('uv-stream');

    const ping = await run('ping', ['-c1', '-W3', '10.77.0.1'], ns);
    expect(ping.stdout).toMatch(/1 received/);
    expect(ping.code).toBe(0);
    expect(seen.arpForMe).toBeGreaterThanOrEqual(1);
    expect(seen.echoRequests).toBe(1);
    expect(seen.badOffsets).toBe(0);
    expect(port.counters.txFrames).toBeGreaterThanOrEqual(2);
    expect(port.counters.rxFrames).toBeGreaterThanOrEqual(2);

    // a 9342-byte frame fits the netdev's MTU but not MAX_FRAME: counted, dropped, loop keeps going
    const before = port.counters.rxTooBig;
    await run('ping', ['-c1', '-W1', '-s', '9300', '10.77.0.1'], ns);
    expect(port.counters.rxTooBig).toBe(before + 1);
    const again = await run('ping', ['-c1', '-W3', '10.77.0.1'], ns);
    expect(again.code).toBe(0);
    expect(seen.echoRequests).toBe(2);

    await port.close();
    // the device we created disappears with the port
    const gone = await run('ip', ['link', 'show', 'dev', device], ns);
    expect(gone.code).not.toBe(0);
    port.send(new Uint8Array(60), 0, 60);
    expect(port.counters.txErrors).toBe(1);
  });

  it('sets the queue length of the netdev it creates (txQueueLen), in its namespace', async () => {
    const ns = uniqueName('q');
    namespaces.push(ns);
    addNetns(ns);
    const device = `tv${process.pid % 100000}q`;
    const port = openTap({ name: 'q', device, netns: ns, txQueueLen: 4096 });
    ports.push(port);
    const link = JSON.parse((await run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', device])).stdout) as { txqlen: number }[];
    expect(link[0]!.txqlen).toBe(4096);
  });

  it('counts a write the kernel refuses instead of throwing', async () => {
    const device = `tv${process.pid % 100000}w`;
    const port = openTap({ name: 'w', device, up: false });
    ports.push(port);
    // link down: the kernel answers EIO
    port.send(new Uint8Array(60), 0, 60);
    expect(port.counters.txErrors).toBe(1);
    expect(port.counters.txFrames).toBe(0);
    await port.close();
    expect(existsSync(`/sys/class/net/${device}`)).toBe(false);
  });

  it('names the device and the reason when it cannot open one', async () => {
    expect(() => openTap({ name: 'x', device: 'a-name-far-too-long' })).toThrow(/invalid interface name "a-name-far-too-long"/);
    expect(() => openTap({ name: 'x', device: 'bad/name' })).toThrow(DeviceError);
    // lo exists and is no TAP: creating must refuse, naming the device
    expect(() => openTap({ name: 'x', device: 'lo' })).toThrow(/lo: name in use \(EBUSY\)/);
    const device = `tv${process.pid % 100000}d`;
    const first = openTap({ name: 'first', device, up: false });
    ports.push(first);
    expect(() => openTap({ name: 'second', device, up: false })).toThrow(new RegExp(`${device}: name in use`));
    await first.close();
    expect(() => openTap({ name: 'x', device: `tv${process.pid % 100000}n`, create: false })).toThrow(/no such device \(ENODEV\)/);
    // a namespace that does not exist: the error quotes ip, and the half-made device is gone
    const bad = `tv${process.pid % 100000}b`;
    expect(() => openTap({ name: 'x', device: bad, netns: 'tvt-no-such-namespace' })).toThrow(/ip link set dev .* netns tvt-no-such-namespace/);
    expect(linkExists(bad)).toBe(false);
  });
});
