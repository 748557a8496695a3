// VRRP between in-memory directors on one LAN, on a clock the test moves:
// the election (higher priority wins, the address breaks a tie), the
// master-down timer with its skew, preemption on, off and delayed, priority
// 0 on shutdown, fault when the port cannot send; what each state means for
// the VIPs (ARP answered only by the master, gratuitous ARP on takeover);
// the adverts as keepalived sends them (TTL 255, TOS 0xc0, the port's own
// MAC and primary address) and keepalived's own adverts accepted, from the
// captures in fixtures/wire/keepalived.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VrrpRouter } from '../../../src/control/vrrp/router.js';
import type { VrrpInstanceConfig } from '../../../src/model/ha.js';
import type { DirectorConfig } from '../../../src/model/config.js';
import { readCapture } from '../../../src/io/pcap-file.js';
import { ARP_OP_REPLY, ARP_OP_REQUEST } from '../../../src/wire/arp.js';
import { parseArp } from '../../../src/wire/arp.js';
import { eth } from '../../../src/wire/builder.js';
import { parseIpv4 } from '../../../src/wire/ipv4.js';
import { parseVrrp, VRRP_GROUP_V4 } from '../../../src/wire/vrrp.js';
import { Rig, type Frame } from '../../director/harness.js';
import { ip, mac, NAT, natConfig } from '../../director/topo.js';

const OUT = 0;

interface Node { name: string; rig: Rig; vrrp: VrrpRouter; addr: string; mac: string; txErr: number }

function director(n: number, vrrp: Partial<VrrpInstanceConfig>, opts: { garpDelayMs?: number } = {}): Node {
  const cfg: DirectorConfig = natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 80 }] }] });
  const addr = `10.0.0.${n}`;
  const m = `02:00:00:00:0${n}:01`;
  cfg.ports = cfg.ports.map((p, i) => ({ ...p, mac: mac(i === 0 ? m : `02:00:00:00:0${n}:02`), addrs: [{ addr: ip(i === 0 ? addr : `192.168.10.${n}`), prefix: 24 }] }));
  cfg.vips.push({ addr: ip('192.168.10.254'), port: 'inside' });
  const rig = new Rig(cfg);
  const node: Node = { name: `d${n}`, rig, vrrp: undefined as unknown as VrrpRouter, addr, mac: m, txErr: 0 };
  node.vrrp = new VrrpRouter(rig.d, [{
    name: 'VI_1', vrid: 51, priority: 100, version: 3, intervalCs: 100, preempt: true, preemptDelayMs: 0, port: 'outside',
    addrs: [ip(NAT.vip)], excluded: [ip('192.168.10.254')], garpRepeat: 2, garpDelayMs: opts.garpDelayMs ?? 5000, ...vrrp,
  }], undefined, () => node.txErr);
  return node;
}

/** One LAN of directors: multicast frames a director sends on its outside port reach the others' outside ports. */
class Lan {
  readonly nodes: Node[];
  now = 1_000_000;
  /** Everything sent on the LAN (outside ports), with its sender. */
  readonly wire: { from: string; frame: Frame; at: number }[] = [];
  private marks = new Map<Node, number>();

  constructor(...nodes: Node[]) {
    this.nodes = nodes;
    for (const n of nodes) this.marks.set(n, 0);
  }

  start(n: Node): void {
    if (!this.nodes.includes(n)) this.nodes.unshift(n);
    if (!this.marks.has(n)) this.marks.set(n, n.rig.sent.length);
    n.vrrp.start(this.now);
    this.flush();
  }

  /** Moves the clock to `t`, firing every timer on the way (in 10 ms steps) and delivering what was sent. */
  runTo(t: number): void {
    while (this.now < t) {
      this.now = Math.min(t, this.now + 10);
      for (const n of this.nodes) n.vrrp.tick(this.now);
      this.flush();
    }
  }

