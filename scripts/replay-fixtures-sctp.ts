// The SCTP replay fixtures (nat-sctp, dr-sctp, tun-sctp), called by
// scripts/make-replay-fixtures.ts, which writes them with the others:
//
//   npx tsx scripts/make-replay-fixtures.ts nat-sctp dr-sctp tun-sctp
//
// This machine's kernel has no SCTP (no sctp module, socket(AF_INET,
// SOCK_STREAM, IPPROTO_SCTP) gives EPROTONOSUPPORT, in a namespace too), so
// no real SCTP client and server can talk through a lab director here; these
// captures stand in for one. As for the other cases, both captures are built
// with the packet builder from what each mode must do, never by running the
// director: NAT changes the address and port and carries a CRC32c computed
// afresh by the builder (src/wire/sctp.ts emitSctp); DR changes the MACs; TUN
// puts an IPIP header in front. One TTL less toward the real server in each
// mode, as everywhere. The association is the one of RFC 9260 section 5:
// INIT, INIT ACK (with a state cookie), COOKIE ECHO, COOKIE ACK, DATA and
// SACK both ways, HEARTBEAT, SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE.
// nat-sctp also holds a client DATA whose payload was damaged on the way
// (its CRC no longer matches): NAT drops it (sctp-bad-crc) rather than
// re-signing it, and the client's retransmission goes through.
import { eth, type SctpChunkOpts } from '../src/wire/builder.js';

export interface FrameS { t: number; port: number; frame: Uint8Array }
export interface CaseS {
  name: string;
  mode: string;
  about: string;
  conf: string;
  ports: string[];
  format: 'pcap' | 'pcapng';
  input: FrameS[];
  expected: FrameS[];
}

const CLIENT = '203.0.113.7';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const CPORT = 5000; // a port with no dissector behind it in Wireshark (36412, S1AP's, would be read as S1AP)
const CTAG = 0x5c0ffee1;
const STAG = 0x7ab1e5aa;
const COOKIE = 'state cookie: opaque to the client, 40 bytes';

interface Ends { smac: string; dmac: string; src: string; dst: string; sport: number; dport: number; ttl: number; id: number }

function sctp(e: Ends, vtag: number, chunks: SctpChunkOpts[]): Uint8Array {
  return eth({ src: e.smac, dst: e.dmac })
    .ipv4({ src: e.src, dst: e.dst, ttl: e.ttl, id: e.id, flags: 'DF' })
    .sctp({ sport: e.sport, dport: e.dport, vtag, chunks })
    .build();
}
function padded(f: Uint8Array): Uint8Array {
  if (f.length >= 60) return f;
  const p = new Uint8Array(60);
  p.set(f);
  return p;
}
function arpOut(mac: string, sip: string, tip: string): Uint8Array {
  return eth({ src: mac, dst: BCAST }).arp({ op: 'request', sha: mac, spa: sip, tha: '00:00:00:00:00:00', tpa: tip }).build();
}

type Who = 'c' | 's';
/** The association; `vtag` is the receiver's tag (0 on the INIT). */
const ASSOC: [Who, number, SctpChunkOpts[]][] = [
  ['c', 0, [{ type: 'INIT', initTag: CTAG, aRwnd: 106496, outStreams: 10, inStreams: 65535, initialTsn: 3000,
    params: [{ type: 12, value: [0, 5] }] }]], // supported address types: IPv4
  ['s', CTAG, [{ type: 'INIT ACK', initTag: STAG, aRwnd: 106496, outStreams: 10, inStreams: 10, initialTsn: 7000,
    params: [{ type: 7, value: COOKIE }] }]],
  ['c', STAG, [{ type: 'COOKIE ECHO', cookie: COOKIE }]],
  ['s', CTAG, [{ type: 'COOKIE ACK' }]],
  ['c', STAG, [{ type: 'DATA', tsn: 3000, streamId: 0, streamSeq: 0, ppid: 0, data: 'who serves this association?' }]],
  ['s', CTAG, [{ type: 'SACK', cumTsnAck: 3000, aRwnd: 106496 }, { type: 'DATA', tsn: 7000, streamId: 0, streamSeq: 0, ppid: 0, data: 'rs1' }]],
  ['c', STAG, [{ type: 'SACK', cumTsnAck: 7000, aRwnd: 106496 }]],
  ['c', STAG, [{ type: 'HEARTBEAT', info: 'heartbeat info, 20 B' }]],
  ['s', CTAG, [{ type: 'HEARTBEAT ACK', info: 'heartbeat info, 20 B' }]],
  ['c', STAG, [{ type: 'SHUTDOWN', cumTsnAck: 7000 }]],
  ['s', CTAG, [{ type: 'SHUTDOWN ACK' }]],
  ['c', STAG, [{ type: 'SHUTDOWN COMPLETE' }]],
];
/** Where the damaged DATA goes (before its retransmission, in nat-sctp): after the COOKIE ACK. */
const DAMAGED_AT = 4;

