// `tapvs vrrp [--socket PATH] [--json]`: the VRRP instances of a running
// director (master / backup / fault, priority, who is master, the last
// transition and its reason) and its IPVS sync daemons (control/ha).
import { ControlUnreachable, DEFAULT_CONTROL_SOCKET, sendControlRequest } from '../control/control-socket.js';
import type { VrrpRequest } from '../control/ha/command.js';
import { splitSocketFlag, type CliIo } from './ipvsadm.js';

const processIo: Pick<CliIo, 'stdout' | 'stderr'> = { stdout: process.stdout, stderr: process.stderr };

/** Runs `tapvs vrrp`; returns the exit code (0; 1 no HA pair; 2 no director or bad arguments). */
export async function vrrpCommand(args: string[], io: Pick<CliIo, 'stdout' | 'stderr'> = processIo): Promise<number> {
  const split = splitSocketFlag(args);
  if ('error' in split) {
    io.stderr.write(`tapvs vrrp: ${split.error}\n`);
    return 2;
  }
  const path = split.socket ?? process.env.TAPVS_SOCKET ?? DEFAULT_CONTROL_SOCKET;
  const req: VrrpRequest = { verb: 'vrrp', argv: split.argv };
  try {
    const reply = await sendControlRequest(path, req);
    io.stdout.write(reply.stdout);
    io.stderr.write(reply.stderr);
    return reply.code;
  } catch (e) {
    io.stderr.write(`tapvs vrrp: ${(e as Error).message}\n`);
    return e instanceof ControlUnreachable ? 2 : 1;
  }
}
