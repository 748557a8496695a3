// The directors the frame fuzzer drives: one per forwarding method, each
// dual-stack (the IPv4 half written as a config file and parsed as a user's
// would be, the IPv6 half added as the config types allow), with services
// that reach the interesting paths: persistence, fwmark, one-packet UDP,
// a port-0 service, a table small enough to fill, neighbours to resolve.
import { parseConfig } from '../control/config.js';
import type { DirectorConfig, ServiceConfig } from '../model/config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, type Fwd } from '../model/dest.js';
import { parseIp as ip, parseMac as mac } from '../wire/addr.js';
import { parseIp6 as ip6 } from '../wire/addr6.js';

export type Mode = 'nat' | 'dr' | 'tun';
export const MODES: readonly Mode[] = ['nat', 'dr', 'tun'];

/** Addresses and MACs a frame generator needs to aim at each director. */
export interface Target {
  mode: Mode;
  cfg: DirectorConfig;
  /** The IPv4 half as the config file it was parsed from. */
  text: string;
  /** Per port: its MAC, and the peers that talk to it (router, real servers). */
  ports: { mac: string; addr: string; addr6: string; peers: { mac: string; addr: string; addr6: string }[] }[];
  vips: string[];
  vip6: string;
  /** TCP/UDP ports services listen on. */
  svcPorts: number[];
  /** Real servers (the sources of NAT replies, the targets of DR/TUN). */
  rs: { mac: string; addr: string; addr6: string; port: number }[];
}

const NAT_CONF = `
port outside kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24
port inside kind=memory mac=02:00:00:00:00:02 addr=192.168.10.1/24
vip 10.0.0.100 on outside
vip 10.0.0.101 on outside
route default via 10.0.0.254
neigh 10.0.0.254 02:00:00:00:00:fe
neigh 192.168.10.11 02:00:00:00:10:11
option max_conns 4096
option unmatched_from_rs drop
option expire_nodest_conn 1
-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 1
-a -t 10.0.0.100:80 -r 192.168.10.12:8080 -m -w 2 -x 50 -y 10
-A -u 10.0.0.100:53 -s wlc -o
-a -u 10.0.0.100:53 -r 192.168.10.11:53 -m
-A -t 10.0.0.101:0 -s sh -p 30
-a -t 10.0.0.101:0 -r 192.168.10.12 -m
mark 7 tcp 10.0.0.100 ports 443,8000-8010
-A -f 7 -s mh -p 60 -M 255.255.255.0
-a -f 7 -r 192.168.10.11 -m
-a -f 7 -r 192.168.10.13 -m -w 0
-A --sctp-service 10.0.0.100:5000 -s rr
-a --sctp-service 10.0.0.100:5000 -r 192.168.10.11:5001 -m
`;

const DR_CONF = `
port lan kind=memory mac=02:00:00:00:01:01 addr=172.16.0.2/24
vip 172.16.0.100 on lan
vip 172.16.0.101 on lan
route default via 172.16.0.1
neigh 172.16.0.1 02:00:00:00:01:fe
neigh 172.16.0.11 02:00:00:00:01:11
option max_conns 4096
-A -t 172.16.0.100:80 -s wlc -p 60
-a -t 172.16.0.100:80 -r 172.16.0.11 -g -w 3
-a -t 172.16.0.100:80 -r 172.16.0.12 -g -w 1
-A -u 172.16.0.100:53 -s lblc
-a -u 172.16.0.100:53 -r 172.16.0.11 -g
-A -t 172.16.0.101:443 -s mh -b mh-fallback,mh-port
-a -t 172.16.0.101:443 -r 172.16.0.12 -g
-a -t 172.16.0.101:443 -r 172.16.0.13 -g
`;

const TUN_CONF = `
port uplink kind=memory mac=02:00:00:00:02:01 addr=172.16.0.2/24 mtu=1480
vip 172.16.0.100 on uplink
route 10.20.0.0/16 via 172.16.0.1 dev uplink
route default via 172.16.0.254
neigh 172.16.0.254 02:00:00:00:02:fe
option max_conns 4096
-A -t 172.16.0.100:443 -s sh -b sh-fallback,sh-port
-a -t 172.16.0.100:443 -r 10.20.1.5:443 -i -w 1
-a -t 172.16.0.100:443 -r 10.20.2.5 -i -w 5
-A -t 172.16.0.100:0 -s mh -p
-a -t 172.16.0.100:0 -r 10.20.1.5 -i
-A -u 172.16.0.100:53 -s rr
-a -u 172.16.0.100:53 -r 10.20.1.5 -i
`;

function parsed(text: string, name: string): DirectorConfig {
  const r = parseConfig(text, name);
  if ('errors' in r) throw new Error(`fuzz topology ${name}: ${r.errors.map((e) => `${e.line}: ${e.message}`).join('; ')}`);
  return r.config;
}

function svc6(vip: string, port: number, proto: number, fwd: Fwd, dests: string[], extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    proto, addr: 0, addr6: ip6(vip), port, scheduler: 'rr', persistent: 0,
    dests: dests.map((d) => ({ addr: 0, addr6: ip6(d), port, weight: 1, fwd })),
    ...extra,
  };
}

const neigh6 = (a: string, m: string) => ({ addr: 0, addr6: ip6(a), mac: mac(m) });

