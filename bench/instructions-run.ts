// One case of bench/instructions.ts, run under valgrind: set up a director,
// forward WARM packets so the JIT settles, then `n` more. Prints nothing.
import { Director } from '../src/director/director.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, type Fwd } from '../src/model/dest.js';
import { parseIp as ip } from '../src/wire/addr.js';
import { clientAddr, clientAddr6, clientFrame, clientFrame6, config, config6 } from './director.js';

const FLOWS = 4096;
const HEADROOM = 64;
const WARM = 300_000;

const kase = process.argv[2] ?? 'nat';
const n = Number(process.argv[3] ?? 0);
// nat6, dr6, tun6: the same established flows over IPv6
const v6 = kase.endsWith('6');
const method = v6 ? kase.slice(0, -1) : kase;
const fwd: Fwd = method === 'dr' ? FWD_DR : method === 'tun' ? FWD_TUN : FWD_MASQ;
const d = new Director(v6 ? config6(fwd) : config(fwd), { send: () => {} });
const buf = new Uint8Array(HEADROOM + 2048);
const acks: Uint8Array[] = [];
for (let i = 0; i < FLOWS; i++) {
  const syn = v6 ? clientFrame6(clientAddr6(i), 10_000 + i, 'S') : clientFrame(clientAddr(i), 10_000 + i, 'S');
  buf.set(syn, HEADROOM);
  d.process(0, buf, HEADROOM, syn.length, 1_000);
  acks.push(v6 ? clientFrame6(clientAddr6(i), 10_000 + i, 'A', 64) : clientFrame(clientAddr(i), 10_000 + i, 'A', 64));
}
const syn = clientFrame(ip('172.16.200.1'), 1, 'S');
let port = 1;
let host = 0;

function newConn(): void {
  buf.set(syn, HEADROOM);
  port = port === 65535 ? 1 : port + 1;
  if (port === 1) host = (host + 1) % 250;
  // a new client port (and host when ports wrap); the IP checksum is not touched by these bytes' meaning but must stay valid
  buf[HEADROOM + 34] = port >> 8;
  buf[HEADROOM + 35] = port & 0xff;
  buf[HEADROOM + 29] = 1 + host;
  buf[HEADROOM + 24] = 0;
  buf[HEADROOM + 25] = 0;
  let s = 0;
  for (let k = 0; k < 20; k += 2) s += (buf[HEADROOM + 14 + k]! << 8) | buf[HEADROOM + 15 + k]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  buf[HEADROOM + 24] = s >> 8;
  buf[HEADROOM + 25] = s & 0xff;
  d.process(0, buf, HEADROOM, syn.length, 2_000);
}

function run(count: number): void {
  for (let i = 0; i < count; i++) {
    if (kase === 'mix' && i % 10 === 0) {
      newConn();
      continue;
    }
    const f = acks[i & (FLOWS - 1)]!;
    buf.set(f, HEADROOM);
    d.process(0, buf, HEADROOM, f.length, 2_000);
  }
}

run(WARM);
run(n);
if (d.drops.total > 0 && kase !== 'mix') throw new Error(`unexpected drops ${JSON.stringify(d.drops.toObject())}`);
