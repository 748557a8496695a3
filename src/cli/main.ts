import { readFileSync } from 'node:fs';
import { parseConfig, formatConfigError } from '../control/config.js';
import { describeServices, loadKeepalived } from '../control/keepalived/index.js';

const USAGE = `tapvs — a Linux Virtual Server director in TypeScript

usage:
  tapvs run --config FILE [--trace] [--nice N] [--tx-thread auto|off] [--record IN.pcapng]
            [--record-sent OUT.pcapng] [--record-events FILE] [--decisions FILE.jsonl]
            [--ui ADDR:PORT [--ui-lab LAB.json]]
                                             run the director on its ports (TAP / pcap);
                                             --nice raises the I/O thread's priority;
                                             --tx-thread off: TAP writes always inline (auto:
                                             on a writer thread while the I/O thread is saturated);
                                             --record keeps every received frame (replayable)
                                             and every rule change in IN.events (or --record-events),
                                             --record-sent every frame sent;
                                             --decisions: one JSON line per frame (docs/decision-log.md);
                                             --ui: the browser view (a bare PORT listens on 127.0.0.1)
  tapvs replay --config FILE --in IN.pcap[ng] [--out OUT.pcapng] [--port NAME]
               [--map IF=PORT[,IF=PORT...]] [--strip-vlan] [--trace] [--decisions FILE.jsonl]
               [--events FILE | --no-events] [--expect EXPECTED.pcap[ng] [--ignore FIELD,...]]
               [--ui ADDR:PORT [--ui-lab LAB.json]]
                                             run captured frames (Ethernet, or Linux cooked
                                             SLL/SLL2 from tcpdump -i any) through the director;
                                             --port: the port every interface feeds;
                                             --map: capture interface (name, index N or ifN,
                                             or SLL2 ifindex:N) to port;
                                             --strip-vlan: take 802.1Q/802.1ad tags out first;
                                             --events: control events to apply (default IN.events
                                             when it exists); --expect: compare the output with a
                                             capture (exit 0 same, 1 different, 2 error), --ignore
                                             fields such as ip.id,ttl; --ui: then serve the replay's
                                             timeline to the browser view until Ctrl-C
  tapvs test [DIR...] [-k PATTERN] [--junit FILE] [--update] [--ignore FIELD,...]
                                             run every regression case in the folders
                                             (<case>.conf, .in.pcap[ng], .expected.pcapng,
                                             optional .events, .expected.jsonl, .args)
  tapvs run --config FILE --keepalived KEEPALIVED.CONF ...
                                             services and health checks from a keepalived.conf
                                             (its virtual_server blocks), ports from --config
  tapvs check-config FILE                    report config errors with line numbers
  tapvs check-config --keepalived KEEPALIVED.CONF [--config FILE]
                                             check a keepalived.conf as tapvs reads it
  tapvs ipvsadm [--socket PATH] [ipvsadm options]
                                             talk to a running director, as ipvsadm
                                             (socket: option control_socket, default /run/tapvs/tapvs.sock)
  tapvs sysctl [--socket PATH] [--status] [NAME[=VALUE] | NAME VALUE ...]
                                             the IPVS sysctls of a running director, as sysctl(8)
                                             shows and sets net.ipv4.vs.* (drop_entry, drop_packet,
                                             secure_tcp, amemthresh, am_droprate, evict_embryonic,
                                             expire_nodest_conn, expire_quiescent_template)
  tapvs vrrp [--socket PATH] [--json]        the VRRP instances of a running director (master, backup
                                             or fault, priority, who is master, the last transition and
                                             why) and its IPVS sync daemons
  tapvs --version                            print tapvs's version (also: tapvs version)
  tapvs help
`;

interface Flags {
  [k: string]: string | boolean | undefined;
}

/** --name value / --flag parsing; values never start with "--". */
export function parseFlags(args: string[], valued: string[]): { flags: Flags; rest: string[] } {
  const flags: Flags = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const name = a.slice(2);
    if (valued.includes(name)) {
      const v = args[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
      flags[name] = v;
      i++;
    } else {
      flags[name] = true;
    }
  }
  return { flags, rest };
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  // `tapvs replay --trace | head` closes our stdout early: that is not an error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    switch (cmd) {
      case 'replay': {
        const { replayCommand } = await import('./replay.js');
        return await replayCommand(args);
      }
      case 'test': {
        const { testCommand } = await import('./test-cases.js');
        return testCommand(args);
      }
      case 'check-config': return cmdCheckConfig(args);
      case 'run': {
        const { runCommand } = await import('./run.js');
        return await runCommand(args);
      }
      case 'ipvsadm': {
        const { ipvsadmCommand } = await import('./ipvsadm.js');
        return await ipvsadmCommand(args);
      }
      case 'sysctl': {
        const { sysctlCommand } = await import('./sysctl.js');
        return await sysctlCommand(args);
      }
      case 'vrrp': {
        const { vrrpCommand } = await import('./vrrp.js');
        return await vrrpCommand(args);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        process.stderr.write(`tapvs: unknown command '${cmd}'\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    process.stderr.write(`tapvs ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}

function cmdCheckConfig(args: string[]): number {
  const { flags, rest } = parseFlags(args, ['keepalived', 'config']);
  if (typeof flags.keepalived === 'string') return checkKeepalived(flags.keepalived, typeof flags.config === 'string' ? flags.config : rest[0]);
  const file = args[0];
  if (!file) throw new Error('usage: tapvs check-config FILE');
  const text = readFileSync(file, 'utf8');
  const r = parseConfig(text, file);
  if ('errors' in r) {
    for (const e of r.errors) process.stderr.write(formatConfigError(e) + '\n');
    return 1;
  }
  process.stdout.write(`${file}: OK (${r.config.ports.length} ports, ${r.config.services.length} services)\n`);
  return 0;
}

/** `check-config --keepalived FILE [--config FILE]`: every error and warning with file:line; 1 on errors. */
function checkKeepalived(file: string, configPath: string | undefined): number {
  const r = loadKeepalived(file, configPath);
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  if (!r.ok) {
    for (const e of r.errors) process.stderr.write(e + '\n');
    return 1;
  }
  const ports = configPath ? `${r.config.ports.length} ports from ${configPath}, ` : '';
  process.stdout.write(`${file}: OK (${ports}${r.config.services.length} services, ${r.config.healthChecks.length} checks)\n`);
  for (const l of describeServices(r.config)) process.stdout.write(`  ${l}\n`);
  for (const l of r.ha) process.stdout.write(`  ${l}\n`);
  return 0;
}
