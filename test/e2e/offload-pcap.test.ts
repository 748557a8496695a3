/**
 * A pcap port mixed in with an offloading TAP, end to end: the NAT lab with
 * its inside port replaced by `kind=pcap` on a veth of tapvs's own namespace
 * (its peer joins the real servers' LAN bridge, with TSO/GSO and checksum
 * offload off on the peer, so the capture sees wire-sized frames with
 * finished checksums, as a NIC's capture does; a veth otherwise hands a
 * packet socket the real servers' partial checksums). The outside TAP keeps offload (the
 * default), so client uploads reach tapvs as TCP super-frames and must leave
 * through the pcap port cut into MTU-sized segments with finished checksums.
 * tapvs starts (no every-port-must-be-a-TAP rule) and logs why the pcap
 * port runs without offload.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSha256, patternSha256, stillRunning, waitFor } from './lab.js';
import { OffloadLab, avg, exec, iperf } from './offload-lab.js';

const id = `tvo${process.pid % 1000}p`;
const dev = `${id}pi`;

// the veth's end in our namespace is deleted with its peer when lab_down removes the LAN namespace
const PREPARE = `
ip link add ${dev} type veth peer name pcapleg netns "$LAB_PORT_INSIDE_NS"
sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1
ip link set ${dev} address 02:00:00:00:00:02
ip netns exec "$LAB_PORT_INSIDE_NS" ethtool -K pcapleg tx off tso off gso off >/dev/null
ethtool -K ${dev} gro off >/dev/null 2>&1 || true
ip -n "$LAB_PORT_INSIDE_NS" link set pcapleg master br0 up
ip link set ${dev} up
sed -i -e "/^port inside /s| kind=tap device=[^ ]*| kind=pcap device=${dev}|" -e '/^port inside /s| netns=[^ ]*||' -e '/^port inside /s| bridge=[^ ]*||' "$LAB_DIR/tapvs.conf"
`;

async function vethStats(): Promise<{ txPackets: number; txBytes: number }> {
  const r = await exec('ip', ['-s', '-j', 'link', 'show', 'dev', dev], 10_000);
  const s = (JSON.parse(r.stdout) as Array<{ stats64: { tx: { bytes: number; packets: number } } }>)[0]!.stats64;
  return { txPackets: s.tx.packets, txBytes: s.tx.bytes };
}

describe('e2e NAT: an offloading TAP outside, a pcap port inside', () => {
  const ol = new OffloadLab(id, 'nat', {}, PREPARE);
  const lab = ol.lab;

  beforeAll(async () => {
    await ol.up();
  });

  afterAll(async () => {
    const pids = await ol.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
    // the veth goes with its peer's namespace, which the kernel tears down in the background
    const gone = async (): Promise<boolean> => (await exec('ip', ['link', 'show', 'dev', dev], 10_000)).code !== 0;
    const waited = await waitFor(gone, 20_000, 200);
    if (waited < 0) await exec('ip', ['link', 'del', 'dev', dev], 10_000);
    expect(waited).toBeGreaterThanOrEqual(0);
  });

  it('starts, and logs the TAP with offload on and the pcap port off with the reason', async () => {
    expect(await ol.conf()).toContain(`port inside kind=pcap device=${dev} `);
    const opened = (await ol.log()).split('\n').filter((l) => l.includes('"port open"')).map((l) => JSON.parse(l) as { port: string; kind: string; offload: string; offloadOff?: string });
    expect(opened.map((l) => [l.port, l.kind, l.offload])).toEqual([['outside', 'tap', 'tso'], ['inside', 'pcap', 'off']]);
    expect(opened[1]!.offloadOff).toMatch(/pcap port has no virtio_net_hdr/);
  });

  it('HTTP through the VIP alternates over the real servers in rr order', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await lab.whoAnswers());
    expect(seen).toEqual(['rs2', 'rs1', 'rs2', 'rs1']);
  });

  it('uploads arrive in super-frames and leave through the pcap port as MTU-sized segments, checksums intact', async () => {
    const out0 = await ol.tapStats('OUTSIDE');
    const v0 = await vethStats();
    const errs0 = await ol.allCsumErrors();
    const r = await iperf(lab, 2);
    expect(r.bytes).toBeGreaterThan(1_000_000);
    const out1 = await ol.tapStats('OUTSIDE');
    const v1 = await vethStats();
    expect(avg(out1.txBytes - out0.txBytes, out1.txPackets - out0.txPackets)).toBeGreaterThan(4 * 1514);
    const written = avg(v1.txBytes - v0.txBytes, v1.txPackets - v0.txPackets);
    expect(written).toBeGreaterThan(1000);
    expect(written).toBeLessThanOrEqual(1514);
    expect(v1.txBytes - v0.txBytes).toBeGreaterThan(r.bytes);
    expect(await ol.allCsumErrors()).toBe(errs0);
  });

  it('a 10 MB download through the pcap port arrives byte-identical', async () => {
    const n = 10 * 1024 * 1024;
    const file = join(lab.dir, 'bytes-10m.bin');
    const r = await lab.client('curl', ['-s', '--max-time', '60', '-o', file, '-w', '%{http_code}', `http://${lab.vip}/bytes/${n}`], 65_000);
    expect(r.code, r.stderr).toBe(0);
    const got = fileSha256(file);
    expect(got.size).toBe(n);
    expect(got.sha).toBe(patternSha256(n));
  });
});
