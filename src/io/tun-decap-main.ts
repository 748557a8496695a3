/**
 * LVS-TUN decapsulation for a real server, started inside its namespace:
 *
 *   ip netns exec NS node --import tsx src/io/tun-decap-main.ts --vip 10.0.0.100 [--vip 2001:db8:10::100 ...] [--dev tvdecap0] [--helper]
 *     [--gre] [--gue-port N]
 *
 * Uses the kernel's ipip (tunl0), and for IPv6 VIPs its ip6_tunnel (ip6tnl0),
 * when the kernel has them, unless --helper is given; otherwise runs the user-space helper until SIGTERM/SIGINT. Prints one
 * line "ready kernel" or "ready helper <device>" once packets will be decapsulated.
 * --gre and --gue-port N (GRE and GUE real servers, ipvsadm --tun-type gre / gue --tun-port N) are
 * always the helper's: the kernel's ip_gre and fou need per-port configuration
 * this lab does not own; IPIP then stays with the kernel when it has it
 * ("ready kernel+helper <device>").
 */
import { startDecap, useKernelTunnels } from './tun-decap.js';

interface Args { vips: string[]; device: string | undefined; helperOnly: boolean; gre: boolean; guePort: number | undefined }

function parseArgs(argv: string[]): Args {
  const vips: string[] = [];
  let device: string | undefined;
  let helperOnly = false;
  let gre = false;
  let guePort: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--vip' && argv[i + 1]) vips.push(argv[++i]!);
    else if (a === '--dev' && argv[i + 1]) device = argv[++i]!;
    else if (a === '--helper') helperOnly = true;
    else if (a === '--gre') gre = true;
    else if (a === '--gue-port' && argv[i + 1]) {
      const v = argv[++i]!;
      guePort = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(guePort >= 1 && guePort <= 65535)) {
        process.stderr.write(`tun-decap: --gue-port ${JSON.stringify(v)}: a UDP port 1-65535 is needed\n`);
        process.exit(2);
      }
    } else {
      process.stderr.write(`tun-decap: unknown argument ${JSON.stringify(a)}\nusage: tun-decap-main.ts --vip ADDR [--vip ADDR] [--dev NAME] [--helper] [--gre] [--gue-port N]\n`);
      process.exit(2);
    }
  }
  if (vips.length === 0) {
    process.stderr.write('tun-decap: at least one --vip is required\n');
    process.exit(2);
  }
  return { vips, device, helperOnly, gre, guePort };
}

const args = parseArgs(process.argv.slice(2));
try {
  const extra = args.gre || args.guePort !== undefined;
  const kernelIpip = !args.helperOnly && useKernelTunnels(args.vips);
  if (kernelIpip && !extra) {
    process.stdout.write('ready kernel\n');
  } else {
    const helper = startDecap({ vips: args.vips, device: args.device, gre: args.gre, guePort: args.guePort, kernelIpip });
    process.stdout.write(`ready ${kernelIpip ? 'kernel+helper' : 'helper'} ${helper.device}\n`);
    if (helper.rcvbuf === null) process.stderr.write('tun-decap: could not raise the raw sockets\' receive buffer: packets may be lost under load\n');
    if (helper.notQuiet) process.stderr.write(`tun-decap: could not keep this namespace from answering "protocol unreachable" when the helper falls behind (${helper.notQuiet}): a flood may end the clients' connections\n`);
    const stop = (): void => {
      // read before closing: the drops are the sockets' own
      const lost = helper.socketDrops();
      helper.close();
      process.stderr.write(`tun-decap: received ${helper.counters.received} (GRE ${helper.counters.gre}, GUE ${helper.counters.gue}), bad GRE checksum ${helper.counters.badChecksum}, delivered ${helper.counters.delivered}, malformed ${helper.counters.malformed}, write errors ${helper.counters.writeErrors}, lost before reading (socket drops) ${lost}, receive buffer ${helper.rcvbuf ?? 'default'}\n`);
      process.exit(0);
    };
    // a running count for tests and labs: one "stats ..." line per SIGUSR1
    process.on('SIGUSR1', () => {
      const c = helper.counters;
      process.stdout.write(`stats received=${c.received} gre=${c.gre} gue=${c.gue} bad_checksum=${c.badChecksum} delivered=${c.delivered} malformed=${c.malformed} write_errors=${c.writeErrors} socket_drops=${helper.socketDrops()}\n`);
    });
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }
} catch (err) {
  process.stderr.write(`tun-decap: ${(err as Error).message}\n`);
  process.exit(1);
}
