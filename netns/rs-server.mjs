#!/usr/bin/env node
// A lab real server: HTTP that answers with the server's name, and a UDP echo
// that prefixes replies with the name, so a client can tell who answered.
// Plain JS so it starts fast. Usage:
//   node netns/rs-server.mjs --name rs1 [--http 80] [--udp 7] [--bind 0.0.0.0]
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

const server = http.createServer((req, res) => {
  const body = `${name}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-real-server': name });
  res.end(body);
});
server.keepAliveTimeout = 1000;
server.listen(httpPort, bind, ready);

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  udp.send(Buffer.concat([Buffer.from(`${name}:`), msg]), rinfo.port, rinfo.address);
});
udp.bind(udpPort, bind, ready);

const stop = () => { server.close(); udp.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
