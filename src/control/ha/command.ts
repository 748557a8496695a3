// `tapvs vrrp [--json]` on the director: the VRRP instances (state, priority,
// who is master, the last transition and why, adverts counted) and the sync
// daemons, as text or JSON.
import type { ControlReply, ControlRequest } from '../control-socket.js';
import type { HaRuntime } from './runtime.js';

/** A control-socket request for `tapvs vrrp` (argv: its arguments). */
export interface VrrpRequest extends ControlRequest {
  verb: 'vrrp';
}

export function execVrrp(ha: HaRuntime | undefined, argv: readonly string[]): ControlReply {
  const json = argv.includes('--json');
  const bad = argv.find((a) => a !== '--json');
  if (bad !== undefined) return { code: 2, stdout: '', stderr: `tapvs vrrp: unexpected '${bad}' (usage: tapvs vrrp [--socket PATH] [--json])\n` };
  if (!ha) return { code: 1, stdout: '', stderr: 'tapvs vrrp: this director runs no HA pair\n' };
  return { code: 0, stdout: json ? JSON.stringify(ha.toJSON(), null, 2) + '\n' : ha.describe(), stderr: '' };
}