  run(ms: number): void {
    this.runTo(this.now + ms);
  }

  /** Delivers multicast/broadcast frames each director sent on its outside port to the other directors. */
  flush(): void {
    for (let again = true; again;) {
      again = false;
      for (const n of this.nodes) {
        const sent = n.rig.sent;
        for (let i = this.marks.get(n)!; i < sent.length; i++) {
          const f = sent[i]!;
          this.marks.set(n, i + 1);
          if (f.port !== OUT) continue;
          this.wire.push({ from: n.name, frame: f, at: this.now });
          if ((f.bytes[0]! & 1) === 0) continue;
          for (const o of this.nodes) if (o !== n && o.vrrp.instance('VI_1')!.state !== 'init') { o.rig.in(OUT, f.bytes, this.now); again = true; }
        }
      }
    }
  }

  state(n: Node): string {
    return n.vrrp.instance('VI_1')!.state;
  }

  adverts(from?: string): { from: string; at: number; prio: number; ttl: number; tos: number; src: number; srcMac: string }[] {
    return this.wire.filter((w) => (from === undefined || w.from === from) && w.frame.bytes[23] === 112).map((w) => {
      const h = parseIpv4(w.frame.bytes, 14);
      const v = parseVrrp(w.frame.bytes, 34, h.totalLength - 20);
      return { from: w.from, at: w.at, prio: v.priority, ttl: h.ttl, tos: h.tos, src: h.src, srcMac: Array.from(w.frame.bytes.subarray(6, 12), (b) => b.toString(16).padStart(2, '0')).join(':') };
    });
  }
}

/** Does `n` answer ARP for the VIP? */
function answersArp(n: Node, vip: string = NAT.vip, port = OUT): boolean {
  const req = eth({ src: NAT.routerMac, dst: 'ff:ff:ff:ff:ff:ff' }).arp({ op: ARP_OP_REQUEST, sha: NAT.routerMac, spa: NAT.router, tpa: vip }).build();
  return n.rig.in(port, req, 0).some((f) => f.bytes[12] === 0x08 && f.bytes[13] === 0x06 && parseArp(f.bytes, 14).op === ARP_OP_REPLY);
}

