// The IPv6 host's tables on their own: own addresses by class and port
// (fold-hashed, confirmed on all four words), routes by longest prefix with
// the next hop, and the neighbour cache's life (hold, learn, release, give up).
import { describe, expect, it } from 'vitest';
import { ADDR_LOCAL, ADDR_REAL_SERVER, ADDR_VIP } from '../../src/net/addr-table.js';
import { Addr6Table } from '../../src/net/addr6-table.js';
import { NeighbourTable6 } from '../../src/net/neighbours6.js';
import { RouteTable6 } from '../../src/net/routes6.js';
import { PLAIN_FRAME } from '../../src/model/frame.js';
import { ip6Fold, ip6ToString, parseIp6 } from '../../src/wire/addr6.js';

const a = (s: string) => parseIp6(s);

describe('Addr6Table', () => {
  it('classes and ports; addresses with the same fold are told apart', () => {
    const t = new Addr6Table(2);
    const x = a('2001:db8::1');
    // same XOR fold, another address
    const y = a('2001:db8:0:1::1:0');
    y[3] = (x[0]! ^ x[1]! ^ x[2]! ^ x[3]! ^ y[0]! ^ y[1]! ^ y[2]!) >>> 0;
    expect(ip6Fold(y)).toBe(ip6Fold(x));
    t.add(x, ADDR_LOCAL, 1);
    t.add(y, ADDR_VIP, 0);
    for (let i = 0; i < 40; i++) t.add(a(`2001:db8:9::${i + 1}`), ADDR_REAL_SERVER); // grows
    expect([t.classOf(x), t.localPortOf(x), t.vipPortOf(x)]).toEqual([ADDR_LOCAL, 1, -1]);
    expect([t.classOf(y), t.localPortOf(y), t.vipPortOf(y)]).toEqual([ADDR_VIP, -1, 0]);
    expect(t.classOf(a('2001:db8:9::7'))).toBe(ADDR_REAL_SERVER);
    expect(t.classOf(a('2001:db8::2'))).toBe(0);
    t.clearClass(ADDR_REAL_SERVER);
    expect([t.classOf(a('2001:db8:9::7')), t.classOf(x), t.size]).toEqual([0, ADDR_LOCAL, 2]);
  });
});

describe('RouteTable6', () => {
  it('longest prefix wins; connected routes give the destination as next hop', () => {
    const r = new RouteTable6();
    r.add(a('::'), 0, a('fe80::1'), 0);
    r.add(a('2001:db8:1::'), 64, null, 1);
    r.add(a('2001:db8::'), 32, a('2001:db8:1::fe'), 1);
    r.add(a('2001:db8:1:0:8000::'), 65, null, 2);
    const hop = (s: string) => (r.lookup(a(s)) ? `${r.port} ${ip6ToString(r.nextHop)}` : 'none');
    expect(hop('2001:db8:1::5')).toBe('1 2001:db8:1::5');
    expect(hop('2001:db8:1:0:8000::5')).toBe('2 2001:db8:1:0:8000::5');
    expect(hop('2001:db8:77::5')).toBe('1 2001:db8:1::fe');
    expect(hop('2a00::1')).toBe('0 fe80::1');
    const empty = new RouteTable6();
    expect(empty.lookup(a('2001:db8::1'))).toBe(false);
  });
});

describe('NeighbourTable6', () => {
  it('holds frames while soliciting, releases them on learning, gives up after the retries', () => {
    const sent: string[] = [];
    const asked: string[] = [];
    let dropped = 0;
    const n = new NeighbourTable6({
      send: (port, buf) => sent.push(`${port}:${buf[0]!.toString(16)}`),
      solicit: (port, t) => asked.push(`${port} ${ip6ToString(t)}`),
      dropUnresolved: (k) => { dropped += k; },
    }, { queue: 2, retries: 3, retryMs: 1000, reachableMs: 60_000 });
    const rs = a('2001:db8::11');
    const frame = new Uint8Array(20);
    expect(n.lookup(rs, 0, 0)).toBe(-1);
    expect(n.hold(rs, 0, 1, frame, 0, 20, PLAIN_FRAME, 0)).toBe(true);
    expect(n.hold(rs, 0, 1, frame, 0, 20, PLAIN_FRAME, 1)).toBe(true);
    expect(n.hold(rs, 0, 1, frame, 0, 20, PLAIN_FRAME, 2)).toBe(false); // queue full
    expect(asked).toEqual(['1 2001:db8::11']);
    n.learn(rs, 0, 0xaa0000000011, 1, 5);
    expect(sent).toEqual(['1:aa', '1:aa']);
    expect(n.lookup(rs, 0, 10)).toBe(0xaa0000000011);
    expect(n.lookup(rs, 0, 60_006)).toBe(-1); // stale: resolve again
    const other = a('2001:db8::12');
    n.hold(other, 0, 0, frame, 0, 20, PLAIN_FRAME, 100);
    n.tick(1100);
    n.tick(2100);
    n.tick(3100);
    expect(asked.filter((x) => x.endsWith('::12'))).toHaveLength(3);
    expect(dropped).toBe(1);
    n.addPermanent(other, 0x020000000012, 0);
    expect(n.lookup(other, 0, 1e9)).toBe(0x020000000012);
    n.learn(other, 0, 0x0200000000ff, 0, 5);
    expect(n.lookup(other, 0, 5)).toBe(0x020000000012); // permanent stays
  });
});
