// Time per TCP super-frame (a 64 KB NAT upload frame from an offloading TAP)
// in-process, with and without keeping the partial checksum partial:
//   partial kept: the director patches only the pseudo-header part of the
//     checksum field (what tapvs does now); the frame leaves with the virtio
//     header asking the kernel to finish it.
//   finished on receive: the port first sums the whole 64 KB to finish the
//     checksum (what tapvs did before), then the director's incremental
//     update, then the sending TAP puts the pseudo-header part back.
//   cut in software: the same super-frame leaving through a port that cannot
//     take it (offload=none, pcap): 45 segments built and checksummed.
// Each figure is the median of 5 runs after a warm-up, in CPU time, less the
// 64 KB copy that puts the original frame back before every run of the loop.
import { pathToFileURL } from 'node:url';
import { Director } from '../src/director/director.js';
import { FWD_MASQ } from '../src/model/dest.js';
import type { FrameMeta } from '../src/model/frame.js';
import { SoftwareOffload } from '../src/io/vnet.js';
import { completeChecksum, tcp4PartialCsum } from '../src/wire/csum-partial.js';
import { VNET_GSO_TCPV4 } from '../src/wire/virtio-net.js';
import { clientAddr, clientFrame, config } from './director.js';
import type { BenchResult } from './types.js';

const HEADROOM = 64;
const PAYLOAD = 65_000;
const MSS = 1448;

/** CPU time (user + system) per call, not wall time: on 2 shared cores the wall clock counts time the core was taken away. */
function medianNs(run: (n: number) => void, n: number): number {
  run(Math.min(n, 2000));
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const c = process.cpuUsage();
    run(n);
    const d = process.cpuUsage(c);
    times.push(((d.user + d.system) * 1000) / n);
  }
  times.sort((a, b) => a - b);
  return times[2]!;
}

export async function benchSuperframe(): Promise<BenchResult[]> {
  const d = new Director(config(FWD_MASQ), { send: () => {} });
  const buf = new Uint8Array(HEADROOM + 70_000);
  const syn = clientFrame(clientAddr(0), 20_000, 'S');
  buf.set(syn, HEADROOM);
  d.process(0, buf, HEADROOM, syn.length, 1_000);
  // the super-frame as an offloading TAP hands it over: checksum field = pseudo-header part
  const big = clientFrame(clientAddr(0), 20_000, 'A', PAYLOAD);
  const tcpLen = big.length - 34;
  const partial = tcp4PartialCsum(clientAddr(0), (10 << 24) | 100, tcpLen);
  const asReceived = big.slice();
  asReceived[34 + 16] = partial >>> 8;
  asReceived[34 + 17] = partial & 0xff;
  const metaPartial: FrameMeta = { gsoType: VNET_GSO_TCPV4, gsoSize: MSS, csumStart: 34, csumOffset: 16 };
  const metaFinished: FrameMeta = { gsoType: VNET_GSO_TCPV4, gsoSize: MSS, csumStart: 0, csumOffset: 0 };
  const N = 20_000;
  const copy = medianNs((n) => { for (let i = 0; i < n; i++) buf.set(asReceived, HEADROOM); }, N);
  const kept = medianNs((n) => {
    for (let i = 0; i < n; i++) {
      buf.set(asReceived, HEADROOM);
      d.process(0, buf, HEADROOM, asReceived.length, 1_001, metaPartial);
    }
  }, N) - copy;
  const finished = medianNs((n) => {
    for (let i = 0; i < n; i++) {
      buf.set(asReceived, HEADROOM);
      completeChecksum(buf, HEADROOM, asReceived.length, 34, 16);
      d.process(0, buf, HEADROOM, asReceived.length, 1_001, metaFinished);
      // the sending TAP's pseudo-header part for the kernel (O(1), as io/tap.ts sendLarge)
      const p = tcp4PartialCsum(buf[HEADROOM + 26]! << 24 | buf[HEADROOM + 27]! << 16 | buf[HEADROOM + 28]! << 8 | buf[HEADROOM + 29]!, 0, tcpLen);
      buf[HEADROOM + 50] = p >>> 8;
    }
  }, N) - copy;
  const sum = medianNs((n) => {
    for (let i = 0; i < n; i++) {
      buf.set(asReceived, HEADROOM);
      completeChecksum(buf, HEADROOM, asReceived.length, 34, 16);
    }
  }, N) - copy;
  let segments = 0;
  const soft = new SoftwareOffload(0, () => { segments++; });
  const cut = medianNs((n) => {
    for (let i = 0; i < n; i++) {
      buf.set(asReceived, HEADROOM);
      soft.send(buf, HEADROOM, asReceived.length, metaPartial, 1500);
    }
  }, N / 4) - copy;
  const perFrame = segments / soft.counters.txSegmented;
  const drops = d.drops.total;
  const us = (ns: number): number => Math.round(ns) / 1000;
  return [
    { name: 'NAT super-frame, partial checksum kept', value: us(kept), unit: 'us/frame', note: `${PAYLOAD} B payload; ${(PAYLOAD * 8 / kept).toFixed(0)} Gb/s of payload on one core${drops ? `; UNEXPECTED drops ${drops}` : ''}` },
    { name: 'NAT super-frame, checksum finished on rx', value: us(finished), unit: 'us/frame', note: `the 64 KB sum alone ${us(sum)} us; ${(finished / kept).toFixed(1)}x the partial path` },
    { name: 'super-frame cut in software (MTU 1500)', value: us(cut), unit: 'us/frame', note: `${perFrame.toFixed(0)} segments, ${(cut / perFrame).toFixed(0)} ns each (offload=none or pcap egress)` },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchSuperframe()) console.log(`${r.name.padEnd(44)} ${String(r.value).padStart(10)} ${r.unit}  (${r.note ?? ''})`);
}
