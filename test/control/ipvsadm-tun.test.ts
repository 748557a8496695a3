// --tun-type ipip|gue|gre, --tun-port, --tun-nocsum|--tun-csum|--tun-remcsum
// as ipvsadm 1.31 takes them (tunnel_types_v_options and its messages), the
// --tun-info listing as print_service_entry prints it, -S as
// print_tunnel_rule writes it, -R reading that back, and config lines.
import { describe, expect, it } from 'vitest';
import { parseIpvsadmArgs, type ListFormat } from '../../src/control/ipvsadm-args.js';
import { formatServiceListing } from '../../src/control/ipvsadm-format.js';
import { formatSave, restore } from '../../src/control/ipvsadm-save.js';
import { parseConfig } from '../../src/control/config.js';
import { ServiceTable } from '../../src/model/services.js';
import { ConnTable } from '../../src/conn/table.js';
import { Mutations } from '../../src/director/mutations.js';
import { TUN_F_CSUM, TUN_F_REMCSUM, TUN_GRE, TUN_GUE, TUN_IPIP } from '../../src/model/dest.js';

const args = (s: string) => parseIpvsadmArgs(s.split(' '));
function table(text: string): ServiceTable {
  const t = new ServiceTable();
  const r = restore(t, new Mutations(t, new ConnTable({ max: 64 })), text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return t;
}
function formatOf(argv: string): ListFormat {
  const r = parseIpvsadmArgs(argv.split(' '));
  if (!r.ok || r.command.cmd !== 'list') throw new Error(`not a list command: ${argv}`);
  return r.command.format;
}

describe('ipvsadm --tun-* options', () => {
  it('take gue with its port and one checksum option, gre with one checksum option, ipip with none', () => {
    const gue = args('-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum');
    expect(gue.ok && gue.command.cmd === 'add-server' && gue.command.dest).toMatchObject({ tunType: TUN_GUE, tunPort: 6080, tunFlags: TUN_F_CSUM });
    const rem = args('-e -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 1 --tun-remcsum');
    expect(rem.ok && rem.command.cmd === 'edit-server' && rem.command.dest).toMatchObject({ tunType: TUN_GUE, tunPort: 1, tunFlags: TUN_F_REMCSUM });
    const gre = args('-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-csum');
    expect(gre.ok && gre.command.cmd === 'add-server' && gre.command.dest).toMatchObject({ tunType: TUN_GRE, tunPort: 0, tunFlags: TUN_F_CSUM });
    const plain = args('-a -t 10.0.0.1:80 -r 10.0.0.2 -i');
    expect(plain.ok && plain.command.cmd === 'add-server' && plain.command.dest.tunType).toBe(undefined); // ipip, the default
    void TUN_IPIP;
  });

  it.each([
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type vxlan', 'illegal tunnel type specified'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue', "You need to supply the 'tun-port' option for the 'gue' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 0', 'illegal tunnel port specified'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 65536', 'illegal tunnel port specified'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum --tun-remcsum', "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-port 6080', "Illegal 'tun-port' option with the 'gre' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-remcsum', "Illegal 'tun-remcsum' option with the 'gre' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-csum', "Illegal 'tun-csum' option with the 'ipip' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type ipip --tun-port 5', "Illegal 'tun-port' option with the 'ipip' tunnel type"],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -m --tun-type gue --tun-port 6080', 'Tunnel options conflict with forward method'],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -g --tun-csum', 'Tunnel options conflict with forward method'],
    ['-A -t 10.0.0.1:80 --tun-type gue', "Illegal 'tun-type' option with the 'add-service' command"],
  ])('%s: %s', (argv, msg) => {
    const r = args(argv);
    expect(r.ok ? 'accepted' : r.error).toBe(msg);
  });
});

const RULES = `-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 10.20.1.5:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.0.0.100:80 -r 10.20.1.6:80 -i -w 1 --tun-type gue --tun-port 6081
-a -t 10.0.0.100:80 -r 10.20.1.7:80 -i -w 1 --tun-type gre --tun-csum
-a -t 10.0.0.100:80 -r 10.20.1.8:80 -i -w 2 --tun-type gre
-a -t 10.0.0.100:80 -r 10.20.1.9:80 -i -w 1
-a -t 10.0.0.100:80 -r 10.20.1.10:80 -m -w 1
`;

