#!/usr/bin/env node
// A probe target for test/e2e/keepalived.test.ts, run in a real server's
// namespace: HTTP on --http (GET /health answers the status in CTL/status,
// anything else 200 "NAME"), and a TCP listener on --tcp that is open while
// CTL/tcp says "open". Each HTTP request is printed as a JSON line with its
// time (ms), request line, Host header and the status sent.
import { readFileSync } from 'node:fs';
import { createServer as http } from 'node:http';
import { createServer as tcp } from 'node:net';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const ctl = arg('ctl');
const name = arg('name', 'target');
const read = (f, dflt) => {
  try { return readFileSync(`${ctl}/${f}`, 'utf8').trim(); } catch { return dflt; }
};

http((req, res) => {
  const status = req.url === '/health' ? Number(read('status', '200')) : 200;
  process.stdout.write(JSON.stringify({ t: Date.now(), line: `${req.method} ${req.url} HTTP/${req.httpVersion}`, host: req.headers.host ?? null, ua: req.headers['user-agent'] ?? null, status }) + '\n');
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(`${name}\n`);
}).listen(Number(arg('http', '8081')), '0.0.0.0', () => process.stdout.write(`ready ${name}\n`));

let listener = null;
const tcpPort = Number(arg('tcp', '8082'));
setInterval(() => {
  const want = read('tcp', 'open') === 'open';
  if (want && !listener) {
    listener = tcp((s) => s.destroy()).listen(tcpPort, '0.0.0.0');
  } else if (!want && listener) {
    listener.close();
    listener = null;
  }
}, 10);
