// The IPVS sysctls a running tapvs has (the kernel's /proc/sys/net/ipv4/vs/*
// that mean something here), by name: read and set over the control socket
// (`tapvs sysctl`), and set in the config (`option NAME VALUE`), with one
// reading of each value. ipvsadm has no switch for them (the kernel's are
// set with sysctl(8)), so they have a command of their own.
import { connSettingsOf, type ConnSettings } from '../conn/table.js';
import type { Director } from '../director/director.js';
import type { DirectorOptions } from '../model/config.js';
import type { ControlReply, ControlRequest } from './control-socket.js';

/** A control-socket request for `tapvs sysctl` (argv: its arguments). */
export interface SysctlRequest extends ControlRequest {
  verb: 'sysctl';
}

/** bool 0/1; mode: a flood defence 0..3 (2 reads as 1 for comparing); bits: a bit map 0..3; count; seconds 1..2147483. */
type Kind = 'bool' | 'mode' | 'bits' | 'count' | 'seconds';

export interface SysctlDef {
  name: string;
  /** The ConnSettings field (the same name in DirectorOptions). */
  key: keyof ConnSettings & keyof DirectorOptions;
  kind: Kind;
  about: string;
}

const MAX_COUNT = 0x7fffffff;
/** The kernel keeps lblc(r)_expiration in jiffies in an int: at HZ 1000, this many seconds. */
const MAX_SECONDS = 2147483;

/** Every sysctl tapvs knows, in the order `tapvs sysctl` lists them (by name, as sysctl -a). */
export const SYSCTLS: readonly SysctlDef[] = ([
  { name: 'am_droprate', key: 'amDroprate', kind: 'count', about: 'drop_packet rate in mode 3 (drop 1 in N)' },
  { name: 'amemthresh', key: 'amemthresh', kind: 'count', about: 'free connection-table slots below which the automatic defences turn on' },
  { name: 'drop_entry', key: 'dropEntry', kind: 'mode', about: 'drop SYN_RECV/SYNACK entries in 1/32 of the table each second' },
  { name: 'drop_packet', key: 'dropPacket', kind: 'mode', about: 'drop 1 in rate new-connection packets' },
  { name: 'evict_embryonic', key: 'evictEmbryonic', kind: 'bool', about: 'a full table gives the oldest embryonic TCP connection\'s slot to a new one (tapvs)' },
  { name: 'expire_nodest_conn', key: 'expireNodestConn', kind: 'bool', about: 'expire a connection whose real server was removed at its next packet' },
  { name: 'expire_quiescent_template', key: 'expireQuiescentTemplate', kind: 'bool', about: 'a persistence template of a weight-0 real server binds no new connection' },
  { name: 'conn_reuse_mode', key: 'connReuseMode', kind: 'bits', about: 'bit 0: a SYN on a TIME_WAIT/CLOSE conn is scheduled anew; bit 1: also on FIN_WAIT of DR/TUN' },
  { name: 'secure_tcp', key: 'secureTcp', kind: 'mode', about: 'the stricter TCP state table' },
  { name: 'sloppy_tcp', key: 'sloppyTcp', kind: 'bool', about: 'any TCP packet but a RST may open a connection, not only a SYN' },
  { name: 'sloppy_sctp', key: 'sloppySctp', kind: 'bool', about: 'any SCTP packet but an ABORT may open an association, not only an INIT' },
  { name: 'schedule_icmp', key: 'scheduleIcmp', kind: 'bool', about: 'an ICMP error about a packet of no connection is scheduled as a new connection' },
  { name: 'nat_icmp_send', key: 'natIcmpSend', kind: 'bool', about: 'a NAT real server\'s packet of no connection is answered with port unreachable' },
  { name: 'pmtu_disc', key: 'pmtuDisc', kind: 'bool', about: 'too-big DF packets are refused with frag-needed; 0: TUN fragments them' },
  { name: 'ignore_tunneled', key: 'ignoreTunneled', kind: 'bool', about: 'packets of protocols IPVS does not balance (IPIP, GRE, ...) are never balanced' },
  { name: 'cache_bypass', key: 'cacheBypass', kind: 'bool', about: 'a fwmark service with no real server forwards to the packet\'s own destination' },
  { name: 'run_estimation', key: 'runEstimation', kind: 'bool', about: 'the rate estimator runs; 0: rates stay as they were' },
  { name: 'lblc_expiration', key: 'lblcExpiration', kind: 'seconds', about: 'seconds an unused lblc entry is kept' },
  { name: 'lblcr_expiration', key: 'lblcrExpiration', kind: 'seconds', about: 'seconds an unused lblcr entry is kept (and an unchanged set keeps its extra members)' },
] as SysctlDef[]).sort((a, b) => (a.name < b.name ? -1 : 1));

