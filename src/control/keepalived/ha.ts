// keepalived's VRRP half into tapvs's HA config: each vrrp_instance becomes
// a `vrrp` line and global_defs lvs_sync_daemon a `sync follow` line (the
// daemon follows the instance as keepalived runs it: master while the
// instance is master, backup otherwise), with keepalived's defaults written
// out (vrrp_parser.c, global_parser.c): priority 100, advert_int 1, preempt
// on, version 2 unless vrrp_version 3, garp_master_repeat 5 and
// garp_master_delay 5 unless global_defs says otherwise. The lines go
// through the tapvs config's own parser (ha-config.ts), so they mean what
// they mean there; every message carries the keepalived file:line.
import type { DirectorConfig, VipConfig } from '../../model/config.js';
import type { HaConfig } from '../../model/ha.js';
import { HaConfigParser } from '../ha-config.js';
import type { Diagnostics } from './interpret.js';
import type { Where } from './lexer.js';
import type { KeepalivedConf } from './model.js';

/** keepalived's VRRP defaults (vrrp_data.c, global_data.c). */
export const KA_VRRP_DEFAULTS = { priority: 100, advertIntS: 1, version: 2, garpMasterRepeat: 5, garpMasterDelayS: 5 } as const;

export interface HaLine extends Where {
  /** The tapvs config line (`vrrp ...` or `sync follow ...`). */
  text: string;
  /** The interfaces it names (instance interface, `dev` of a VIP, the sync interface), each where it was written. */
  ifaces: (Where & { name: string; what: string })[];
  /** The VIPs it moves and the port each is answered on (its `dev`, else the instance's interface). */
  vips: (Where & { addr: string; port: string })[];
}

const ms = (s: number): string => `${Math.round(s * 1000)}ms`;

/** The tapvs lines for the file's vrrp_instance blocks and lvs_sync_daemon; errors for what cannot become one. */
export function haLines(conf: KeepalivedConf, diag: Diagnostics): HaLine[] {
  const err = (w: Where, message: string): void => void diag.errors.push({ file: w.file, line: w.line, message });
  const warn = (w: Where, message: string): void => void diag.warnings.push({ file: w.file, line: w.line, message });
  const g = conf.global;
  const out: HaLine[] = [];
  for (const v of conf.vrrpInstances) {
    let bad = false;
    if (v.virtualRouterId === undefined) {
      err(v, `(${v.name}) the virtual router id must be set`);
      bad = true;
    }
    if (v.interface === undefined) {
      err(v, `(${v.name}) has no interface: name the tapvs port its adverts go out of (interface PORT)`);
      bad = true;
    }
    if (v.vips.length === 0) {
      err(v, `(${v.name}) has no virtual_ipaddress: a tapvs VRRP instance advertises at least one IPv4 address`);
      bad = true;
    }
    if (bad) continue;
    let preempt = !v.nopreempt;
    if (v.nopreempt && v.state === 'MASTER') {
      // vrrp.c: nopreempt needs the initial state BACKUP; keepalived clears it
      warn(v, `(${v.name}) Warning - nopreempt will not work with initial state MASTER - clearing`);
      preempt = true;
    }
    let delayS = v.preemptDelayS ?? 0;
    if (!preempt && delayS > 0) {
      warn(v, `(${v.name}) preempt_delay is incompatible with nopreempt mode - resetting`);
      delayS = 0;
    }
    const version = v.version ?? g.vrrpVersion ?? KA_VRRP_DEFAULTS.version;
    let advS = v.advertIntS ?? KA_VRRP_DEFAULTS.advertIntS;
    if (version === 2 && !Number.isInteger(advS)) {
      warn(v, `(${v.name}) VRRPv2 advertisement interval ${advS}s must be an integer. rounding`);
      advS = Math.max(1, Math.round(advS));
    }
    const ifn = v.interface!;
    const words = [
      'vrrp', v.name, `port=${ifn}`, `vrid=${v.virtualRouterId}`, `priority=${v.priority ?? KA_VRRP_DEFAULTS.priority}`,
      `version=${version}`, `advert=${ms(advS)}`, `preempt=${preempt ? 'on' : 'off'}`, `preempt_delay=${ms(delayS)}`,
      `garp_repeat=${v.garpMasterRepeat ?? g.vrrpGarpMasterRepeat ?? KA_VRRP_DEFAULTS.garpMasterRepeat}`,
      `garp_delay=${ms(v.garpMasterDelayS ?? g.vrrpGarpMasterDelayS ?? KA_VRRP_DEFAULTS.garpMasterDelayS)}`,
      ...v.vips.map((a) => `vip=${a.addr.text}`), ...v.excluded.map((a) => `excluded=${a.addr.text}`),
    ];
    const ifaces: HaLine['ifaces'] = [{ name: ifn, what: `interface of vrrp_instance ${v.name}`, ...(v.interfaceAt ?? { file: v.file, line: v.line }) }];
    const vips: HaLine['vips'] = [];
    for (const a of [...v.vips, ...v.excluded]) {
      if (a.dev !== undefined) ifaces.push({ name: a.dev, what: `dev of ${a.addr.text}`, file: a.file, line: a.line });
      vips.push({ addr: a.addr.text, port: a.dev ?? ifn, file: a.file, line: a.line });
    }
    out.push({ text: words.join(' '), ifaces, vips, file: v.file, line: v.line });
  }
  const d = g.lvsSyncDaemon;
  if (d) {
    if (!conf.vrrpInstances.some((v) => v.name === d.instance)) {
      err(d, `lvs_sync_daemon: vrrp_instance ${d.instance} is not defined (the daemon follows its state)`);
    } else {
      const words = ['sync', 'follow', d.instance, `port=${d.interface}`];
      if (d.id !== undefined) words.push(`syncid=${d.id}`);
      if (d.maxlen !== undefined) words.push(`maxlen=${d.maxlen}`);
      if (d.port !== undefined) words.push(`mcast_port=${d.port}`);
      if (d.ttl !== undefined) words.push(`ttl=${d.ttl}`);
      if (d.group !== undefined) words.push(`group=${d.group}`);
      out.push({ text: words.join(' '), ifaces: [{ name: d.interface, what: 'lvs_sync_daemon interface', file: d.file, line: d.line }], vips: [], file: d.file, line: d.line });
    }
  }
  return out;
}