describe('election', () => {
  it('alone: backup for Master_Down_Interval (3 intervals + skew), then master: advert, gratuitous ARP for every address, VIPs answered', () => {
    const a = director(2, { priority: 100 });
    const lan = new Lan(a);
    const t0 = lan.now;
    lan.start(a);
    expect(lan.state(a)).toBe('backup');
    expect(answersArp(a)).toBe(false);
    expect(answersArp(a, '192.168.10.254', 1)).toBe(false);
    // 3 * 1000 + (256 - 100) * 1000 / 256 = 3609.375 ms
    lan.runTo(t0 + 3600);
    expect(lan.state(a)).toBe('backup');
    lan.runTo(t0 + 3620);
    expect(lan.state(a)).toBe('master');
    expect(a.vrrp.instance('VI_1')!.lastTransition!.reason).toMatch(/^master down: no advertisement for 3\.609 s/);
    expect(answersArp(a)).toBe(true);
    expect(answersArp(a, '192.168.10.254', 1)).toBe(true);
    // the advert, then 2 gratuitous ARPs for the VIP on the outside port (the inside gateway's go out inside)
    const first = a.rig.sent.filter((f) => f.port === OUT).slice(0, 3);
    expect(first.map((f) => (f.bytes[23] === 112 && f.bytes[12] === 8 ? 'vrrp' : parseArp(f.bytes, 14).tpa === ip(NAT.vip) ? 'garp' : '?'))).toEqual(['vrrp', 'garp', 'garp']);
    expect(a.rig.sent.filter((f) => f.port === 1 && f.bytes[13] === 6 && parseArp(f.bytes, 14).op === ARP_OP_REQUEST).map((f) => parseArp(f.bytes, 14).spa)).toEqual([ip('192.168.10.254'), ip('192.168.10.254')]);
    // adverts every second, as keepalived sends them
    lan.run(3000);
    const ads = lan.adverts('d2');
    expect(ads.map((x) => x.at - ads[0]!.at)).toEqual([0, 1000, 2000, 3000]);
    expect(ads[0]).toMatchObject({ prio: 100, ttl: 255, tos: 0xc0, src: ip('10.0.0.2'), srcMac: '02:00:00:00:02:01' });
    expect(Array.from(first[0]!.bytes.subarray(0, 6))).toEqual([1, 0, 0x5e, 0, 0, 0x12]);
    // the second round of gratuitous ARP after garp_delay
    const garps = () => a.rig.sent.filter((f) => f.port === OUT && f.bytes[13] === 6 && parseArp(f.bytes, 14).op === ARP_OP_REQUEST).length;
    const before = garps();
    lan.run(2000);
    expect(garps()).toBe(before + 2);
  });

  it('two: the higher priority becomes master, the other stays backup; equal priorities: the higher address wins', () => {
    const a = director(2, { priority: 150 });
    const b = director(3, { priority: 100 });
    const lan = new Lan(a, b);
    lan.start(a);
    lan.start(b);
    lan.run(10_000);
    expect([lan.state(a), lan.state(b)]).toEqual(['master', 'backup']);
    expect([answersArp(a), answersArp(b)]).toEqual([true, false]);
    expect(b.vrrp.status()[0]!.master).toBe('10.0.0.2');

    const c = director(2, { priority: 100 });
    const e = director(3, { priority: 100 });
    const lan2 = new Lan(c, e);
    lan2.start(c);
    lan2.start(e);
    lan2.run(10_000);
    expect([lan2.state(c), lan2.state(e)]).toEqual(['backup', 'master']);
  });

  it('the master dies (no priority 0): the backup takes over one Master_Down_Interval after the last advert', () => {
    const a = director(2, { priority: 200 });
    const b = director(3, { priority: 100 });
    const lan = new Lan(a, b);
    lan.start(a);
    lan.start(b);
    lan.run(5000);
    expect(lan.state(a)).toBe('master');
    const last = lan.adverts('d2').at(-1)!.at;
    // a is gone: its timers stop, nothing more from it
    lan.nodes.splice(0, 1);
    lan.run(5000);
    expect(lan.state(b)).toBe('master');
    const took = b.vrrp.instance('VI_1')!.lastTransition!.at;
    expect(took - last).toBeGreaterThanOrEqual(3609);
    expect(took - last).toBeLessThanOrEqual(3620);
    expect(answersArp(b)).toBe(true);
  });

  it('shutdown: the master sends priority 0; the backup takes over after only the skew time', () => {
    const a = director(2, { priority: 200 });
    const b = director(3, { priority: 100 });
    const lan = new Lan(a, b);
    lan.start(a);
    lan.start(b);
    lan.run(5000);
    const t = lan.now;
    a.vrrp.stop(t);
    lan.flush();
    expect(lan.adverts('d2').at(-1)!.prio).toBe(0);
    expect(answersArp(a)).toBe(false);
    lan.nodes.splice(0, 1);
    lan.run(1000);
    expect(lan.state(b)).toBe('master');
    // skew: (256 - 100) / 256 s
    expect(b.vrrp.instance('VI_1')!.lastTransition!.at - t).toBeLessThanOrEqual(620);
    expect(b.vrrp.instance('VI_1')!.lastTransition!.reason).toBe('10.0.0.2 gave up being master (priority 0), taken over after the skew time 0.609 s');
  });
});

