// Programmatic IPv6 configs: the topology validator's IPv6 rules (a DR real
// server on a connected IPv6 network, NAT and TUN real servers routed, IPv6
// gateways, mixed families refused) with the IPv4 rules' wording, a director
// built from such a config, and the trace's IPv6 lines.
import { describe, expect, it } from 'vitest';
import { Director } from '../../src/director/director.js';
import { FWD_DR, FWD_MASQ } from '../../src/model/dest.js';
import { formatTopologyProblems, topologyProblems } from '../../src/model/topology.js';
import { Rig } from './harness.js';
import { natConfig, NAT, ip } from './topo.js';
import { CLIENT6, dr6Config, DR6, ip6, NAT6, nat6Config, tcp6Frame, tun6Config, TUN6 } from './topo6.js';

const problems = (cfg: Parameters<typeof topologyProblems>[0]) => topologyProblems(cfg).map((p) => p.message);

describe('IPv6 topology rules', () => {
  it('the three lab configs are accepted', () => {
    expect(problems(nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 80 }] }] }))).toEqual([]);
    expect(problems(dr6Config({ services: [{ port: 80, dests: [{ addr: DR6.rs1, port: 80 }] }] }))).toEqual([]);
    expect(problems(tun6Config({ services: [{ port: 80, dests: [{ addr: TUN6.rs1, port: 80 }] }] }))).toEqual([]);
  });

  it('a DR real server must be on a connected IPv6 network', () => {
    const cfg = dr6Config({ services: [{ port: 80, dests: [{ addr: '2001:db8:9::5', port: 80 }] }] });
    expect(problems(cfg)).toEqual([
      'real server 2001:db8:9::5 uses direct routing (-g) but is on no IPv6 network directly connected to the director ' +
      '(ports: lan 2001:db8:1::2/64): DR only rewrites the destination MAC, so the real server must share a LAN with a port',
    ]);
  });

  it('a NAT real server needs a connected network or a route', () => {
    const cfg = nat6Config({ services: [{ port: 80, dests: [{ addr: '2001:db8:77::1', port: 80 }] }] });
    cfg.routes = [];
    expect(problems(cfg)).toEqual([
      'no route to real server 2001:db8:77::1 (masquerading (-m)): it is on no connected IPv6 network ' +
      '(ports: outside 2001:db8:0:1::1/64, inside 2001:db8:0:10::1/64) and no IPv6 route covers it',
    ]);
  });

  it('gateways: on a connected network, or link-local with the port named', () => {
    const cfg = dr6Config({ services: [] });
    cfg.routes = [
      { dst: 0, prefix: 48, via: 0, dst6: ip6('2001:db8:50::'), via6: ip6('2001:db8:99::1') },
      { dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6('fe80::1') },
      { dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6('fe80::1'), port: 'lan' },
    ];
    expect(problems(cfg)).toEqual([
      'route 2001:db8:50::/48: gateway 2001:db8:99::1 is not on an IPv6 network connected to any port (ports: lan 2001:db8:1::2/64)',
      "route default (IPv6): gateway fe80::1 is link-local, so the route must name its port ('on PORT')",
    ]);
  });

  it('an IPv6 VIP must be answered on some port; marks too', () => {
    const cfg = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 80 }] }] });
    cfg.vips = [];
    cfg.marks = [{ proto: 6, addr: 0, addr6: ip6('2001:db8:0:1::200'), ports: [80], mark: 3 }];
    expect(problems(cfg)).toEqual([
      "VIP 2001:db8:0:1::100 is not answered on any port: add 'vip 2001:db8:0:1::100 on PORT'",
      "marked address 2001:db8:0:1::200 is not answered on any port: add 'vip 2001:db8:0:1::200 on PORT'",
    ]);
  });

  it('mixed families are refused with the reason', () => {
    const v6svc = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 80 }] }] });
    v6svc.services[0]!.dests.push({ addr: ip(NAT.rs1), port: 80, fwd: FWD_MASQ });
    const v4svc = natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 80 }] }] });
    v4svc.services[0]!.dests.push({ addr: 0, addr6: ip6(NAT6.rs1), port: 80, fwd: FWD_DR });
    const why = 'tapvs forwards within one address family (IPVS mixes families only in tunnels), so an IPv6 service needs IPv6 real servers and an IPv4 service IPv4 ones';
    expect(problems(v6svc)).toEqual([`real server 192.168.10.11 is IPv4 but service [2001:db8:0:1::100] is IPv6: ${why}`]);
    expect(problems(v4svc)).toEqual([`real server 2001:db8:0:10::11 is IPv6 but service 10.0.0.100 is IPv4: ${why}`]);
    expect(() => new Director(v4svc, { send() {} })).toThrow(formatTopologyProblems(topologyProblems(v4svc)));
  });

  it('port addresses must be global unicast with a sane prefix; IPv6 needs an MTU of 1280', () => {
    const cfg = dr6Config({ services: [] });
    cfg.ports[0]!.addrs6 = [{ addr: ip6('fe80::5'), prefix: 64 }, { addr: ip6('2001:db8:3::1'), prefix: 0 }];
    cfg.ports[0]!.mtu = 1200;
    expect(problems(cfg)).toEqual([
      "port 'lan': IPv6 address fe80::5/64 is not a unicast address of global scope (each port has its link-local address, from its MAC, without being told)",
      "port 'lan': IPv6 address 2001:db8:3::1/0: the prefix length must be 1..128",
      "port 'lan' has IPv6 addresses but MTU 1200: IPv6 needs links of at least 1280 bytes",
      "vip 2001:db8:1::100 is on port 'lan' whose MTU 1200 is below the IPv6 minimum of 1280",
    ]);
  });

  it('a dual-stack director: IPv4 and IPv6 services side by side on the same ports', () => {
    const cfg = natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] });
    const v6 = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }] });
    cfg.ports.forEach((p, i) => { p.addrs6 = v6.ports[i]!.addrs6; p.mac = v6.ports[i]!.mac; });
    cfg.vips.push(...v6.vips);
    cfg.routes.push(...v6.routes);
    cfg.services.push(...v6.services);
    cfg.neighbours = [...(cfg.neighbours ?? []), ...(v6.neighbours ?? [])];
    expect(problems(cfg)).toEqual([]);
    const rig = new Rig(cfg);
    const out = rig.in(0, tcp6Frame({ smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 1, dport: 80, flags: 'S' }), 1);
    expect(out.map((f) => f.port)).toEqual([1]);
    expect(rig.d.services.all.map((s) => s.af)).toEqual([2, 10]);
  });
});

describe('trace: IPv6 addresses as text (RFC 5952)', () => {
  it('the decision, the connection and the neighbour lines', () => {
    const rig = new Rig(nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }], staticNeighbours: false }), { trace: true });
    rig.in(0, tcp6Frame({ smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 40000, dport: 80, flags: 'S' }), 1000);
    const lines = rig.trace.filter((l) => !l.includes(' in  ') && !l.includes(' out '));
    expect(lines).toEqual([
      '  svc TCP [2001:db8:0:1::100]:80 rr: new conn -> [2001:db8:0:10::11]:8080 (rr: [2001:db8:0:10::11]:8080 (first in list)) mode NAT state SYN_RECV',
      '  nd: resolving 2001:db8:0:10::11 on inside, frame held',
    ]);
    expect(rig.trace[0]).toContain('ip6 2001:db8:ff::7 > 2001:db8:0:1::100 hlim 64 TCP');
  });
});
