// `--keepalived FILE`: a keepalived.conf's virtual servers, real servers and
// checkers as the director's services and health checks. keepalived.conf has
// no ports: those (and VIPs, routes, options) come from the tapvs config
// given with --config, whose own services, if any, run beside them.
import { readFileSync } from 'node:fs';
import { Topology, topologyProblems } from '../../model/topology.js';
import { DEFAULT_OPTIONS, type DirectorConfig, type ServiceConfig } from '../../model/config.js';
import { DEFAULT_TIMEOUTS, formatConfigError, parseConfig, serviceKeyOf } from '../config.js';
import { AF_INET6 } from '../../model/proto.js';
import { formatAddrPort, formatServiceKey } from '../ipvsadm-args.js';
import { interpret } from './interpret.js';
import { lexKeepalived, type LexError, type Where } from './lexer.js';
import type { KeepalivedConf } from './model.js';
import { translate } from './translate.js';
import { applyHa, haLines } from './ha.js';
import { buildTree } from './tree.js';

export { interpret } from './interpret.js';
export { lexKeepalived } from './lexer.js';
export { translate, KA_DEFAULTS } from './translate.js';
export { haLines, KA_VRRP_DEFAULTS } from './ha.js';
export { buildTree } from './tree.js';
export type { KeepalivedConf } from './model.js';

export type KeepalivedLoad =
  /** ha: the tapvs vrrp/sync lines the file's vrrp_instance and lvs_sync_daemon became (the config's `ha` is read from them). */
  | { ok: true; config: DirectorConfig; conf: KeepalivedConf; warnings: string[]; files: string[]; ha: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

const fmt = (e: LexError): string => (e.file ? `${e.file}:${e.line}: ${e.message}` : e.message);

/** Reads a keepalived.conf (and its includes) into the model; every error and warning with file:line. */
export function readKeepalived(path: string): { conf: KeepalivedConf; errors: LexError[]; warnings: LexError[]; files: string[] } {
  const lex = lexKeepalived(path);
  const tree = buildTree(lex.lines);
  const { conf, diag } = interpret(tree.stmts);
  return { conf, errors: [...lex.errors, ...tree.errors, ...diag.errors], warnings: diag.warnings, files: lex.files };
}

/** An empty director (no ports): what a keepalived.conf is checked against without --config. */
function emptyConfig(): DirectorConfig {
  return { ports: [], vips: [], routes: [], marks: [], services: [], timeouts: { ...DEFAULT_TIMEOUTS }, options: { ...DEFAULT_OPTIONS }, healthChecks: [], neighbours: [] };
}

/**
 * The director's config from a keepalived.conf and, optionally, a tapvs
 * config for its ports (configPath). Either the whole config or every error.
 */
export function loadKeepalived(path: string, configPath?: string): KeepalivedLoad {
  const warnings: string[] = [];
  const errors: string[] = [];
  let base = emptyConfig();
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (e) {
      return { ok: false, errors: [`${configPath}: cannot read: ${(e as Error).message}`], warnings };
    }
    const r = parseConfig(text, configPath, { servicesElsewhere: true });
    if ('errors' in r) return { ok: false, errors: r.errors.map(formatConfigError), warnings };
    base = r.config;
  }
  const read = readKeepalived(path);
  const diag = { errors: read.errors, warnings: read.warnings };
  const t = translate(read.conf, diag);
  const lines = haLines(read.conf, diag);
  warnings.push(...diag.warnings.map(fmt));
  errors.push(...diag.errors.map(fmt));
  if (errors.length > 0) return { ok: false, errors, warnings };

  const where = new Map<ServiceConfig, Where>(t.where);
  const baseKeys = new Map(base.services.map((s) => [formatServiceKey(serviceKeyOf(s)), s]));
  for (const s of t.services) {
    const k = formatServiceKey(serviceKeyOf(s));
    const clash = baseKeys.get(k);
    const w = where.get(s)!;
    if (clash) errors.push(`${w.file}:${w.line}: virtual server ${k} is also in ${configPath}:${clash.line ?? 0}`);
  }
  const ha = applyHa(lines, base, configPath, errors);
  if (errors.length > 0) return { ok: false, errors, warnings };
  const config: DirectorConfig = {
    ...base,
    vips: [...base.vips, ...ha.vips],
    ...(ha.ha ? { ha: ha.ha } : {}),
    services: [...base.services, ...t.services],
    healthChecks: [...base.healthChecks, ...t.healthChecks],
    timeouts: { ...base.timeouts, ...(t.timeouts ?? {}) },
  };
  if (base.ports.length > 0) {
    // reachability of the keepalived services, reported at their keepalived lines
    const only: DirectorConfig = { ...config, services: t.services, marks: [] };
    const saved = t.services.map((s) => s.line);
    t.services.forEach((s, i) => { s.line = i; });
    for (const p of topologyProblems(only)) {
      const s = p.line !== undefined ? t.services[p.line] : undefined;
      const w = s ? where.get(s)! : undefined;
      errors.push(w ? `${w.file}:${w.line}: ${p.message}` : p.message);
    }
    t.services.forEach((s, i) => { s.line = saved[i]; });
    const topo = Topology.of(config);
    for (const s of t.services) {
      const w = where.get(s)!;
      if (s.sorry) {
        const p = topo.destProblem(s.sorry.addr, s.sorry.fwd!, 'sorry server', s.sorry.addr6);
        if (p) errors.push(`${w.file}:${w.line}: ${p}`);
      }
      // a mark classifies one family's traffic; an IPv6 fwmark service gets only IPv6 packets (as IPVS's per-family fwmark lookup)
      const six = s.af === AF_INET6;
      if (s.fwmark && !config.marks.some((m) => m.mark === s.fwmark && (m.addr6 !== undefined) === six)) {
        errors.push(`${w.file}:${w.line}: fwmark service ${s.fwmark}${six ? ' (IPv6)' : ''} would receive nothing: add 'mark ${s.fwmark} tcp|udp ${six ? 'ADDR6' : 'ADDR'} [ports ...]' to ${configPath}`);
      }
    }
    for (const m of config.marks) {
      if (!config.services.some((s) => s.fwmark === m.mark)) errors.push(`${configPath}: mark ${m.mark} has no fwmark service (none in ${path} either)`);
    }
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config, conf: read.conf, warnings, files: read.files, ha: lines.map((l) => l.text) };
}

/** One line per service, for `check-config`: what the file became. */
export function describeServices(cfg: DirectorConfig): string[] {
  return cfg.services.map((s) => {
    const k = formatServiceKey(serviceKeyOf(s));
    const checks = cfg.healthChecks.filter((h) => h.service === k).length;
    const sorry = s.sorry ? `, sorry ${formatAddrPort(s.sorry.addr, s.sorry.addr6, s.sorry.port)}` : '';
    return `${k} -s ${s.scheduler}: ${s.dests.length} real servers, ${checks} checks${sorry}`;
  });
}
