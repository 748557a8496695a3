// `tapvs ipvsadm [--socket PATH] ARGS...`: ipvsadm for a running tapvs. The
// command line goes to the director as it is (the director parses it, so
// client and server can never disagree), with stdin for -R, and the reply is
// printed as ipvsadm would print it, with ipvsadm's exit code.
import { parseIpvsadmArgs } from '../control/ipvsadm-args.js';
import { localReply } from '../control/ipvsadm-exec.js';
import { ControlUnreachable, DEFAULT_CONTROL_SOCKET, sendControlRequest } from '../control/control-socket.js';

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

/** Runs `tapvs ipvsadm`; returns the exit code. */
export async function ipvsadmCommand(args: string[], io: CliIo = processIo): Promise<number> {
  const split = splitSocketFlag(args);
  if ('error' in split) {
    io.stderr.write(`tapvs ipvsadm: ${split.error}\n`);
    return 2;
  }
  // help, version and command-line errors need no director (ipvsadm parses before it talks to IPVS)
  const local = localReply(split.argv);
  if (local) {
    io.stdout.write(local.stdout);
    io.stderr.write(local.stderr);
    return local.code;
  }
  const path = split.socket ?? process.env.TAPVS_SOCKET ?? DEFAULT_CONTROL_SOCKET;
  const parsed = parseIpvsadmArgs(split.argv);
  const stdin = parsed.ok && parsed.command.cmd === 'restore' ? await io.readStdin() : undefined;
  try {
    const reply = await sendControlRequest(path, stdin === undefined ? { argv: split.argv } : { argv: split.argv, stdin });
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
