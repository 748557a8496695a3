// ipvsadm -S (ipvsadm-save) output, and -R (ipvsadm-restore) input.
//
// Order: the kernel keeps real servers newest first, but ipvsadm -S sorts
// services and real servers (ipvs_sort_services / ipvs_sort_dests), and -R
// adds them in file order. So a saved text restored into an empty table and
// saved again comes back byte for byte, whatever order the kernel list is in.
import { FWD_MASQ, FWD_TUN, TUN_GUE, TUN_IPIP, TUN_NAMES, type Dest } from '../model/dest.js';
import { AF_INET6 } from '../model/proto.js';
import type { Service } from '../model/service.js';
import type { ServiceTable } from '../model/services.js';
import { formatIpv4, parseIpvsadmArgs, serviceOption, splitWords, type IpvsadmCommand, type NameLookup } from './ipvsadm-args.js';
import { NUMERIC, schedFlagsText, sortDests, sortServices, type Naming } from './ipvsadm-format.js';
import { IPPROTO_TCP } from '../model/proto.js';
import { applyCommands, type RuleEffect } from './rules.js';
import type { Mutations } from '../director/mutations.js';

function ruleName(svc: Service, nm: Naming): string {
  const v6 = svc.af === AF_INET6;
  if (svc.fwmark) return v6 ? `-f ${svc.fwmark} -6` : `-f ${svc.fwmark}`;
  return `${serviceOption(svc.proto)} ${nm.addrPort(svc.addr, v6 ? svc.addr6 : undefined, svc.port, svc.proto)}`;
}

function serviceRule(svc: Service, nm: Naming): string {
  let line = `-A ${ruleName(svc, nm)} -s ${svc.sched.name}`;
  if (svc.persistent) {
    line += ` -p ${svc.timeout}`;
    if (svc.af === AF_INET6) {
      if (svc.prefix6 !== 128) line += ` -M ${svc.prefix6}`;
    } else if (svc.netmask >>> 0 !== 0xffffffff) line += ` -M ${formatIpv4(svc.netmask)}`;
  }
  if (svc.onePacket) line += ' -o';
  const flags = schedFlagsText(svc);
  if (flags) line += ` -b ${flags}`;
  return line;
}

/** ipvsadm's tun_flags_opts, by flag value. */
const TUN_FLAG_OPTS: readonly string[] = ['--tun-nocsum', '--tun-csum', '--tun-remcsum'];

function destRule(svc: Service, d: Dest, nm: Naming): string {
  const sw = d.fwd === FWD_MASQ ? '-m' : d.fwd === FWD_TUN ? '-i' : '-g';
  // a fwmark service's real servers are named under TCP, as in the listing
  const dest = nm.addrPort(d.addr, d.af === AF_INET6 ? d.addr6 : undefined, d.port, svc.fwmark ? IPPROTO_TCP : svc.proto);
  let line = `-a ${ruleName(svc, nm)} -r ${dest} ${sw} -w ${d.weight}`;
  // ipvsadm 1.31 names the tunnel type of every tunnel server
  // (print_tunnel_rule: GUE with its port and checksum option, GRE with its checksum option)
  if (d.fwd === FWD_TUN) {
    line += ` --tun-type ${TUN_NAMES[d.tunType]}`;
    if (d.tunType === TUN_GUE) line += ` --tun-port ${d.tunPort}`;
    if (d.tunType !== TUN_IPIP) line += ` ${TUN_FLAG_OPTS[d.tunFlags] ?? '--tun-nocsum'}`;
  }
  // ipvsadm does not save thresholds, so a restore loses them; tapvs keeps
  // them, and only prints them when set so that other rule sets read as ipvsadm's
  if (d.uThreshold) line += ` -x ${d.uThreshold}`;
  if (d.lThreshold) line += ` -y ${d.lThreshold}`;
  return line;
}

/**
 * `ipvsadm -S -n`: one line per service and per real server, sorted as
 * ipvsadm sorts them. `ipvsadm -S` with names: a non-numeric Naming (rule
 * lines are not cut to the listing's widths, as in ipvsadm).
 */
export function formatSave(table: ServiceTable, nm: Naming = NUMERIC): string {
  let out = '';
  for (const svc of sortServices(table.all)) {
    out += serviceRule(svc, nm) + '\n';
    for (const d of sortDests(svc.dests)) out += destRule(svc, d, nm) + '\n';
  }
  return out;
}

export interface RestoreError {
  line: number;
  message: string;
}

/**
 * Reads `ipvsadm -R` input: one ipvsadm command per line, blank lines and
 * '#' comments skipped, an optional leading "ipvsadm" word dropped. Returns
 * the commands with their line numbers, or every line's error. `names`:
 * the answers to the lines' name lookups (as for one command line).
 */
export function parseRestore(text: string, names?: NameLookup): { commands: IpvsadmCommand[]; lines: number[] } | { errors: RestoreError[] } {
  const commands: IpvsadmCommand[] = [];
  const lines: number[] = [];
  const errors: RestoreError[] = [];
  text.split('\n').forEach((raw, i) => {
    const words = splitWords(raw);
    if (words.length === 0 || (words.length === 1 && words[0] === 'ipvsadm')) return;
    const r = parseIpvsadmArgs(words, names);
    if (!r.ok) {
      errors.push({ line: i + 1, message: r.error });
      return;
    }
    const c = r.command.cmd;
    if (c === 'list' || c === 'save' || c === 'restore' || c === 'help' || c === 'version') {
      errors.push({ line: i + 1, message: `'${c}' cannot be restored: -R reads commands that change the table` });
      return;
    }
    commands.push(r.command);
    lines.push(i + 1);
  });
  return errors.length > 0 ? { errors } : { commands, lines };
}

/** `ipvsadm -R`: parses and applies a saved text, all or nothing. Errors carry line numbers. */
export function restore(
  table: ServiceTable,
  m: Mutations,
  text: string,
): { ok: true; effects: RuleEffect[] } | { ok: false; errors: RestoreError[] } {
  const p = parseRestore(text);
  if ('errors' in p) return { ok: false, errors: p.errors };
  const r = applyCommands(table, m, p.commands);
  if (r.ok) return r;
  return { ok: false, errors: r.errors.map((e) => ({ line: p.lines[e.index]!, message: e.message })) };
}
