// Cooked captures (tcpdump -i any) made into Ethernet frames, checked against
// an Ethernet capture of the same traffic taken at the same time (dumpcap on
// the two interfaces; fixtures/pcap-io/make-live-fixtures.sh), and the refusals
// on hand-made cooked headers; 802.1Q tags taken out of real tagged frames.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  openCapture,
} from '../../src/io/pcap-file.js';
import {
  ADAPTABLE_LINK_TYPES,
  adaptReason,
  sll2IfIndex,
  stripVlanTags,
  toEthernet,
} from '../../src/io/link-adapt.js';

const FIX = join(import.meta.dirname, '../../fixtures/pcap-io');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// the MACs make-live-fixtures.sh gave the director's two interfaces and their peers
const MAC_OUT = 0x020000000001;
const MAC_IN = 0x020000000002;
const CLIENT = '0200000000fe';
const RS = '020000001011';

interface Raw {
  linkType: number;
  ifName: string | undefined;
  bytes: Uint8Array;
}

function frames(file: string): Raw[] {
  const r = openCapture(join(FIX, file), { linkTypes: ADAPTABLE_LINK_TYPES, supported: 'test' });
  const out: Raw[] = [];
  while (r.next()) {
    const itf = r.interfaces[r.ifIndex]!;
    out.push({ linkType: itf.linkType, ifName: itf.name, bytes: r.buf.slice(r.off, r.off + r.capLen) });
  }
  r.close();
  return out;
}

function convert(f: Raw, hostMac: number): { len: number; bytes: Uint8Array } {
  const out = new Uint8Array(f.bytes.length + 16);
  const len = toEthernet(f.linkType, f.bytes, 0, f.bytes.length, out, 8, hostMac);
  return { len, bytes: len < 0 ? new Uint8Array(0) : out.slice(8, 8 + len) };
}

/** The frames of the Ethernet capture that arrived at the director (sent by its peers), as hex, sorted. */
function arrivedEthernet(): string[] {
  const eth = frames('dumpcap-nat.pcapng');
  expect(new Set(eth.map((f) => f.ifName))).toEqual(new Set(['dir-out', 'dir-in']));
  return eth.filter((f) => [CLIENT, RS].includes(hex(f.bytes.subarray(6, 12)))).map((f) => hex(f.bytes)).sort();
}

describe('Linux cooked captures to Ethernet, against dumpcap of the same traffic', () => {
  it('SLL2 (tcpdump -i any -y LINUX_SLL2): every frame that arrived becomes the frame dumpcap saw, byte for byte', () => {
    const cooked = frames('tcpdump-any-sll2.pcap');
    expect(cooked.every((f) => f.linkType === LINKTYPE_LINUX_SLL2)).toBe(true);
    // which Linux interface the client's and the real server's frames came in on
    const ifOf = (src: string): Set<number> =>
      new Set(cooked.filter((f) => hex(f.bytes.subarray(12, 18)) === src && f.bytes[10] !== 4).map((f) => sll2IfIndex(f.bytes, 0)));
    const [outIf] = [...ifOf(CLIENT)];
    const [inIf] = [...ifOf(RS)];
    expect([ifOf(CLIENT).size, ifOf(RS).size]).toEqual([1, 1]);
    expect(outIf).not.toBe(inIf);
    const got: string[] = [];
    const refused = new Map<string, number>();
    for (const f of cooked) {
      const mac = sll2IfIndex(f.bytes, 0) === outIf ? MAC_OUT : MAC_IN;
      const { len, bytes } = convert(f, mac);
      if (len < 0) refused.set(adaptReason(len), (refused.get(adaptReason(len)) ?? 0) + 1);
      else got.push(hex(bytes));
    }
    expect(got.sort()).toEqual(arrivedEthernet());
    // what the director's host sent itself is refused as outgoing, and only that
    const outgoing = cooked.filter((f) => f.bytes[10] === 4).length;
    expect(outgoing).toBeGreaterThan(5);
    expect(Object.fromEntries(refused)).toEqual({ 'sll-outgoing': outgoing });
  });

  it('SLL (tcpdump -i any): the same, the receiving MAC told by the sender (v1 records no interface)', () => {
    const cooked = frames('tcpdump-any-sll.pcap');
    expect(cooked.every((f) => f.linkType === LINKTYPE_LINUX_SLL)).toBe(true);
    const got: string[] = [];
    let outgoing = 0;
    for (const f of cooked) {
      const sender = hex(f.bytes.subarray(6, 12));
      const { len, bytes } = convert(f, sender === CLIENT ? MAC_OUT : MAC_IN);
      if (len < 0) {
        expect(adaptReason(len)).toBe('sll-outgoing');
        outgoing++;
      } else got.push(hex(bytes));
    }
    expect(outgoing).toBe(cooked.filter((f) => f.bytes[1] === 4).length);
    expect(got.sort()).toEqual(arrivedEthernet());
  });
});