describe('listings and save', () => {
  it('-L -n --tun-info: the TunnelInfo column as fwd_tun_info writes it', () => {
    const r = formatServiceListing(table(RULES), formatOf('-L -n --tun-info'), 4096);
    if (!r.ok) throw new Error(r.error);
    const lines = r.text.split('\n');
    expect(lines.slice(1, 3)).toEqual([
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn',
    ]);
    expect(lines.slice(4, 10)).toEqual([
      '  -> 10.20.1.5:80                 Tunnel  gue:6080:+c   1      0          0         ',
      '  -> 10.20.1.6:80                 Tunnel  gue:6081:-c   1      0          0         ',
      '  -> 10.20.1.7:80                 Tunnel  gre:+c        1      0          0         ',
      '  -> 10.20.1.8:80                 Tunnel  gre:-c        2      0          0         ',
      '  -> 10.20.1.9:80                 Tunnel  ipip          1      0          0         ',
      '  -> 10.20.1.10:80                Masq    n/a           1      0          0         ',
    ]);
  });

  it('-S -n as print_tunnel_rule (nocsum named), and -R reads it back to the same table', () => {
    const saved = formatSave(table(RULES));
    expect(saved.split('\n').filter((l) => l.startsWith('-a')).sort()).toEqual([
      '-a -t 10.0.0.100:80 -r 10.20.1.10:80 -m -w 1',
      '-a -t 10.0.0.100:80 -r 10.20.1.5:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
      '-a -t 10.0.0.100:80 -r 10.20.1.6:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-nocsum',
      '-a -t 10.0.0.100:80 -r 10.20.1.7:80 -i -w 1 --tun-type gre --tun-csum',
      '-a -t 10.0.0.100:80 -r 10.20.1.8:80 -i -w 2 --tun-type gre --tun-nocsum',
      '-a -t 10.0.0.100:80 -r 10.20.1.9:80 -i -w 1 --tun-type ipip',
    ]);
    expect(formatSave(table(saved))).toBe(saved);
  });

  it('-e changes the tunnel settings (and without them the server is ipip again, as ipvsadm sends)', () => {
    const t = new ServiceTable();
    const m = new Mutations(t, new ConnTable({ max: 64 }));
    expect(restore(t, m, RULES).ok).toBe(true);
    expect(restore(t, m, '-e -t 10.0.0.100:80 -r 10.20.1.9:80 -i --tun-type gre --tun-csum\n-e -t 10.0.0.100:80 -r 10.20.1.5:80 -i\n').ok).toBe(true);
    const s = formatSave(t);
    expect(s).toContain('-r 10.20.1.9:80 -i -w 1 --tun-type gre --tun-csum');
    expect(s).toContain('-r 10.20.1.5:80 -i -w 1 --tun-type ipip');
  });
});

describe('config lines', () => {
  const TOP = 'port lan kind=memory mac=02:00:00:00:02:01 addr=172.16.0.2/24\nvip 172.16.0.100 on lan\nroute default via 172.16.0.1\n';
  it('take the same options into the real server', () => {
    const r = parseConfig(`${TOP}-A -t 172.16.0.100:80 -s rr\n-a -t 172.16.0.100:80 -r 10.20.1.5 -i --tun-type gue --tun-port 6080 --tun-remcsum\n-a -t 172.16.0.100:80 -r 10.20.1.6 -i --tun-type gre\n`, 't.conf');
    if ('errors' in r) throw new Error(JSON.stringify(r.errors));
    expect(r.config.services[0]!.dests).toMatchObject([
      { tunType: TUN_GUE, tunPort: 6080, tunFlags: TUN_F_REMCSUM },
      { tunType: TUN_GRE, tunPort: 0, tunFlags: 0 },
    ]);
  });
  it('refuse what ipvsadm refuses, with the line', () => {
    const r = parseConfig(`${TOP}-A -t 172.16.0.100:80 -s rr\n-a -t 172.16.0.100:80 -r 10.20.1.5 -i --tun-type gue\n`, 't.conf');
    expect('errors' in r && r.errors.map((e) => [e.line, e.message])).toEqual([[5, "You need to supply the 'tun-port' option for the 'gue' tunnel type"]]);
  });
});
