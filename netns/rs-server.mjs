#!/usr/bin/env node
// A lab real server: HTTP that answers with the server's name, and a UDP echo
// that prefixes replies with the name, so a client can tell who answered.
// Plain JS so it starts fast. Usage:
//   node netns/rs-server.mjs --name rs1 [--http 80] [--udp 7] [--bind 0.0.0.0] [--vip ADDR]
//                            [--ipv6 [--bind6 ::] [--vip6 ADDR6]]
// GET /bytes/N answers N bytes of a fixed pattern (byte i = (i * 7) % 251), for
// transfer tests that check every byte. With --vip, UDP is also bound to the
// VIP so that DR/TUN replies leave from the VIP, as LVS real servers must.
// With --ipv6 the same HTTP and UDP echo also listen on IPv6 (--bind6, IPv6
// only, so the IPv4 sockets stay as they are), and --vip6 binds a UDP echo to
// the IPv6 VIP for the same reason as --vip.
import http from 'node:http';
import dgram from 'node:dgram';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 && args[i + 1] ? args[i + 1] : d; };
const name = opt('name', 'rs');
const httpPort = Number(opt('http', '80'));
const udpPort = Number(opt('udp', '7'));
const bind = opt('bind', '0.0.0.0');

let pending = 2;
const ready = () => { if (--pending === 0) process.stdout.write(`ready ${name}\n`); };

const pattern = (n) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7) % 251;
  return b;
};

const handle = (req, res) => {
  const m = /^\/bytes\/(\d{1,9})$/.exec(req.url ?? '');
  if (m) {
    const body = pattern(Number(m[1]));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'x-real-server': name });
    res.end(body);
    return;
  }
  const body = `${name}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-real-server': name });
  res.end(body);
};
const servers = [];
const serve = (listen) => {
  const server = http.createServer(handle);
  server.keepAliveTimeout = 1000;
  server.listen(listen, ready);
  servers.push(server);
};
serve({ port: httpPort, host: bind });
const ipv6 = args.includes('--ipv6');
const bind6 = opt('bind6', '::');
if (ipv6) {
  pending++;
  serve({ port: httpPort, host: bind6, ipv6Only: true });
}

const vip = opt('vip', '');
const sockets = [];
const echo = (type = 'udp4') => {
  const udp = dgram.createSocket({ type, reuseAddr: true, ipv6Only: type === 'udp6' });
  udp.on('message', (msg, rinfo) => {
    udp.send(Buffer.concat([Buffer.from(`${name}:`), msg]), rinfo.port, rinfo.address);
  });
  sockets.push(udp);
  return udp;
};
if (vip) {
  pending++;
  echo().bind(udpPort, vip, ready);
}
echo().bind(udpPort, bind, ready);
const vip6 = opt('vip6', '');
if (ipv6) {
  if (vip6) {
    pending++;
    echo('udp6').bind(udpPort, vip6, ready);
  }
  pending++;
  echo('udp6').bind(udpPort, bind6, ready);
}

const stop = () => { for (const s of servers) s.close(); for (const s of sockets) s.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