/** A cooked v1 header plus payload: packet type, ARPHRD type, address length, protocol. */
function sll(pktType: number, haType: number, haLen: number, proto: number, payload: number[]): Raw {
  const b = new Uint8Array(16 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, pktType);
  dv.setUint16(2, haType);
  dv.setUint16(4, haLen);
  b.set([0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0xee, 0xee], 6);
  dv.setUint16(14, proto);
  b.set(payload, 16);
  return { linkType: LINKTYPE_LINUX_SLL, ifName: undefined, bytes: b };
}

/** The same fields in a cooked v2 header. */
function sll2(pktType: number, haType: number, haLen: number, proto: number, payload: number[], ifindex = 7): Raw {
  const b = new Uint8Array(20 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, proto);
  dv.setUint32(4, ifindex);
  dv.setUint16(8, haType);
  b[10] = pktType;
  b[11] = haLen;
  b.set([0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0xee, 0xee], 12);
  b.set(payload, 20);
  return { linkType: LINKTYPE_LINUX_SLL2, ifName: undefined, bytes: b };
}

const ipv4To = (d: number[]): number[] => [0x45, 0, 0, 20, 0, 0, 0, 0, 1, 17, 0, 0, 10, 0, 0, 1, ...d];
const ipv6To = (low: number[]): number[] => [0x60, ...new Array<number>(35).fill(0), ...low];

