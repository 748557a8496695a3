/**
 * Offload (on by default) in the DR and TUN labs. The client's traffic
 * reaches tapvs's LAN TAP through the router, and the kernel hands it TCP
 * super-frames; replies go from the real servers straight to the router.
 *   DR: the super-frame is re-addressed to the real server's MAC and written
 *       whole with a GSO header; the kernel cuts it on the way to the server.
 *   TUN: an IPIP-encapsulated super-frame is cut into MTU-sized IPIP segments
 *       in software (xmit over an outer header is not offered to the kernel),
 *       each with a finished inner TCP checksum.
 * Checked from the TAP netdev's own counters (one count per frame, whatever
 * its size), the real servers' TCP checksum-error counters, iperf3's byte
 * count and a byte-identical download.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSha256, patternSha256, stillRunning } from './lab.js';
import { OffloadLab, avg, iperf } from './offload-lab.js';

for (const mode of ['dr', 'tun'] as const) {
  describe(`e2e ${mode.toUpperCase()} with offload on by default`, () => {
    const ol = new OffloadLab(`tvo${process.pid % 1000}${mode[0]}`, mode, {});
    const lab = ol.lab;

    beforeAll(async () => {
      await ol.up();
    });

    afterAll(async () => {
      const pids = await ol.down();
      expect(await lab.namespaces()).toEqual([]);
      expect(stillRunning(pids)).toEqual([]);
    });

    it('tapvs logs the LAN port with offload on', async () => {
      const opened = (await ol.log()).split('\n').filter((l) => l.includes('"port open"')).map((l) => JSON.parse(l) as { offload?: string });
      expect(opened.map((l) => l.offload)).toEqual(['tso']);
    });

    it('HTTP through the VIP alternates over the real servers in rr order', async () => {
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) seen.push(await lab.whoAnswers());
      expect(seen).toEqual(['rs2', 'rs1', 'rs2', 'rs1']);
    });

    it(`a 3 s iperf3 TCP upload crosses tapvs in super-frames (${mode === 'dr' ? 'written whole' : 'encapsulated and cut in software'}), with no checksum errors at the real servers`, async () => {
      const s0 = await ol.tapStats('LAN');
      const errs0 = await ol.allCsumErrors();
      const r = await iperf(lab, 3);
      expect(r.bytes).toBeGreaterThan(5_000_000);
      const s1 = await ol.tapStats('LAN');
      // what the kernel handed tapvs: super-frames far above 1514 bytes on average
      expect(avg(s1.txBytes - s0.txBytes, s1.txPackets - s0.txPackets)).toBeGreaterThan(4 * 1514);
      const written = avg(s1.rxBytes - s0.rxBytes, s1.rxPackets - s0.rxPackets);
      if (mode === 'dr') {
        expect(written).toBeGreaterThan(4 * 1514);
      } else {
        // IPIP segments of the 1500-byte MTU (plus the Ethernet header); ACK-sized frames are few
        expect(written).toBeGreaterThan(1000);
        expect(written).toBeLessThanOrEqual(1514);
      }
      // every byte the server counted also passed through tapvs (the upload goes only that way)
      expect(s1.rxBytes - s0.rxBytes).toBeGreaterThan(r.bytes);
      expect(await ol.allCsumErrors()).toBe(errs0);
    });

    it('a 10 MB download arrives byte-identical (requests and ACKs through tapvs, data straight back)', async () => {
      const n = 10 * 1024 * 1024;
      const file = join(lab.dir, 'bytes-10m.bin');
      const r = await lab.client('curl', ['-s', '--max-time', '40', '-o', file, '-w', '%{http_code}', `http://${lab.vip}/bytes/${n}`], 45_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('200');
      const got = fileSha256(file);
      expect(got.size).toBe(n);
      expect(got.sha).toBe(patternSha256(n));
    });
  });
}