function natSctp(): CaseS {
  const M = { out: '02:00:00:00:00:01', in: '02:00:00:00:00:02', router: '02:00:00:00:00:fe', rs1: '02:00:00:00:10:11' };
  const conf = `# replay fixture: LVS-NAT, one SCTP association (the virtual port differs from the real server's: CRC32c recomputed)
port outside kind=memory mac=${M.out} addr=10.0.0.1/24
port inside  kind=memory mac=${M.in} addr=192.168.10.1/24
vip 10.0.0.100 on outside
route default via 10.0.0.254
neigh 10.0.0.254 ${M.router}
neigh 192.168.10.11 ${M.rs1}

-A --sctp-service 10.0.0.100:${CPORT} -s rr
-a --sctp-service 10.0.0.100:${CPORT} -r 192.168.10.11:${CPORT + 1} -m -w 1
`;
  const cIn: Ends = { smac: M.router, dmac: M.out, src: CLIENT, dst: '10.0.0.100', sport: 40000, dport: CPORT, ttl: 58, id: 0x500 };
  const cOut: Ends = { ...cIn, smac: M.in, dmac: M.rs1, dst: '192.168.10.11', dport: CPORT + 1, ttl: 57 };
  const sIn: Ends = { smac: M.rs1, dmac: M.in, src: '192.168.10.11', dst: CLIENT, sport: CPORT + 1, dport: 40000, ttl: 64, id: 0x600 };
  const sOut: Ends = { ...sIn, smac: M.out, dmac: M.router, src: '10.0.0.100', sport: CPORT, ttl: 63 };
  const input: FrameS[] = [];
  const expected: FrameS[] = [];
  let t = 0;
  ASSOC.forEach(([who, vtag, chunks], i) => {
    t += 10;
    if (i === DAMAGED_AT) {
      // one bit of the DATA's payload flipped on the way: the stored CRC no longer covers the bytes
      const bad = sctp(cIn, vtag, chunks);
      bad[bad.length - 5]! ^= 0x08;
      input.push({ t, port: 0, frame: bad });
      t += 10;
    }
    if (who === 'c') {
      input.push({ t, port: 0, frame: padded(sctp(cIn, vtag, chunks)) });
      if (i === 0) {
        expected.push({ t, port: 0, frame: arpOut(M.out, '10.0.0.1', '10.0.0.1') });
        expected.push({ t, port: 0, frame: arpOut(M.out, '10.0.0.100', '10.0.0.100') });
        expected.push({ t, port: 1, frame: arpOut(M.in, '192.168.10.1', '192.168.10.1') });
      }
      expected.push({ t, port: 1, frame: sctp(cOut, vtag, chunks) });
    } else {
      input.push({ t, port: 1, frame: padded(sctp(sIn, vtag, chunks)) });
      expected.push({ t, port: 0, frame: sctp(sOut, vtag, chunks) });
    }
  });
  return {
    name: 'nat-sctp', mode: 'NAT',
    about: 'one SCTP association from INIT to SHUTDOWN COMPLETE (RFC 9260 section 5), with HEARTBEAT and DATA both ways: address and port rewritten, the CRC32c recomputed over each packet; a client DATA damaged on the way (its CRC wrong) is dropped as `sctp-bad-crc`, never re-signed, and its retransmission goes through',
    conf, ports: ['outside', 'inside'], format: 'pcapng', input, expected,
  };
}

