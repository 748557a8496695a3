// End to end over IPv6 through the dual-stack netns labs: iperf3 -6 from the
// client namespace to the IPv6 VIP, through tapvs (NAT, DR, TUN) and through
// the kernel doing the same job (netns/kernel-peer.sh: nftables ip6 DNAT for
// NAT, plain IPv6 forwarding to rs1 for DR), in the same run, side by side,
// as bench/e2e.ts does for IPv4:
//
//   TCP: one iperf3 -6 stream for 3 s, receiver's Gb/s.
//   UDP: 64-byte payloads as fast as the client can send (-b 0) for 3 s;
//        "delivered" is what the real server's iperf3 received (its byte count
//        / 64) divided by the test time, so drops anywhere on the way count.
//
// No kernel TUN peer: it needs ip6_tunnel, which this kernel lacks (as it
// lacks ipip). Needs root, iperf3 and nft; otherwise one "skipped" line.
// Each lab is built, measured and torn down in turn (also on errors and
// Ctrl-C); about 70 s, never starting a lab after 150 s.
//
//   node --import tsx bench/e2e6.ts [nat] [dr] [tun]
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';
import { labTapvsArgs, tapvsFlagsNote, labEnv as env, labDownSync, liveLabs, missingTools, ratio, sh, withLabs } from './lab-shell.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const labRoot = process.env.TAPVS_LAB_DIR ?? '/tmp/tapvs-lab';
const SECONDS = 3;
const UDP_PAYLOAD = 64;
const BUDGET_MS = 150_000;

type Mode = 'nat' | 'dr' | 'tun';
type Director = 'tapvs' | 'kernel';

interface Figures {
  tcpGbps?: number;
  udpDelivered?: number;
  udpOffered?: number;
  missing?: string;
}

async function up(director: Director, mode: Mode, id: string): Promise<Record<string, string>> {
  liveLabs.add(id);
  if (director === 'kernel') {
    await sh('bash', [`${repo}/netns/kernel-peer.sh`, 'up', mode, id], 60000);
  } else {
    await sh('bash', [`${repo}/netns/lab.sh`, 'up', mode, id], 60000);
    await sh('bash', ['-c', `source netns/lib.sh; export LAB_ID=${id} LAB_DIR=${labRoot}/${id}; lab_conf rr >/dev/null && lab_tapvs${labTapvsArgs()}`], 60000);
  }
  return env(id);
}

interface IperfEnd {
  sum_sent?: { packets?: number; seconds?: number };
  sum_received?: { bytes?: number; seconds?: number; bits_per_second?: number };
}

async function iperf6(ns: string, vip: string, extra: string[]): Promise<IperfEnd> {
  const argv = ['netns', 'exec', ns, 'iperf3', '-6', '-c', vip, '-p', '5201', '-t', String(SECONDS), '-J', ...extra];
  const out = await sh('ip', argv, (SECONDS + 15) * 1000).catch((err: Error & { stdout?: string }) => err.stdout || Promise.reject(err));
  let j: { end?: IperfEnd; error?: string };
  try {
    j = JSON.parse(out) as typeof j;
  } catch {
    throw new Error(`iperf3 -6 ${extra.join(' ')}: no JSON report`);
  }
  if (j.error) throw new Error(`iperf3 -6 ${extra.join(' ')}: ${j.error}`);
  return j.end ?? {};
}

async function measure(director: Director, mode: Mode, id: string, deadline: number): Promise<Figures> {
  if (performance.now() > deadline) return { missing: 'not run: the e2e time budget is spent' };
  if (director === 'kernel' && mode === 'tun') return { missing: 'n/a (no ip6_tunnel module)' };
  try {
    const e = await up(director, mode, id);
    const vip = e.LAB_VIP6;
    if (!vip) return { missing: 'the lab has no IPv6 (LAB_IPV6=0)' };
    const ns = e.LAB_CLIENT_NS!;
    const tcp = await iperf6(ns, vip, []);
    await new Promise((r) => setTimeout(r, 300));
    const udp = await iperf6(ns, vip, ['-u', '-l', String(UDP_PAYLOAD), '-b', '0']);
    const rx = udp.sum_received ?? {};
    const secs = rx.seconds ?? SECONDS;
    return {
      tcpGbps: (tcp.sum_received?.bits_per_second ?? 0) / 1e9,
      udpDelivered: (rx.bytes ?? 0) / UDP_PAYLOAD / secs,
      udpOffered: (udp.sum_sent?.packets ?? 0) / (udp.sum_sent?.seconds ?? secs),
    };
  } catch (err) {
    return { missing: `failed: ${(err as Error).message.slice(0, 200)}` };
  } finally {
    labDownSync(id);
  }
}

function rows(mode: Mode, t: Figures, k: Figures): BenchResult[] {
  const M = `${mode.toUpperCase()} IPv6`;
  const out: BenchResult[] = [];
  if (t.missing) {
    out.push({ name: `e2e ${M}: tapvs`, value: 0, unit: '', note: t.missing });
  } else {
    out.push({ name: `e2e ${M}: TCP tapvs`, value: t.tcpGbps!, unit: 'Gb/s', note: `${ratio(t.tcpGbps, k.tcpGbps)}${tapvsFlagsNote()}` });
    out.push({
      name: `e2e ${M}: UDP 64 B delivered, tapvs`, value: Math.round(t.udpDelivered!), unit: 'packets/s',
      note: `${ratio(t.udpDelivered, k.udpDelivered)}; client offered ${Math.round(t.udpOffered! / 1000)} k/s`,
    });
  }
  if (k.missing) {
    out.push({ name: `e2e ${M}: kernel peer`, value: 0, unit: '', note: k.missing });
  } else {
    out.push({ name: `e2e ${M}: TCP kernel peer`, value: k.tcpGbps!, unit: 'Gb/s', note: mode === 'nat' ? 'nftables ip6 DNAT' : 'kernel IPv6 forwarding to rs1' });
    out.push({
      name: `e2e ${M}: UDP 64 B delivered, kernel peer`, value: Math.round(k.udpDelivered!), unit: 'packets/s',
      note: `client offered ${Math.round(k.udpOffered! / 1000)} k/s`,
    });
  }
  return out;
}

export async function benchE2e6(modes: Mode[] = ['nat', 'dr', 'tun']): Promise<BenchResult[]> {
  const why = missingTools();
  if (why) return [{ name: 'e2e IPv6: skipped', value: 0, unit: '', note: why }];
  const tag = (process.pid % 10000).toString(36);
  const deadline = performance.now() + BUDGET_MS;
  return withLabs(async () => {
    const results: BenchResult[] = [];
    for (const mode of modes) {
      const t = await measure('tapvs', mode, `e6${tag}${mode[0]}t`, deadline);
      const k = await measure('kernel', mode, `e6${tag}${mode[0]}k`, deadline);
      results.push(...rows(mode, t, k));
    }
    return results;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const modes = process.argv.slice(2).filter((a): a is Mode => a === 'nat' || a === 'dr' || a === 'tun');
  for (const r of await benchE2e6(modes.length > 0 ? modes : undefined)) {
    console.log(`${r.name.padEnd(44)} ${(Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(2)).padStart(10)} ${r.unit.padEnd(10)} ${r.note ?? ''}`);
  }
}
