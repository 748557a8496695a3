// `tapvs ipvsadm [--socket PATH] ARGS...`: ipvsadm for a running tapvs. The
// command line goes to the director as it is (the director parses it, so
// client and server can never disagree), with stdin for -R, and the reply is
// printed as ipvsadm would print it, with ipvsadm's exit code.
//
// Names are looked up here, in the user's process, as ipvsadm looks them
// up (ipvsadm-names.ts has the protocol): the host and service names of the
// arguments (and of -R's lines) before the request, sent with it as
// answers; for a listing without -n, the addresses and ports the director
// says it printed, after which the listing is asked for again with their
// names. The director formats every listing; nothing here rewrites its text.
import { parseIpvsadmArgs } from '../control/ipvsadm-args.js';
import { PROGRAM, localReply } from '../control/ipvsadm-exec.js';
import { MAX_FORWARD_NAMES, answerLookup, wantedNames, type NameAnswers } from '../control/ipvsadm-names.js';
import { ControlUnreachable, DEFAULT_CONTROL_SOCKET, sendControlRequest, type ControlReply, type ControlRequest } from '../control/control-socket.js';
import { SystemResolver, resolveForward, resolveReverse, type LookupLimits, type Resolver } from './ipvsadm-resolve.js';

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Reads all of stdin (only called for -R). */
  readStdin(): Promise<string>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => readAll(process.stdin),
};

/** Takes `--socket PATH` / `--socket=PATH` out of argv (ipvsadm has no such option). */
export function splitSocketFlag(args: readonly string[]): { socket: string | undefined; argv: string[] } | { error: string } {
  const argv: string[] = [];
  let socket: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--socket') {
      const v = args[i + 1];
      if (v === undefined || v === '') return { error: '--socket needs a path' };
      socket = v;
      i++;
    } else if (a.startsWith('--socket=')) {
      socket = a.slice('--socket='.length);
      if (socket === '') return { error: '--socket needs a path' };
    } else {
      argv.push(a);
    }
  }
  return { socket, argv };
}

const hasAny = (r: Record<string, unknown> | undefined): boolean => r !== undefined && Object.keys(r).length > 0;

/** Sends the request; for a listing that printed what could be named, names it and asks again. */
async function exchange(path: string, req: ControlRequest, resolver: Resolver, lim: LookupLimits): Promise<ControlReply> {
  const first = await sendControlRequest(path, req);
  if (!first.lookup) return first;
  const reverse = await resolveReverse(first.lookup, resolver, lim);
  // nothing named: the numeric listing is already what ipvsadm would print
  if (!hasAny(reverse.addrs) && !hasAny(reverse.ports)) return first;
  const again = await sendControlRequest(path, { ...req, names: { ...req.names, ...reverse } });
  delete again.lookup;
  return again;
}

/**
 * Runs `tapvs ipvsadm`; returns the exit code. `resolver`: how names are
 * looked up (default: the system's), within `limits` (default: 2 s a
 * lookup, 10 s for all of a request's).
 */
export async function ipvsadmCommand(args: string[], io: CliIo = processIo, resolver?: Resolver, limits: LookupLimits = {}): Promise<number> {
  const split = splitSocketFlag(args);
  if ('error' in split) {
    io.stderr.write(`tapvs ipvsadm: ${split.error}\n`);
    return 2;
  }
  const timedOut = { count: 0 };
  try {
    return await withNames(split, io, resolver ?? new SystemResolver(), { ...limits, timedOut });
  } finally {
    // a lookup given up on may still hold a thread of libuv's pool, and with it the process:
    // once the answer is printed, nothing is left to wait for
    if (timedOut.count > 0 && io === processIo) setTimeout(() => process.exit(), 50).unref();
  }
}

async function withNames(split: { socket: string | undefined; argv: string[] }, io: CliIo, r: Resolver, lim: LookupLimits): Promise<number> {
  // only -R reads stdin; whether this is -R is known before any name is (the command comes first)
  const first = parseIpvsadmArgs(split.argv, { host: () => 1, service: () => 1 });
  const stdin = first.ok && first.command.cmd === 'restore' ? await io.readStdin() : undefined;
  const want = wantedNames(split.argv, stdin);
  if (want.hosts.size > MAX_FORWARD_NAMES || want.services.size > MAX_FORWARD_NAMES) {
    io.stderr.write(`tapvs ipvsadm: more than ${MAX_FORWARD_NAMES} host or service names to resolve in one request\n`);
    return 2;
  }
  const names: NameAnswers = want.hosts.size + want.services.size > 0 ? await resolveForward(want, r, lim) : { hosts: {}, services: {} };
  // help, version and command-line errors need no director (ipvsadm parses before it talks to IPVS);
  // a name that did not resolve is such an error
  const local = localReply(split.argv, PROGRAM, answerLookup(names));
  if (local) {
    io.stdout.write(local.stdout);
    io.stderr.write(local.stderr);
    return local.code;
  }
  const path = split.socket ?? process.env.TAPVS_SOCKET ?? DEFAULT_CONTROL_SOCKET;
  // the answers always go along, so the director reads the names as resolved here (and refuses them plainly when not)
  const req: ControlRequest = stdin === undefined ? { argv: split.argv, names } : { argv: split.argv, stdin, names };
  try {
    const reply = await exchange(path, req, r, lim);
    io.stdout.write(reply.stdout);
    io.stderr.write(reply.stderr);
    return reply.code;
  } catch (e) {
    if (e instanceof ControlUnreachable && (e.code === 'EACCES' || e.code === 'EPERM')) {
      // what ipvsadm says to a user who may not talk to IPVS (ipvs_strerror of EPERM)
      io.stderr.write(`Can't initialize ipvs: Permission denied (you must be root)\n` +
        `(tapvs: the control socket ${path} is for its owner only)\n`);
      return 2;
    }
    io.stderr.write(`tapvs ipvsadm: ${(e as Error).message}\n`);
    // ipvsadm exits 2 when it cannot reach IPVS at all
    return e instanceof ControlUnreachable ? 2 : 1;
  }
}
