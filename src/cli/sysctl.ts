// `tapvs sysctl [--socket PATH] [--status] [NAME[=VALUE] | NAME VALUE ...]`:
// the IPVS sysctls of a running tapvs (the flood defences, expire_nodest_conn,
// ...), read and set as sysctl(8) reads and sets the kernel's
// net.ipv4.vs.* — the director checks and applies them (control/sysctl.ts).
import { controlVerb, processIo, type CommandIo } from './control-verb.js';

/** Runs `tapvs sysctl`; returns the exit code (0; 1 a setting refused; 2 no director). */
export function sysctlCommand(args: string[], io: CommandIo = processIo): Promise<number> {
  return controlVerb('sysctl', args, io);
}
