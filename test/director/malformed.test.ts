// Damaged frames at each layer are dropped under their own reason and never
// throw; random bytes never throw either, and whatever IPv4 the director
// does send for them carries a valid header checksum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Director } from '../../src/director/director.js';
import type { DropReason } from '../../src/model/verdict.js';
import { checksum } from '../../src/wire/checksum.js';
import { eth } from '../../src/wire/builder.js';
import { expectDropped, Rig } from './harness.js';
import { pad60, tcpFrame } from './frames.js';
import { CLIENT, DR, drConfig, NAT, natConfig } from './topo.js';

const cfg = natConfig({
  services: [
    { port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] },
    { proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 53 }] },
  ],
});
const hdr = { src: NAT.routerMac, dst: NAT.outMac };
const ipTo = { src: CLIENT, dst: NAT.vip };
const syn = tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 1, dport: 80, flags: 'S' });

function cut(f: Uint8Array, n: number): Uint8Array {
  return f.slice(0, n);
}
function poke(f: Uint8Array, off: number, v: number): Uint8Array {
  const c = f.slice();
  c[off] = v;
  return c;
}

const cases: [string, Uint8Array, DropReason][] = [
  ['a 10-byte runt', new Uint8Array(10), 'malformed-ethernet'],
  ['a unicast frame for another MAC', tcpFrame({ smac: NAT.routerMac, dmac: '02:12:34:56:78:9a', src: CLIENT, dst: NAT.vip, sport: 1, dport: 80, flags: 'S' }), 'not-for-us'],
  ['a VLAN-tagged frame', eth(hdr).vlan(5).ipv4(ipTo).tcp({ sport: 1, dport: 80, flags: 'S' }).build(), 'vlan-tagged'],
  ['a non-IP ethertype (LLDP)', eth({ ...hdr, type: 0x88cc }).payload(new Uint8Array(40)).build(), 'not-ip'],
  ['IPv6 with a header of zeros (version 0)', eth({ ...hdr, type: 0x86dd }).payload(new Uint8Array(40)).build(), 'malformed-ip'],
  ['ARP cut short', cut(eth(hdr).arp({ sha: NAT.routerMac, spa: NAT.router, tpa: NAT.vip }).build(), 30), 'malformed-arp'],
  ['IPv4 cut inside its header', cut(syn, 14 + 12), 'malformed-ip'],
  ['IPv4 version 6 in an IPv4 ethertype', poke(syn, 14, 0x65), 'malformed-ip'],
  ['IPv4 header length 4 words', eth(hdr).ipv4({ ...ipTo, ihl: 4 }).tcp({ sport: 1, dport: 80, flags: 'S' }).build(), 'malformed-ip'],
  ['IPv4 total length beyond the frame', eth(hdr).ipv4({ ...ipTo, totalLength: 400 }).tcp({ sport: 1, dport: 80, flags: 'S' }).build(), 'malformed-ip'],
  ['IPv4 bad header checksum', eth(hdr).ipv4({ ...ipTo, checksum: 0xdead }).tcp({ sport: 1, dport: 80, flags: 'S' }).build(), 'bad-ip-checksum'],
  ['TCP header cut short', eth(hdr).ipv4({ ...ipTo, protocol: 6 }).payload(new Uint8Array(12)).build(), 'malformed-l4'],
  ['TCP data offset past the segment', eth(hdr).ipv4(ipTo).tcp({ sport: 1, dport: 80, flags: 'S', dataOffset: 15 }).build(), 'malformed-l4'],
  ['UDP header cut short', eth(hdr).ipv4({ ...ipTo, protocol: 17 }).payload(new Uint8Array(6)).build(), 'malformed-l4'],
  ['UDP length larger than the datagram', eth(hdr).ipv4(ipTo).udp({ sport: 1, dport: 53, payload: 'abc', length: 200 }).build(), 'malformed-l4'],
  ['ICMP of 4 bytes', eth(hdr).ipv4({ ...ipTo, protocol: 1 }).payload([8, 0, 0, 0]).build(), 'malformed-icmp'],
  ['ICMP error quoting less than a header', eth(hdr).ipv4(ipTo).icmp({ type: 3, code: 3 }).payload(new Uint8Array([0x45, 0, 0, 28])).build(), 'malformed-icmp'],
  ['a source address that is the VIP', tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: NAT.vip, dst: NAT.vip, sport: 1, dport: 80, flags: 'S' }), 'martian-source'],
  ['a TCP ACK for no connection', tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 1, dport: 80, flags: 'A' }), 'no-conn-not-syn'],
  ['TCP to the director itself', tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.outAddr, sport: 1, dport: 22, flags: 'S' }), 'to-director-unhandled'],
  ['broadcast IPv4 not for the director', eth({ src: NAT.routerMac, dst: 'ff:ff:ff:ff:ff:ff' }).ipv4({ src: CLIENT, dst: NAT.rs1 }).udp({ sport: 1, dport: 2 }).build(), 'not-for-us'],
];

