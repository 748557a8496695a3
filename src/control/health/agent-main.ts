// The probe agent: started by tapvs as `ip netns exec NS node <this file>`,
// so its probes leave from that namespace's kernel stack (Node has no
// setns). Protocol, one JSON object per line:
//   stdin:  {"id": N, "probe": ProbeSpec}
//   stdout: {"id": N, "ok": true} | {"id": N, "ok": false, "error": "..."}
// The agent exits when its stdin closes, so it never outlives tapvs.
import { createInterface } from 'node:readline';
import { closeIcmp, runProbe } from './probes/index.js';
import type { ProbeSpec } from './types.js';

const inflight = new AbortController();

function reply(obj: object): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  let msg: { id?: unknown; probe?: ProbeSpec };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    return reply({ error: 'unparsable request' });
  }
  const id = msg.id;
  if (typeof id !== 'number' || !msg.probe) return reply({ id, ok: false, error: 'malformed request' });
  void runProbe(msg.probe, inflight.signal).then((r) => reply({ id, ...r }));
});
lines.on('close', () => {
  inflight.abort();
  closeIcmp();
  process.exit(0);
});
process.on('SIGTERM', () => {
  closeIcmp();
  process.exit(0);
});
reply({ ready: true, pid: process.pid });
