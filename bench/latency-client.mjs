// Established-connection latency at a fixed rate: CONNS keep-alive HTTP/1.1
// connections to HOST:PORT, RATE requests/s in all for SECONDS, open loop
// (each request has a scheduled send time; its latency runs from that time,
// so a stall is not hidden by sending later), small GETs of `/`.
// The first half second is a warm-up, not counted.
// Prints one JSON line: {"sent","done","errors","p50Us","p90Us","p99Us","maxUs"}.
// Usage: node bench/latency-client.mjs HOST PORT [RATE=1000] [SECONDS=3] [CONNS=8]
import net from 'node:net';

const [host, portArg, rateArg = '1000', secArg = '3', connArg = '8'] = process.argv.slice(2);
const port = Number(portArg);
const rate = Number(rateArg);
const seconds = Number(secArg);
const conns = Number(connArg);
const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
// a warm-up half second first, not counted (connections new, code not yet compiled)
const warm = Math.round(rate * 0.5);
const total = warm + Math.round(rate * seconds);
const lat = new Float64Array(total);
let seen = 0;
let done = 0;
let errors = 0;
let sent = 0;
const now = () => Number(process.hrtime.bigint() / 1000n);

function openConn() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

const sockets = await Promise.all(Array.from({ length: conns }, openConn));
const t0 = now() + 20_000; // first request 20 ms from now
// request i goes on connection i % conns at t0 + i / rate
const perConn = sockets.map((s, c) => ({ s, c, next: c, due: 0, inflight: -1, buf: '' }));

function finishOne(st) {
  if (seen++ >= warm) lat[done++] = now() - st.due;
  st.inflight = -1;
  st.next += conns;
  schedule(st);
}

function sendOn(st) {
  // from the scheduled time when late (open loop); timers may fire a little early, and then
  // the request goes out before its time: count from when it did
  st.due = Math.min(t0 + (st.next * 1e6) / rate, now());
  st.inflight = st.next;
  sent++;
  st.s.write(request);
}

function schedule(st) {
  if (st.next >= total) {
    st.s.end();
    return;
  }
  const due = t0 + (st.next * 1e6) / rate;
  const wait = due - now();
  if (wait <= 0) sendOn(st);
  else setTimeout(() => sendOn(st), wait / 1000);
}

for (const st of perConn) {
  st.s.setEncoding('latin1');
  st.s.on('data', (d) => {
    st.buf += d;
    // one response at a time per connection: headers, then Content-Length bytes
    for (;;) {
      const h = st.buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(st.buf.slice(0, h));
      const need = h + 4 + (m ? Number(m[1]) : 0);
      if (st.buf.length < need) return;
      st.buf = st.buf.slice(need);
      if (st.inflight >= 0) finishOne(st);
    }
  });
  st.s.on('error', () => { errors++; });
  schedule(st);
}

const limit = setTimeout(() => report(), (seconds + 10.5) * 1000);
await Promise.all(perConn.map((st) => new Promise((r) => st.s.once('close', r))));
clearTimeout(limit);
report();

function report() {
  const l = lat.subarray(0, done).sort();
  const q = (p) => (done > 0 ? Math.round(l[Math.min(done - 1, Math.floor(p * done))]) : 0);
  console.log(JSON.stringify({ sent, done, errors, p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99), maxUs: done > 0 ? Math.round(l[done - 1]) : 0 }));
  process.exit(0);
}
