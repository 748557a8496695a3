// `tapvs sysctl [--socket PATH] [--status] [NAME[=VALUE] | NAME VALUE ...]`:
// the IPVS sysctls of a running tapvs (the flood defences, expire_nodest_conn,
// ...), read and set as sysctl(8) reads and sets the kernel's
// net.ipv4.vs.* — the director checks and applies them (control/sysctl.ts).
import { ControlUnreachable, DEFAULT_CONTROL_SOCKET, sendControlRequest } from '../control/control-socket.js';
import type { SysctlRequest } from '../control/sysctl.js';
import { splitSocketFlag, type CliIo } from './ipvsadm.js';

const processIo: Pick<CliIo, 'stdout' | 'stderr'> = { stdout: process.stdout, stderr: process.stderr };

/** Runs `tapvs sysctl`; returns the exit code (0; 1 a setting refused; 2 no director). */
export async function sysctlCommand(args: string[], io: Pick<CliIo, 'stdout' | 'stderr'> = processIo): Promise<number> {
  const split = splitSocketFlag(args);
  if ('error' in split) {
    io.stderr.write(`tapvs sysctl: ${split.error}\n`);
    return 2;
  }
  const path = split.socket ?? process.env.TAPVS_SOCKET ?? DEFAULT_CONTROL_SOCKET;
  const req: SysctlRequest = { verb: 'sysctl', argv: split.argv };
  try {
    const reply = await sendControlRequest(path, req);
    io.stdout.write(reply.stdout);
    io.stderr.write(reply.stderr);
    return reply.code;
  } catch (e) {
    io.stderr.write(`tapvs sysctl: ${(e as Error).message}\n`);
    return e instanceof ControlUnreachable ? 2 : 1;
  }
}