describe('malformed and unwanted frames', () => {
  for (const [what, frame, reason] of cases) {
    it(`${what}: dropped as ${reason}`, () => {
      const rig = new Rig(cfg);
      // as given: a NIC would pad to 60 bytes, but these are about what the parser sees
      expect(() => rig.in(0, frame, 1)).not.toThrow();
      const out = rig.sent;
      expectDropped(rig, out, reason);
    });
  }
});

describe('random input', () => {
  function ipChecksumsValid(frames: { bytes: Uint8Array }[]): boolean {
    return frames.every((f) => {
      if (f.bytes.length < 34 || f.bytes[12] !== 0x08 || f.bytes[13] !== 0x00) return true;
      const ihl = (f.bytes[14]! & 15) * 4;
      return checksum(f.bytes, 14, ihl) === 0;
    });
  }

  it('random bytes on either port never throw; frames for another MAC are all dropped as not-for-us', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.integer({ min: 0, max: 1 }), (bytes, port) => {
        const rig = new Rig(cfg);
        rig.in(port, bytes, 1);
        const forUs = bytes.length >= 14 &&
          (bytes.subarray(0, 6).every((b) => b === 0xff) ||
            bytes.subarray(0, 6).every((b, i) => b === [2, 0, 0, 0, 0, port + 1][i]));
        if (bytes.length < 14) return rig.d.drops.get('malformed-ethernet') === 1;
        if (!forUs) return rig.d.drops.get('not-for-us') === 1 && rig.sent.length === 0;
        return ipChecksumsValid(rig.sent);
      }),
      { numRuns: 500 },
    );
  });

  it('valid frames with random bytes after the Ethernet header never throw, and whatever IPv4 goes out has a valid header', () => {
    const rig = new Rig(cfg);
    rig.in(0, pad60(syn), 0); // a conn, so some random packets can hit it
    let n = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.constantFrom(0x0800, 0x0806), fc.integer({ min: 0, max: 1 }), (body, type, port) => {
        const f = eth({ src: NAT.routerMac, dst: port === 0 ? NAT.outMac : NAT.inMac, type }).payload(body).build();
        const held = () => rig.d.frags.heldCount + rig.d.host.neigh.entries().reduce((a, e) => a + e.held, 0);
        const mark = rig.sent.length;
        const before = [rig.d.drops.total, held()];
        rig.in(port, f, ++n);
        const out = rig.sent.slice(mark);
        // every IPv4 frame is accounted for: sent on, answered, held, or dropped under a reason
        const accounted = type === 0x0806 || out.length > 0 || rig.d.drops.total === before[0]! + 1 || held() === before[1]! + 1;
        return accounted && ipChecksumsValid(out);
      }),
      { numRuns: 1000 },
    );
    expect(rig.d.counters.framesIn).toBe(n + 1);
  });

  it('mutations of a valid SYN, ICMP error and fragment never throw and emit only valid IPv4 headers', () => {
    const seeds = [
      pad60(syn),
      eth(hdr).ipv4(ipTo).icmp({ type: 3, code: 3 }).ipv4({ src: NAT.vip, dst: CLIENT }).udp({ sport: 53, dport: 9, payload: 'abcd' }).build(),
      eth(hdr).ipv4({ ...ipTo, flags: 'MF', id: 3, protocol: 17 }).payload(new Uint8Array(24)).build(),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (seed, muts) => {
        const f = seed.slice();
        for (const [at, v] of muts) f[14 + (at % (f.length - 14))] = v;
        const rig = new Rig(cfg);
        rig.in(0, f, 1);
        return ipChecksumsValid(rig.sent);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('config refused by the director', () => {
  it('a DR real server that is not on a connected subnet is refused, naming the reason', () => {
    const bad = drConfig({ services: [{ port: 80, dests: [{ addr: '10.9.9.9', port: 80 }] }] });
    expect(() => new Director(bad, { send: () => {} })).toThrow(/10\.9\.9\.9 uses direct routing.*on no network directly connected/);
  });

  it('the same real server on the connected subnet is accepted', () => {
    const ok = drConfig({ services: [{ port: 80, dests: [{ addr: DR.rs1, port: 80 }] }] });
    expect(() => new Director(ok, { send: () => {} })).not.toThrow();
  });
});
