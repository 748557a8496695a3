// The commands that only hand their arguments to a running director over its
// control socket (`tapvs sysctl`, `tapvs vrrp`): --socket PATH (or
// TAPVS_SOCKET), the request, the director's reply written out as it came.
import { ControlUnreachable, DEFAULT_CONTROL_SOCKET, sendControlRequest } from '../control/control-socket.js';
import type { SysctlRequest } from '../control/sysctl.js';
import type { VrrpRequest } from '../control/ha/command.js';
import { splitSocketFlag, type CliIo } from './ipvsadm.js';

export type CommandIo = Pick<CliIo, 'stdout' | 'stderr'>;
export const processIo: CommandIo = { stdout: process.stdout, stderr: process.stderr };

/** Sends `tapvs VERB ARGS` to the director; the reply's exit code, 2 when no director answers or --socket is bad, 1 on another failure. */
export async function controlVerb(verb: (SysctlRequest | VrrpRequest)['verb'], args: string[], io: CommandIo): Promise<number> {
  const split = splitSocketFlag(args);
  if ('error' in split) {
    io.stderr.write(`tapvs ${verb}: ${split.error}\n`);
    return 2;
  }
  const path = split.socket ?? process.env.TAPVS_SOCKET ?? DEFAULT_CONTROL_SOCKET;
  try {
    const reply = await sendControlRequest(path, { verb, argv: split.argv } as SysctlRequest | VrrpRequest);
    io.stdout.write(reply.stdout);
    io.stderr.write(reply.stderr);
    return reply.code;
  } catch (e) {
    io.stderr.write(`tapvs ${verb}: ${(e as Error).message}\n`);
    return e instanceof ControlUnreachable ? 2 : 1;
  }
}
