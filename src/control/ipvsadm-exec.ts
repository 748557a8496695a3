// One ipvsadm command line run against the running director: what the
// control socket does with each request. Output and exit codes follow
// ipvsadm 1.31: 0 on success, 2 for what its own checks refuse, 255 for what
// popt refuses (with the "Try" line when the line does not start with a
// command), 1 when a listed service does not exist, 255 when the kernel
// (here: the rule checks) refuses a change. Names come resolved by the
// client (ipvsadm-names.ts): nothing here looks a name up.
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import { listConns } from '../conn/listing.js';
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { SIX_BEFORE_F, parseIpvsadmArgs, splitWords, tryHelpLine, type IpvsadmCommand, type NameLookup } from './ipvsadm-args.js';
import { IPVS_VERSION, formatConnections, formatServiceListing, formatTimeouts, namingFor, type ConnRecord, type Naming } from './ipvsadm-format.js';
import { answerLookup, reverseNames, type NameAnswers, type NameQuestions } from './ipvsadm-names.js';
import { formatSave, parseRestore } from './ipvsadm-save.js';
import { applyLive } from './live-rules.js';
import type { HaRuntime } from './ha/runtime.js';

export interface IpvsadmReply {
  code: number;
  stdout: string;
  stderr: string;
  /**
   * A listing without -n, asked without names, printed numerically: the
   * addresses and ports it printed, for the client to name and ask again.
   */
  lookup?: NameQuestions;
}

/** What a command needs: the director, and the running config's ports and routes. */
export interface IpvsadmTarget {
  readonly director: Director;
  readonly cfg: DirectorConfig;
  /** The HA pair (sync daemons for --start-daemon, --stop-daemon, -L --daemon); absent: none can run. */
  readonly ha?: HaRuntime;
}

export const EXIT_USAGE = 2;
export const EXIT_NO_SERVICE = 1;
/** ipvsadm returns -1 from main when the kernel refuses a change. */
export const EXIT_REFUSED = 255;

const ok = (stdout = ''): IpvsadmReply => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string): IpvsadmReply => ({ code, stdout: '', stderr: stderr.endsWith('\n') ? stderr : stderr + '\n' });

/** How `tapvs ipvsadm` names itself in the "Try ... -h" line (ipvsadm prints its argv[0]). */
export const PROGRAM = 'tapvs ipvsadm';

const HELP = `tapvs ipvsadm: ipvsadm's commands, sent to a running tapvs director
Usage:
  tapvs ipvsadm [--socket PATH] -A|E -t|u|f service-address [-s scheduler] [-p [timeout]] [-M netmask] [-b sched-flags] [-o]
  tapvs ipvsadm -D -t|u|f service-address
  tapvs ipvsadm -C
  tapvs ipvsadm -R [--compat] < rules
  tapvs ipvsadm -S [-n]
  tapvs ipvsadm -a|e -t|u|f service-address -r server-address [-g|i|m] [-w weight] [-x upper] [-y lower]
  tapvs ipvsadm -d -t|u|f service-address -r server-address
  tapvs ipvsadm -L|l [-n] [-c] [--timeout] [--stats] [--rate] [--thresholds] [--persistent-conn] [--exact] [--nosort] [-t|u|f service-address]
  tapvs ipvsadm -Z [-t|u|f service-address]
  tapvs ipvsadm --set tcp tcpfin udp
  tapvs ipvsadm -h | -v
An SCTP service is named --sctp-service service-address wherever -t|u|f is shown.
Addresses may be host names (IPv4, first address) and ports service names
(tcp, udp), as ipvsadm resolves them; -L, -c and -S without -n print names
(IPv6 addresses stay numeric, as in ipvsadm). Each lookup is given 2 s.
Changes are applied whole or not at all; -R checks every line before changing anything
(-R --compat applies line by line and goes on after a refused line, as ipvsadm -R does).
Help, version and command-line errors are answered without a director.
`;

export const VERSION_TEXT = `ipvsadm v1.31 (tapvs; IPVS v${IPVS_VERSION} compatible)\n`;

/** The reply to a line refused by the parser: ipvsadm's message and exit code. */
function refusal(r: { error: string; code: number; tryHelp?: boolean }, program: string): IpvsadmReply {
  if (r.error === SIX_BEFORE_F) return fail(r.code, `${r.error}\n\n`); // fail(2, "-6 used before -f\n") adds its own newline
  return fail(r.code, r.tryHelp ? tryHelpLine(program) : r.error);
}

/**
 * What ipvsadm answers without IPVS: help, version and command-line errors
 * (the parse comes before any request is sent; `names`: the client's answers
 * to its name lookups). null: the director must answer.
 */
export function localReply(argv: readonly string[], program = PROGRAM, names?: NameLookup): IpvsadmReply | null {
  const parsed = parseIpvsadmArgs(argv, names);
  if (!parsed.ok) return refusal(parsed, program);
  if (parsed.command.cmd === 'help') return ok(HELP);
  if (parsed.command.cmd === 'version') return ok(VERSION_TEXT);
  return null;
}

function connRecords(d: Director, now: number): ConnRecord[] {
  const t = d.conns;
  return listConns(t, now).map((r) => {
    const p = t.proto[r.slot]!;
    const rec: ConnRecord = {
      proto: p === IPPROTO_TCP || p === IPPROTO_UDP || p === IPPROTO_SCTP ? p : 0,
      state: r.state,
      expiresInMs: r.expiresIn,
      caddr: r.caddr, cport: r.cport, vaddr: r.vaddr, vport: r.vport, daddr: r.daddr, dport: r.dport,
    };
    if (r.caddr6) {
      rec.caddr6 = r.caddr6;
      rec.vaddr6 = r.vaddr6!;
      rec.daddr6 = r.daddr6!;
      // an IPv6 fwmark template keys on ::MARK here; the kernel keeps the mark in the first word ({ .ip = htonl(fwmark) }) and lists that
      if (r.template && p === 0) rec.vaddr6 = Uint32Array.of(r.vaddr6![3]!, 0, 0, 0);
    }
    return rec;
  });
}

