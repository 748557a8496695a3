/**
 * LVS-TUN decapsulation for a real server, started inside its namespace:
 *
 *   ip netns exec NS node --import tsx src/io/tun-decap-main.ts --vip 10.0.0.100 [--vip 2001:db8:10::100 ...] [--dev tvdecap0] [--helper]
 *
 * Uses the kernel's ipip (tunl0), and for IPv6 VIPs its ip6_tunnel (ip6tnl0),
 * when the kernel has them, unless --helper is given; otherwise runs the user-space helper until SIGTERM/SIGINT. Prints one
 * line "ready kernel" or "ready helper <device>" once packets will be decapsulated.
 */
import { startDecap, useKernelTunnels } from './tun-decap.js';

function parseArgs(argv: string[]): { vips: string[]; device: string | undefined; helperOnly: boolean } {
  const vips: string[] = [];
  let device: string | undefined;
  let helperOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--vip' && argv[i + 1]) vips.push(argv[++i]!);
    else if (a === '--dev' && argv[i + 1]) device = argv[++i]!;
    else if (a === '--helper') helperOnly = true;
    else {
      process.stderr.write(`tun-decap: unknown argument ${JSON.stringify(a)}\nusage: tun-decap-main.ts --vip ADDR [--vip ADDR] [--dev NAME] [--helper]\n`);
      process.exit(2);
    }
  }
  if (vips.length === 0) {
    process.stderr.write('tun-decap: at least one --vip is required\n');
    process.exit(2);
  }
  return { vips, device, helperOnly };
}

const args = parseArgs(process.argv.slice(2));
try {
  if (!args.helperOnly && useKernelTunnels(args.vips)) {
    process.stdout.write('ready kernel\n');
  } else {
    const helper = startDecap({ vips: args.vips, device: args.device });
    process.stdout.write(`ready helper ${helper.device}\n`);
    if (helper.rcvbuf === null) process.stderr.write('tun-decap: could not raise the raw sockets\' receive buffer: packets may be lost under load\n');
    const stop = (): void => {
      // read before closing: the drops are the sockets' own
      const lost = helper.socketDrops();
      helper.close();
      process.stderr.write(`tun-decap: received ${helper.counters.received}, delivered ${helper.counters.delivered}, malformed ${helper.counters.malformed}, write errors ${helper.counters.writeErrors}, lost before reading (socket drops) ${lost}, receive buffer ${helper.rcvbuf ?? 'default'}\n`);
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  }
} catch (err) {
  process.stderr.write(`tun-decap: ${(err as Error).message}\n`);
  process.exit(1);
}
