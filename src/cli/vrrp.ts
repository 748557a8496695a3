// `tapvs vrrp [--socket PATH] [--json]`: the VRRP instances of a running
// director (master / backup / fault, priority, who is master, the last
// transition and its reason) and its IPVS sync daemons (control/ha).
import { controlVerb, processIo, type CommandIo } from './control-verb.js';

/** Runs `tapvs vrrp`; returns the exit code (0; 1 no HA pair; 2 no director or bad arguments). */
export function vrrpCommand(args: string[], io: CommandIo = processIo): Promise<number> {
  return controlVerb('vrrp', args, io);
}