const ip4 = (t: string): number => t.split('.').reduce((n, b) => n * 256 + Number(b), 0) >>> 0;

/**
 * The HA config and the VIPs to add for `lines`, checked against the tapvs
 * config `base` (its ports; its own vrrp/sync lines may not be there too).
 * Errors are pushed as text with file:line.
 */
export function applyHa(lines: readonly HaLine[], base: DirectorConfig, configPath: string | undefined, errors: string[]): { ha?: HaConfig; vips: VipConfig[] } {
  const at = (w: Where, m: string): void => void errors.push(`${w.file}:${w.line}: ${m}`);
  const vips: VipConfig[] = [];
  if (lines.length === 0) return { vips };
  const b = base.ha;
  if (b && (b.vrrp.length > 0 || b.sync.length > 0 || b.syncFollow)) {
    at(lines[0]!, `${configPath} has vrrp/sync lines of its own: give the HA pair in one of the two files`);
    return { vips };
  }
  const checkPorts = base.ports.length > 0;
  const names = base.ports.map((p) => p.name);
  let portErrors = false;
  if (checkPorts) {
    for (const l of lines) for (const i of l.ifaces) {
      if (names.includes(i.name)) continue;
      at(i, `${i.what}: '${i.name}' is no tapvs port (${configPath} has ${names.join(', ')}): name the tapvs port the adverts and VIPs use`);
      portErrors = true;
    }
  }
  const have = new Set(base.vips.filter((v) => v.addr6 === undefined).map((v) => v.addr >>> 0));
  for (const l of lines) for (const a of l.vips) {
    const n = ip4(a.addr);
    if (have.has(n)) continue;
    have.add(n);
    vips.push({ addr: n, port: a.port });
  }
  // the parser numbers lines by their index here: its '(line N)' becomes the keepalived file:line
  const fix = (m: string): string => m.replace(/\(line (\d+)\)/g, (x, n: string) => (lines[Number(n)] ? `(${lines[Number(n)]!.file}:${lines[Number(n)]!.line})` : x));
  const p = new HaConfigParser();
  lines.forEach((l, i) => {
    const words = l.text.split(' ');
    p.line(words[0]!, words.slice(1), i, (m) => at(l, `${fix(m)} (from: ${l.text})`));
  });
  if (checkPorts && !portErrors) {
    const ports = base.ports.map((x) => ({ name: x.name, addrs: x.addrs }));
    p.finish(ports, [...base.vips, ...vips], (m, i) => {
      const l = i !== undefined ? lines[i] : undefined;
      if (l) at(l, fix(m));
      else errors.push(`${lines[0]!.file}: ${fix(m)}`);
    });
  }
  const ha = p.result();
  if (!ha) return { vips };
  ha.vrrp.forEach((v) => { v.line = lines[v.line ?? 0]?.line; });
  if (ha.syncFollow) ha.syncFollow.line = lines[ha.syncFollow.line ?? 0]?.line;
  if (b) ha.syncSettings = { ...b.syncSettings };
  return { ha, vips };
}