/** The sysctls `option NAME VALUE` takes through this table (the two expire_* options have their own case in the config). */
export const DEFENSE_OPTION_NAMES = ['drop_entry', 'drop_packet', 'secure_tcp', 'amemthresh', 'am_droprate', 'evict_embryonic',
  ...SYSCTLS.map((d) => d.name).filter((n) => !n.startsWith('expire_') && !['drop_entry', 'drop_packet', 'secure_tcp', 'amemthresh', 'am_droprate', 'evict_embryonic'].includes(n))];

const PREFIX = 'net.ipv4.vs.';

/** The sysctl called `name` (also with the kernel's net.ipv4.vs. or net/ipv4/vs/ in front), or undefined. */
export function findSysctl(name: string): SysctlDef | undefined {
  let n = name.replace(/\//g, '.');
  if (n.startsWith(PREFIX)) n = n.slice(PREFIX.length);
  return SYSCTLS.find((d) => d.name === n);
}

/** A value as the sysctl takes it, or why not. Booleans: 0/1 (also yes/no, on/off, true/false); modes 0..3. */
export function parseSysctlValue(def: SysctlDef, text: string): { value: number | boolean } | { error: string } {
  const t = text.trim();
  if (def.kind === 'bool') {
    if (['1', 'yes', 'true', 'on'].includes(t)) return { value: true };
    if (['0', 'no', 'false', 'off'].includes(t)) return { value: false };
    return { error: `'${text}' is not a boolean (0/1, yes/no, on/off, true/false)` };
  }
  const min = def.kind === 'seconds' ? 1 : 0;
  const max = def.kind === 'mode' || def.kind === 'bits' ? 3 : def.kind === 'seconds' ? MAX_SECONDS : MAX_COUNT;
  if (!/^[0-9]+$/.test(t) || Number(t) > max || Number(t) < min) {
    if (def.kind === 'mode') return { error: `'${text}' is not a mode 0..3 (0 off, 1 and 2 automatic, 3 always)` };
    if (def.kind === 'bits') return { error: `'${text}' is not 0..3 (bit 0: TIME_WAIT/CLOSE, bit 1: FIN_WAIT of DR/TUN)` };
    return { error: def.kind === 'seconds' ? `'${text}' is not a whole number of seconds in 1..${MAX_SECONDS}` : `'${text}' is not a whole number in 0..${MAX_COUNT}` };
  }
  return { value: Number(t) };
}

/** A setting's value as sysctl(8) prints it. */
export function formatSysctlValue(v: unknown): string {
  return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}

/**
 * The automatic modes read 2 while a defence is on and 1 while off: both
 * are "automatic" as a setting. For comparing a config with what runs.
 */
export function sameSetting(def: SysctlDef, a: unknown, b: unknown): boolean {
  if (def.kind === 'mode') return (a === 2 ? 1 : a) === (b === 2 ? 1 : b);
  return a === b;
}

/** The live settings a config's options ask for (an option left out: its default), for Director.mutate.setConnSettings. */
export function liveSettingsOf(o: DirectorOptions): Partial<ConnSettings> {
  return connSettingsOf(o);
}

/** Would applying `o` change a live setting of `settings`? (The automatic modes' 1 and 2 are one setting.) */
export function liveSettingsDiffer(settings: ConnSettings, o: DirectorOptions): boolean {
  const want = liveSettingsOf(o);
  return SYSCTLS.some((def) => !sameSetting(def, settings[def.key], want[def.key]));
}

const USAGE = 'usage: tapvs sysctl [--socket PATH] [--status] [NAME[=VALUE] | NAME VALUE ...]';

function reply(code: number, stdout: string, stderr = ''): ControlReply {
  return { code, stdout, stderr };
}

/** The table's figures behind the defences, for `tapvs sysctl --status`. */
export function defenseStatus(d: Director): string {
  const t = d.conns;
  const c = t.counters;
  return [
    `connection table: ${t.max} slots, ${t.size} used, ${t.available} free (amemthresh ${t.settings.amemthresh}: ${t.available < t.settings.amemthresh ? 'low' : 'not low'})`,
    `embryonic TCP connections held for evict_embryonic: ${t.embryonicCount}`,
    `in force: drop_entry ${t.dropEntryOn ? 'yes' : 'no'}, drop_packet ${t.dropRate === 0 ? 'no' : `1 in ${t.dropRate}`}, secure_tcp ${t.secureTcpOn ? 'yes' : 'no'}`,
    `since start: ${c.evicted} evicted, ${c.dropEntry} dropped by drop_entry, ${d.drops.get('drop-packet')} dropped by drop_packet, ${c.tableFull} refused (table full)`,
    `fragment table: ${d.frags.size} of ${d.frags.capacity} decisions, ${d.frags.heldCount} early fragments held`,
  ].join('\n') + '\n';
}

/**
 * `tapvs sysctl` on the director: no names lists every setting; NAME shows
 * one; NAME=VALUE (or NAME VALUE) sets it. All the settings of one request
 * are checked first and applied together, or none is. Prints sysctl(8)'s
 * `name = value` lines. Exit 0, or 1 for a name or value it refuses.
 */
export function execSysctl(d: Director, argv: readonly string[]): ControlReply {
  let status = false;
  const words: string[] = [];
  for (const a of argv) {
    if (a === '--status') status = true;
    else if (a === '-a' || a === '--all') continue;
    else if (a === '-h' || a === '--help') return reply(0, `${USAGE}\n${SYSCTLS.map((s) => `  ${s.name.padEnd(26)} ${s.about}`).join('\n')}\n`);
    else if (a.startsWith('-')) return reply(2, '', `tapvs sysctl: unknown option '${a}'\n${USAGE}\n`);
    else words.push(a);
  }
  const settings = d.conns.settings;
  const show = (def: SysctlDef): string => `${def.name} = ${formatSysctlValue(settings[def.key])}\n`;
  const reads: SysctlDef[] = [];
  const writes: [SysctlDef, number | boolean][] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const eq = w.indexOf('=');
    const name = eq >= 0 ? w.slice(0, eq) : w;
    const def = findSysctl(name);
    if (!def) return reply(1, '', `tapvs sysctl: unknown setting '${name}' (known: ${SYSCTLS.map((s) => s.name).join(', ')})\n`);
    let text: string | undefined;
    if (eq >= 0) text = w.slice(eq + 1);
    else if (i + 1 < words.length && findSysctl(words[i + 1]!) === undefined && !words[i + 1]!.includes('=')) text = words[++i];
    if (text === undefined) {
      reads.push(def);
      continue;
    }
    const v = parseSysctlValue(def, text);
    if ('error' in v) return reply(1, '', `tapvs sysctl: ${def.name}: ${v.error}\n`);
    writes.push([def, v.value]);
  }
  if (writes.length > 0) {
    const change: Partial<ConnSettings> = {};
    for (const [def, v] of writes) (change as Record<string, unknown>)[def.key] = v;
    d.mutate.setConnSettings(change);
  }
  let out = '';
  if (reads.length === 0 && writes.length === 0) for (const def of SYSCTLS) out += show(def);
  // as sysctl -w, a setting written is printed back (an automatic mode reads 2 if its defence came on at once)
  for (const def of [...reads, ...writes.map(([def]) => def)]) out += show(def);
  if (status) out += defenseStatus(d);
  return reply(0, out);
}

/** Did this request change a setting (for the control plane's log and recorder)? */
export function sysctlWrites(argv: readonly string[]): boolean {
  return argv.some((a, i) => a.includes('=') || (i > 0 && findSysctl(argv[i - 1]!) !== undefined && findSysctl(a) === undefined && !a.startsWith('-')));
}