describe('preemption', () => {
  function comeBack(preempt: boolean, preemptDelayMs = 0): { lan: Lan; a: Node; b: Node; back: number } {
    const b = director(3, { priority: 100 });
    const lan = new Lan(b);
    lan.start(b);
    lan.run(5000);
    expect(lan.state(b)).toBe('master');
    const a = director(2, { priority: 200, preempt, preemptDelayMs });
    const back = lan.now;
    lan.start(a);
    return { lan, a, b, back };
  }

  it('on: the higher priority coming back takes over after its own Master_Down_Interval', () => {
    const { lan, a, b, back } = comeBack(true);
    lan.run(10_000);
    expect([lan.state(a), lan.state(b)]).toEqual(['master', 'backup']);
    const took = a.vrrp.instance('VI_1')!.lastTransition!.at - back;
    // 3 s + (256 - 200) / 256 s: lower-priority adverts are discarded meanwhile
    expect(took).toBeGreaterThanOrEqual(3218);
    expect(took).toBeLessThanOrEqual(3230);
    expect(b.vrrp.instance('VI_1')!.lastTransition!.reason).toMatch(/higher priority 200/);
    expect(a.vrrp.instance('VI_1')!.lastTransition!.reason).toBe('preempting 10.0.0.3: its priority 100 is lower than ours 200');
    expect([answersArp(a), answersArp(b)]).toEqual([true, false]);
  });

  it('off: it stays backup behind the lower-priority master', () => {
    const { lan, a, b } = comeBack(false);
    lan.run(20_000);
    expect([lan.state(a), lan.state(b)]).toEqual(['backup', 'master']);
  });

  it('with a preempt delay: it waits that long after the first lower advert, then takes over', () => {
    const { lan, a, back } = comeBack(true, 15_000);
    lan.run(14_000);
    expect(lan.state(a)).toBe('backup');
    lan.run(6000);
    expect(lan.state(a)).toBe('master');
    const took = a.vrrp.instance('VI_1')!.lastTransition!.at - back;
    expect(took).toBeGreaterThan(15_000);
    expect(took).toBeLessThan(15_000 + 3300);
    expect(a.vrrp.instance('VI_1')!.lastTransition!.reason).toBe('preempting 10.0.0.3: its priority 100 is lower than ours 200, after the preempt delay of 15 s');
  });
});

describe('what it refuses, and fault', () => {
  it('adverts with another address list, another version, or (v2) another interval are refused and counted', () => {
    const a = director(2, { priority: 100 });
    const lan = new Lan(a);
    lan.start(a);
    const send = (o: { addrs?: string[]; version?: 2 | 3; interval?: number }) => {
      const f = eth({ src: '02:00:00:00:09:01', dst: '01:00:5e:00:00:12' }).ipv4({ src: '10.0.0.9', dst: '224.0.0.18', ttl: 255, tos: 0xc0 })
        .vrrp({ vrid: 51, priority: 250, version: o.version ?? 3, interval: o.interval ?? 100, addrs: o.addrs ?? [NAT.vip] }).build();
      a.rig.in(OUT, f, lan.now);
    };
    send({ addrs: [NAT.vip, '10.0.0.101'] });
    send({ version: 2, interval: 1 });
    lan.run(5000);
    expect(lan.state(a)).toBe('master');
    expect(a.vrrp.status()[0]!.counters.refused).toEqual({ 'address-mismatch': 1, 'version 2 (ours 3)': 1 });
    // a good one with a higher priority: a steps down
    send({});
    expect(lan.state(a)).toBe('backup');

    const v2 = director(4, { priority: 100, version: 2, intervalCs: 200 });
    const lan2 = new Lan(v2);
    lan2.start(v2);
    const f = eth({ src: '02:00:00:00:09:01', dst: '01:00:5e:00:00:12' }).ipv4({ src: '10.0.0.9', dst: '224.0.0.18', ttl: 255 })
      .vrrp({ vrid: 51, priority: 250, version: 2, interval: 1, addrs: [NAT.vip] }).build();
    v2.rig.in(OUT, f, lan2.now);
    expect(v2.vrrp.status()[0]!.counters.refused).toEqual({ 'interval-mismatch': 1 });
  });

  it('a port that cannot send: fault (addresses given up), then backup when it can again', () => {
    const a = director(2, { priority: 100 });
    const lan = new Lan(a);
    lan.start(a);
    lan.run(5000);
    expect(lan.state(a)).toBe('master');
    // the next advert fails: the link is down
    a.rig.d.host.emit = ((orig) => function (this: unknown, ...args: Parameters<typeof orig>) {
      a.txErr++;
      return orig.apply(this, args);
    })(a.rig.d.host.emit.bind(a.rig.d.host));
    lan.run(1100);
    expect(lan.state(a)).toBe('fault');
    expect(answersArp(a)).toBe(false);
    expect(a.vrrp.instance('VI_1')!.lastTransition!.reason).toMatch(/cannot send/);
    // the link comes back: the probe goes through, backup, then master again
    a.rig.d.host.emit = Object.getPrototypeOf(a.rig.d.host).emit.bind(a.rig.d.host);
    lan.run(1100);
    expect(lan.state(a)).toBe('backup');
    lan.run(4000);
    expect(lan.state(a)).toBe('master');
  });
});