describe('cooked headers: destinations rebuilt, and the refusals', () => {
  for (const make of [sll, sll2]) {
    const v = make === sll ? 'SLL' : 'SLL2';
    it(`${v}: to this host, broadcast, IPv4 and IPv6 multicast`, () => {
      const host = convert(make(0, 1, 6, 0x0800, ipv4To([10, 0, 0, 2])), 0x02aabbccddee);
      expect(hex(host.bytes)).toBe('02aabbccddee' + '021122334455' + '0800' + hex(Uint8Array.from(ipv4To([10, 0, 0, 2]))));
      expect(hex(convert(make(1, 1, 6, 0x0806, [1, 2, 3]), 0).bytes.subarray(0, 6))).toBe('ffffffffffff');
      // 239.129.2.3 -> 01:00:5e:01:02:03 (the top bit of the second byte does not fit)
      expect(hex(convert(make(2, 1, 6, 0x0800, ipv4To([239, 129, 2, 3])), 0).bytes.subarray(0, 6))).toBe('01005e010203');
      expect(hex(convert(make(2, 1, 6, 0x86dd, ipv6To([0xff, 1, 2, 3])), 0).bytes.subarray(0, 6))).toBe('3333ff010203');
      // an 802.1Q tag libpcap put back into the cooked header stays in the frame
      const tagged = convert(make(0, 1, 6, 0x8100, [0x00, 0x0a, 0x08, 0x00, ...ipv4To([1, 2, 3, 4])]), 1);
      expect(hex(tagged.bytes.subarray(12, 18))).toBe('8100000a0800');
    });

    it(`${v}: outgoing, other host, not Ethernet, unknown multicast, truncated`, () => {
      const reason = (f: Raw): string => {
        const { len } = convert(f, 1);
        return len < 0 ? adaptReason(len) : `frame of ${len}`;
      };
      expect(reason(make(4, 1, 6, 0x0800, ipv4To([1, 1, 1, 1])))).toBe('sll-outgoing');
      expect(reason(make(3, 1, 6, 0x0800, ipv4To([1, 1, 1, 1])))).toBe('sll-other-host');
      expect(reason(make(0, 772, 6, 0x0800, ipv4To([127, 0, 0, 1])))).toBe('sll-not-ethernet'); // loopback
      expect(reason(make(0, 65534, 0, 0x0800, ipv4To([1, 1, 1, 1])))).toBe('sll-not-ethernet'); // tun
      expect(reason(make(0, 1, 6, 0x0004, [0x42, 0x42, 0x03]))).toBe('sll-not-ethernet'); // 802.2 LLC (STP)
      expect(reason(make(2, 1, 6, 0x88cc, [1, 2, 3]))).toBe('sll-unknown-multicast'); // LLDP
      expect(reason(make(2, 1, 6, 0x0800, [0x45, 0]))).toBe('sll-unknown-multicast'); // too short to read
      const cut = make(0, 1, 6, 0x0800, []);
      expect(reason({ ...cut, bytes: cut.bytes.subarray(0, cut.bytes.length - 1) })).toBe('sll-truncated');
      expect(reason(make(0, 1, 6, 0x0800, []))).toBe('frame of 14');
    });
  }

  it('reads the Linux interface index of an SLL2 frame', () => {
    expect(sll2IfIndex(sll2(0, 1, 6, 0x0800, [], 0x01020304).bytes, 0)).toBe(0x01020304);
  });

  it('copies Ethernet frames as they are', () => {
    const f = { linkType: LINKTYPE_ETHERNET, ifName: undefined, bytes: Uint8Array.from({ length: 60 }, (_, i) => i) };
    expect(hex(convert(f, 5).bytes)).toBe(hex(f.bytes));
  });
});

describe('stripVlanTags', () => {
  it('takes the tag out of real tagged frames (tcpdump of 802.1Q frames), leaving the frame untagged', () => {
    const tagged = frames('tcpdump-vlan.pcap');
    expect(tagged).toHaveLength(2);
    for (const f of tagged) {
      expect(hex(f.bytes.subarray(12, 14))).toBe('8100');
      const buf = new Uint8Array(f.bytes.length + 8);
      buf.set(f.bytes, 4);
      expect(stripVlanTags(buf, 4, f.bytes.length)).toBe(1);
      const untagged = buf.subarray(8, 4 + f.bytes.length);
      expect(hex(untagged)).toBe(hex(f.bytes.subarray(0, 12)) + hex(f.bytes.subarray(16)));
      expect(['0806', '0800']).toContain(hex(untagged.subarray(12, 14)));
    }
  });

  it('takes out stacked 802.1ad + 802.1Q tags, and nothing from untagged or too short frames', () => {
    const macs = Array.from({ length: 12 }, (_, i) => i + 1);
    const qinq = Uint8Array.from([...macs, 0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 10, 0x08, 0x00, 0x45, 0, 0, 0]);
    expect(stripVlanTags(qinq, 0, qinq.length)).toBe(2);
    expect(hex(qinq.subarray(8))).toBe(hex(Uint8Array.from([...macs, 0x08, 0x00, 0x45, 0, 0, 0])));
    const plain = Uint8Array.from([...macs, 0x08, 0x00, 0x45, 0, 0, 0, 0, 0]);
    expect(stripVlanTags(plain, 0, plain.length)).toBe(0);
    const short = Uint8Array.from([...macs, 0x81, 0x00, 0, 10]);
    expect(stripVlanTags(short, 0, short.length - 1)).toBe(0);
  });
});