function drSctp(): CaseS {
  const M = { lan: '02:00:00:00:01:01', router: '02:00:00:00:01:fe', rs1: '02:00:00:00:01:11' };
  const conf = `# replay fixture: LVS-DR, the client's half of one SCTP association
port lan kind=memory mac=${M.lan} addr=10.1.0.2/24
vip 10.1.0.100 on lan
route default via 10.1.0.1
neigh 10.1.0.1 ${M.router}
neigh 10.1.0.11 ${M.rs1}

-A --sctp-service 10.1.0.100:${CPORT} -s rr
-a --sctp-service 10.1.0.100:${CPORT} -r 10.1.0.11 -g -w 1
`;
  const cIn: Ends = { smac: M.router, dmac: M.lan, src: CLIENT, dst: '10.1.0.100', sport: 40001, dport: CPORT, ttl: 58, id: 0x700 };
  const input: FrameS[] = [];
  const expected: FrameS[] = [];
  let t = 0;
  ASSOC.filter(([who]) => who === 'c').forEach(([, vtag, chunks], i) => {
    t += 10;
    input.push({ t, port: 0, frame: padded(sctp(cIn, vtag, chunks)) });
    if (i === 0) {
      expected.push({ t, port: 0, frame: arpOut(M.lan, '10.1.0.2', '10.1.0.2') });
      expected.push({ t, port: 0, frame: arpOut(M.lan, '10.1.0.100', '10.1.0.100') });
    }
    // the same packet to the real server's MAC, one TTL less; the SCTP packet and its CRC untouched
    expected.push({ t, port: 0, frame: sctp({ ...cIn, smac: M.lan, dmac: M.rs1, ttl: 57 }, vtag, chunks) });
  });
  return {
    name: 'dr-sctp', mode: 'DR',
    about: 'the client\'s half of one SCTP association (INIT, COOKIE ECHO, DATA, SACK, HEARTBEAT, SHUTDOWN, SHUTDOWN COMPLETE) sent on to the real server\'s MAC, the SCTP packet untouched',
    conf, ports: ['lan'], format: 'pcap', input, expected,
  };
}

function tunSctp(): CaseS {
  const M = { up: '02:00:00:00:02:01', gw: '02:00:00:00:02:f1', router: '02:00:00:00:02:fe' };
  const conf = `# replay fixture: LVS-TUN, the client's half of one SCTP association in IPIP
port uplink kind=memory mac=${M.up} addr=172.16.0.2/24 mtu=1500
vip 172.16.0.100 on uplink
route 10.20.0.0/16 via 172.16.0.1 dev uplink
route default via 172.16.0.254
neigh 172.16.0.1 ${M.gw}
neigh 172.16.0.254 ${M.router}

-A --sctp-service 172.16.0.100:${CPORT} -s rr
-a --sctp-service 172.16.0.100:${CPORT} -r 10.20.1.5 -i -w 1
`;
  const cIn: Ends = { smac: M.router, dmac: M.up, src: CLIENT, dst: '172.16.0.100', sport: 40002, dport: CPORT, ttl: 58, id: 0x800 };
  const input: FrameS[] = [];
  const expected: FrameS[] = [];
  let t = 0;
  ASSOC.filter(([who]) => who === 'c').forEach(([, vtag, chunks], i) => {
    t += 10;
    input.push({ t, port: 0, frame: padded(sctp(cIn, vtag, chunks)) });
    if (i === 0) {
      expected.push({ t, port: 0, frame: arpOut(M.up, '172.16.0.2', '172.16.0.2') });
      expected.push({ t, port: 0, frame: arpOut(M.up, '172.16.0.100', '172.16.0.100') });
    }
    const outer = eth({ src: M.up, dst: M.gw })
      .ipip({ src: '172.16.0.2', dst: '10.20.1.5', ttl: 57, id: i + 1, flags: 'DF' })
      .payload(sctp({ ...cIn, ttl: 57 }, vtag, chunks).subarray(14))
      .build();
    expected.push({ t, port: 0, frame: outer });
  });
  return {
    name: 'tun-sctp', mode: 'TUN',
    about: 'the client\'s half of one SCTP association in IPIP to the real server (outer ids 1..), the inner SCTP packet untouched but for one TTL',
    conf, ports: ['uplink'], format: 'pcap', input, expected,
  };
}

export function sctpCases(): CaseS[] {
  return [natSctp(), drSctp(), tunSctp()];
}