describe('keepalived 2.2.7 on the wire', () => {
  const frames = (name: string) => readCapture(join(import.meta.dirname, '../../../fixtures/wire/keepalived', name)).frames.map((f) => f.data);

  for (const [file, version, vips] of [['vrrp-v2.pcap', 2, ['10.77.0.100']], ['vrrp-v3.pcap', 3, ['10.77.0.100', '10.77.0.101']]] as const) {
    it(`${file}: a tapvs backup of lower priority follows keepalived's adverts, and takes over on its priority 0`, () => {
      const cfg = natConfig({ services: [] });
      cfg.ports[0] = { ...cfg.ports[0]!, addrs: [{ addr: ip('10.77.0.2'), prefix: 24 }] };
      cfg.vips = vips.map((v) => ({ addr: ip(v), port: 'outside' }));
      cfg.routes = [];
      cfg.neighbours = [];
      const rig = new Rig(cfg);
      const r = new VrrpRouter(rig.d, [{ name: 'VI_1', vrid: 51, priority: 50, version, intervalCs: 100, preempt: true, preemptDelayMs: 0,
        port: 'outside', addrs: vips.map(ip), excluded: [], garpRepeat: 1, garpDelayMs: 0 }]);
      let now = 1_000_000;
      r.start(now);
      const [ad1, ad2, bye] = frames(file) as [Uint8Array, Uint8Array, Uint8Array];
      for (const f of [ad1, ad2]) {
        now += 1000;
        r.tick(now);
        rig.in(OUT, f, now);
      }
      const st = r.status()[0]!;
      expect([st.state, st.master, st.masterPriority, st.counters.advertsReceived, st.counters.refused]).toEqual(['backup', '10.77.0.1', 100, 2, {}]);
      now += 3000;
      r.tick(now);
      expect(r.status()[0]!.state).toBe('backup');
      rig.in(OUT, bye, now);
      now += 200; // skew (256 - 50) / 256 s = 805 ms
      r.tick(now);
      expect(r.status()[0]!.state).toBe('backup');
      now += 700;
      r.tick(now);
      expect(r.status()[0]!.state).toBe('master');
      // what it sends is what keepalived would accept: same version, vrid, addresses, interval
      const ours = rig.sent.find((f) => f.bytes[23] === 112)!;
      const v = parseVrrp(ours.bytes, 34, ours.bytes.length - 34);
      expect([v.version, v.vrid, v.addrs, version === 2 ? v.advertIntSec : v.maxAdvertIntCs]).toEqual([version, 51, vips.map(ip), version === 2 ? 1 : 100]);
      expect(parseIpv4(ours.bytes, 14).dst).toBe(VRRP_GROUP_V4);
    });
  }
});
