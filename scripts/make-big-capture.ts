// Writes a large capture of LVS-NAT traffic for fixtures/pcap/nat-http.conf,
// to measure `tapvs replay` at size (memory must stay flat):
//
//   npx tsx scripts/make-big-capture.ts OUT.pcapng SIZE_MB [CONNS_PER_SECOND]
//
// Interfaces `outside` and `inside`, as the config's ports. Each connection
// is one short HTTP exchange, as it arrives at the director: the client's
// SYN, ACK, GET, ACK, FIN, ACK on outside; the real server's SYN-ACK, a
// 1200-byte answer and FIN on inside (9 frames, ~2 KB of file). Clients are
// 198.18.x.y behind the router 10.0.0.254; every 10 s of capture time the
// router and the real server announce their MACs, so no frame waits on ARP.
// The capture clock advances CONNS_PER_SECOND connections a second (default
// 200), which keeps the director's table (TIME_WAIT 120 s) near 24 k entries
// whatever the file's size. Frames are built once with the packet builder and
// then patched per connection (addresses, ports, checksums updated as RFC 1624).
import { PcapngStreamWriter } from '../src/io/pcap-file.js';
import { eth } from '../src/wire/builder.js';
import { parseIp } from '../src/wire/addr.js';
import { csumUpdate16, csumUpdate32 } from '../src/wire/checksum.js';
import { ETH_HEADER_LEN } from '../src/wire/ethernet.js';
import { Ipv4View } from '../src/wire/ipv4.js';
import { TcpView } from '../src/wire/tcp.js';

const [outPath, sizeArg, rateArg] = process.argv.slice(2);
if (!outPath || !sizeArg) {
  process.stderr.write('usage: npx tsx scripts/make-big-capture.ts OUT.pcapng SIZE_MB [CONNS_PER_SECOND]\n');
  process.exit(2);
}
const targetBytes = Number(sizeArg) * 1e6;
const rate = Number(rateArg ?? 200);

const M = { out: '02:00:00:00:00:01', in: '02:00:00:00:00:02', router: '02:00:00:00:00:fe', rs: '02:00:00:00:10:11' };
const VIP = '10.0.0.100';
const RS = '192.168.10.11';
const CLIENT0 = '198.18.0.1';
const CPORT0 = 40000;
const OUTSIDE = 0;
const INSIDE = 1;

function pad(f: Uint8Array): Uint8Array {
  if (f.length >= 60) return f;
  const p = new Uint8Array(60);
  p.set(f);
  return p;
}

function fromClient(flags: string, seq: number, ack: number, payload?: string): Uint8Array {
  return pad(eth({ src: M.router, dst: M.out })
    .ipv4({ src: CLIENT0, dst: VIP, ttl: 58, id: 1, flags: 'DF' })
    .tcp({ sport: CPORT0, dport: 80, flags, seq, ack, ...(payload ? { payload } : {}) })
    .build());
}

function fromServer(flags: string, seq: number, ack: number, payload?: string): Uint8Array {
  return pad(eth({ src: M.rs, dst: M.in })
    .ipv4({ src: RS, dst: CLIENT0, ttl: 64, id: 1, flags: 'DF' })
    .tcp({ sport: 8080, dport: CPORT0, flags, seq, ack, ...(payload ? { payload } : {}) })
    .build());
}

const GET = 'GET / HTTP/1.1\r\nHost: 10.0.0.100\r\n\r\n';
const BODY = 'HTTP/1.0 200 OK\r\n\r\n' + 'x'.repeat(1200);
const c = 1000; // client's initial sequence number
const s = 5000; // server's
interface Tpl { port: number; dt: number; clientIsSrc: boolean; pristine: Uint8Array; work: Uint8Array }
const steps: [number, boolean, Uint8Array][] = [
  [OUTSIDE, true, fromClient('S', c, 0)],
  [INSIDE, false, fromServer('SA', s, c + 1)],
  [OUTSIDE, true, fromClient('A', c + 1, s + 1)],
  [OUTSIDE, true, fromClient('PA', c + 1, s + 1, GET)],
  [INSIDE, false, fromServer('PA', s + 1, c + 1 + GET.length, BODY)],
  [OUTSIDE, true, fromClient('A', c + 1 + GET.length, s + 1 + BODY.length)],
  [OUTSIDE, true, fromClient('FA', c + 1 + GET.length, s + 1 + BODY.length)],
  [INSIDE, false, fromServer('FA', s + 1 + BODY.length, c + 2 + GET.length)],
  [OUTSIDE, true, fromClient('A', c + 2 + GET.length, s + 2 + BODY.length)],
];
const tpls: Tpl[] = steps.map(([port, clientIsSrc, f], i) => ({ port, dt: i * 100_000, clientIsSrc, pristine: f, work: f.slice() }));

const arps: [number, Uint8Array][] = [
  [OUTSIDE, pad(eth({ src: M.router, dst: M.out }).arp({ op: 'reply', sha: M.router, spa: '10.0.0.254', tha: M.out, tpa: '10.0.0.1' }).build())],
  [INSIDE, pad(eth({ src: M.rs, dst: M.in }).arp({ op: 'reply', sha: M.rs, spa: RS, tha: M.in, tpa: '192.168.10.1' }).build())],
];

const ip = new Ipv4View();
const tcp = new TcpView();
const client0 = parseIp(CLIENT0);
const clientBase = parseIp('198.18.0.0');

/** Rewrites the template's client address and port to connection k's, checksums updated. */
function patch(t: Tpl, addr: number, port: number): void {
  const w = t.work;
  w.set(t.pristine);
  ip.wrap(w, ETH_HEADER_LEN, w.length - ETH_HEADER_LEN);
  tcp.wrap(w, ip.payloadOffset, ip.totalLength - ip.headerLength);
  let tsum = csumUpdate32(tcp.checksum, client0, addr);
  if (t.clientIsSrc) {
    ip.src = addr;
    tsum = csumUpdate16(tsum, CPORT0, port);
    tcp.sport = port;
  } else {
    ip.dst = addr;
    tsum = csumUpdate16(tsum, CPORT0, port);
    tcp.dport = port;
  }
  ip.checksum = csumUpdate32(ip.checksum, client0, addr);
  tcp.checksum = tsum;
}

const w = PcapngStreamWriter.open(outPath, ['outside', 'inside'], { bufferBytes: 4 << 20 });
const t0 = 1_700_000_000_000_000_000n;
const perConn = BigInt(Math.round(1e9 / rate));
let bytes = 0;
let frames = 0;
let nextArp = -1n;
const started = performance.now();
for (let k = 0; bytes < targetBytes; k++) {
  const t = t0 + BigInt(k) * perConn;
  if (t >= nextArp) {
    for (const [port, f] of arps) {
      w.add(port, t, f);
      bytes += 32 + f.length;
      frames++;
    }
    nextArp = t + 10_000_000_000n;
  }
  // 65024 clients, then the next source port
  const addr = (clientBase + 1 + (k % 65024)) >>> 0;
  const port = 1024 + (Math.floor(k / 65024) % 64000);
  for (const tpl of tpls) {
    patch(tpl, addr, port);
    w.add(tpl.port, t + 1000n + BigInt(tpl.dt), tpl.work);
    bytes += 32 + ((tpl.work.length + 3) & ~3);
    frames++;
  }
}
if (!w.close() || w.writeErrors > 0) throw new Error(`writing ${outPath} failed: ${w.lastError?.message}`);
process.stderr.write(`${outPath}: ${frames} frames, ${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