/** A listing's reply, with the questions of its naming when it was printed without names to ask for them. */
function named(reply: IpvsadmReply, nm: Naming): IpvsadmReply {
  if (nm.numeric || nm.names || reply.code !== 0) return reply;
  const q = nm.questions.result();
  return q ? { ...reply, lookup: q } : reply;
}

function list(t: IpvsadmTarget, c: Extract<IpvsadmCommand, { cmd: 'list' }>, now: number, names?: NameAnswers): IpvsadmReply {
  const d = t.director;
  const nm = namingFor(c.format, reverseNames(names));
  switch (c.what) {
    case 'connections':
      return named(ok(formatConnections(connRecords(d, now), c.format, nm)), nm);
    case 'timeout':
      return ok(formatTimeouts(d.conns.timeouts.get()));
    case 'daemon':
      // master then backup, one line each; nothing when none runs (as ipvsadm)
      return ok(t.ha?.sync.listing() ?? '');
    default: {
      const r = formatServiceListing(d.services, c.format, d.conns.buckets, c.key, nm);
      return r.ok ? named(ok(r.text), nm) : fail(EXIT_NO_SERVICE, r.error);
    }
  }
}

/**
 * `-R --compat`: ipvsadm's restore_table. Each line is run as its own
 * command, in order: a line the parser refuses ends the restore there with
 * its exit code (the lines before it stay applied); a change the rules
 * refuse prints its error and the restore goes on; the exit code is the
 * last line's. A listing line is printed with the numbers (the names the
 * client sent are those of the lines' arguments).
 */
function restoreCompat(t: IpvsadmTarget, stdin: string, now: number, names?: NameAnswers): IpvsadmReply {
  const lookup = names ? answerLookup(names) : undefined;
  const forward: NameAnswers | undefined = names ? { hosts: names.hosts ?? {}, services: names.services ?? {} } : undefined;
  let stdout = '';
  let stderr = '';
  let code = 0;
  for (const raw of stdin.split('\n')) {
    const words = splitWords(raw);
    if (words.length === 0) continue;
    const parsed = parseIpvsadmArgs(words, lookup);
    const r = parsed.ok && parsed.command.cmd === 'restore'
      ? fail(255, tryHelpLine(PROGRAM)) // ipvsadm refuses -R inside -R (reading_stdin)
      : execIpvsadm(t, words, undefined, now, forward);
    stdout += r.stdout;
    stderr += r.stderr;
    code = r.code;
    // (a listing line's questions are dropped: the reply is the whole restore's)
    const stops = !parsed.ok || (parsed.command.cmd === 'restore') || parsed.command.cmd === 'help' || parsed.command.cmd === 'version';
    if (stops) break;
  }
  return { code, stdout, stderr };
}

function restoreFrom(t: IpvsadmTarget, stdin: string, names?: NameAnswers): IpvsadmReply {
  const p = parseRestore(stdin, names ? answerLookup(names) : undefined);
  if ('errors' in p) {
    const lines = p.errors.map((e) => `line ${e.line}: ${e.message}`);
    return fail(EXIT_USAGE, `${lines.join('\n')}\nno rule was changed\n`);
  }
  const r = applyLive(t.director, t.cfg, p.commands);
  if (r.ok) return ok();
  const lines = r.errors.map((e) => `line ${p.lines[e.index]}: ${e.message}`);
  return fail(EXIT_REFUSED, `${lines.join('\n')}\nno rule was changed\n`);
}

/**
 * Runs one ipvsadm command line (argv without the program name) with the
 * given stdin (for -R). `now` is the port clock, for connection expiry times.
 * `names`: what the client resolved: the answers to the line's (and -R's
 * lines') name lookups, and for a listing the names of what it prints.
 */
export function execIpvsadm(
  t: IpvsadmTarget, argv: readonly string[], stdin: string | undefined, now: number, names?: NameAnswers,
): IpvsadmReply {
  const parsed = parseIpvsadmArgs(argv, names ? answerLookup(names) : undefined);
  if (!parsed.ok) return refusal(parsed, PROGRAM);
  const c = parsed.command;
  switch (c.cmd) {
    case 'help':
      return ok(HELP);
    case 'version':
      return ok(VERSION_TEXT);
    case 'list':
      return list(t, c, now, names);
    case 'save': {
      const nm = namingFor(c.format, reverseNames(names));
      return named(ok(formatSave(t.director.services, nm)), nm);
    }
    case 'restore':
      return c.compat ? restoreCompat(t, stdin ?? '', now, names) : restoreFrom(t, stdin ?? '', names);
    case 'start-daemon':
    case 'stop-daemon': {
      if (!t.ha) return fail(EXIT_REFUSED, 'the sync daemons need a running director');
      const err = c.cmd === 'start-daemon' ? t.ha.sync.start(c.daemon) : t.ha.sync.stop(c.state);
      return err === null ? ok() : fail(EXIT_REFUSED, err);
    }
    default: {
      const r = applyLive(t.director, t.cfg, [c]);
      if (r.ok) return ok();
      return fail(EXIT_REFUSED, r.errors.map((e) => e.message).join('\n'));
    }
  }
}