export function target(mode: Mode): Target {
  if (mode === 'nat') {
    const cfg = parsed(NAT_CONF, 'fuzz-nat.conf');
    cfg.ports[0]!.addrs6 = [{ addr: ip6('2001:db8:0:1::1'), prefix: 64 }];
    cfg.ports[1]!.addrs6 = [{ addr: ip6('2001:db8:0:10::1'), prefix: 64 }];
    cfg.vips.push({ addr: 0, addr6: ip6('2001:db8:0:1::100'), port: 'outside' });
    cfg.routes.push({ dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6('2001:db8:0:1::fe') });
    cfg.services.push(
      svc6('2001:db8:0:1::100', 80, 6, FWD_MASQ, ['2001:db8:0:10::11', '2001:db8:0:10::12']),
      svc6('2001:db8:0:1::100', 53, 17, FWD_MASQ, ['2001:db8:0:10::11'], { onePacket: true }),
    );
    cfg.neighbours = [...(cfg.neighbours ?? []), neigh6('2001:db8:0:1::fe', '02:00:00:00:00:fe'), neigh6('2001:db8:0:10::11', '02:00:00:00:10:11')];
    return {
      mode, cfg, text: NAT_CONF,
      ports: [
        { mac: '02:00:00:00:00:01', addr: '10.0.0.1', addr6: '2001:db8:0:1::1', peers: [{ mac: '02:00:00:00:00:fe', addr: '10.0.0.254', addr6: '2001:db8:0:1::fe' }] },
        {
          mac: '02:00:00:00:00:02', addr: '192.168.10.1', addr6: '2001:db8:0:10::1', peers: [
            { mac: '02:00:00:00:10:11', addr: '192.168.10.11', addr6: '2001:db8:0:10::11' },
            { mac: '02:00:00:00:10:12', addr: '192.168.10.12', addr6: '2001:db8:0:10::12' },
            { mac: '02:00:00:00:10:13', addr: '192.168.10.13', addr6: '2001:db8:0:10::13' },
          ],
        },
      ],
      vips: ['10.0.0.100', '10.0.0.101'],
      vip6: '2001:db8:0:1::100',
      svcPorts: [80, 53, 443, 8000, 8005, 22],
      rs: [
        { mac: '02:00:00:00:10:11', addr: '192.168.10.11', addr6: '2001:db8:0:10::11', port: 8080 },
        { mac: '02:00:00:00:10:12', addr: '192.168.10.12', addr6: '2001:db8:0:10::12', port: 8080 },
        { mac: '02:00:00:00:10:11', addr: '192.168.10.11', addr6: '2001:db8:0:10::11', port: 53 },
      ],
    };
  }
  if (mode === 'dr') {
    const cfg = parsed(DR_CONF, 'fuzz-dr.conf');
    cfg.ports[0]!.addrs6 = [{ addr: ip6('2001:db8:1::2'), prefix: 64 }];
    cfg.vips.push({ addr: 0, addr6: ip6('2001:db8:1::100'), port: 'lan' });
    cfg.routes.push({ dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6('2001:db8:1::1') });
    cfg.services.push(svc6('2001:db8:1::100', 80, 6, FWD_DR, ['2001:db8:1::11', '2001:db8:1::12'], { persistent: 30, prefix6: 64 }));
    cfg.neighbours = [...(cfg.neighbours ?? []), neigh6('2001:db8:1::1', '02:00:00:00:01:fe')];
    const peers = [
      { mac: '02:00:00:00:01:fe', addr: '172.16.0.1', addr6: '2001:db8:1::1' },
      { mac: '02:00:00:00:01:11', addr: '172.16.0.11', addr6: '2001:db8:1::11' },
      { mac: '02:00:00:00:01:12', addr: '172.16.0.12', addr6: '2001:db8:1::12' },
    ];
    return {
      mode, cfg, text: DR_CONF,
      ports: [{ mac: '02:00:00:00:01:01', addr: '172.16.0.2', addr6: '2001:db8:1::2', peers }],
      vips: ['172.16.0.100', '172.16.0.101'],
      vip6: '2001:db8:1::100',
      svcPorts: [80, 53, 443, 25],
      rs: peers.slice(1).map((p) => ({ ...p, port: 80 })),
    };
  }
  const cfg = parsed(TUN_CONF, 'fuzz-tun.conf');
  cfg.ports[0]!.addrs6 = [{ addr: ip6('2001:db8:2::2'), prefix: 64 }];
  cfg.vips.push({ addr: 0, addr6: ip6('2001:db8:2::100'), port: 'uplink' });
  cfg.routes.push(
    { dst: 0, prefix: 48, via: 0, dst6: ip6('2001:db8:20::'), via6: ip6('2001:db8:2::1') },
    { dst: 0, prefix: 0, via: 0, dst6: ip6('::'), via6: ip6('2001:db8:2::fe') },
  );
  cfg.services.push(svc6('2001:db8:2::100', 443, 6, FWD_TUN, ['2001:db8:20:1::5', '2001:db8:20:2::5']));
  cfg.neighbours = [...(cfg.neighbours ?? []), neigh6('2001:db8:2::1', '02:00:00:00:02:f1')];
  return {
    mode, cfg, text: TUN_CONF,
    ports: [{
      mac: '02:00:00:00:02:01', addr: '172.16.0.2', addr6: '2001:db8:2::2', peers: [
        { mac: '02:00:00:00:02:fe', addr: '172.16.0.254', addr6: '2001:db8:2::fe' },
        { mac: '02:00:00:00:02:f1', addr: '172.16.0.1', addr6: '2001:db8:2::1' },
      ],
    }],
    vips: ['172.16.0.100'],
    vip6: '2001:db8:2::100',
    svcPorts: [443, 53, 80, 8443],
    rs: [
      { mac: '02:00:00:00:02:f1', addr: '10.20.1.5', addr6: '2001:db8:20:1::5', port: 443 },
      { mac: '02:00:00:00:02:f1', addr: '10.20.2.5', addr6: '2001:db8:20:2::5', port: 443 },
    ],
  };
}

export { FWD_DR, FWD_MASQ, FWD_TUN, ip };
