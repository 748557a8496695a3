// `tapvs run`: flags to options; the running system is runtime/live.ts.
import { makeLogger } from '../runtime/log.js';
import { runDirector } from '../runtime/live.js';
import { setNice } from '../runtime/nice.js';
import { textTrace } from '../trace/text.js';
import { parseFlags } from './main.js';
import { Recorder } from './recorder.js';
import { loadConfig } from './replay.js';

export async function runCommand(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, ['config', 'nice', 'record', 'record-sent']);
  if (typeof flags.config !== 'string') throw new Error('--config FILE is required');
  const log = makeLogger();
  if (typeof flags.nice === 'string') {
    const n = Number(flags.nice);
    if (!Number.isInteger(n) || n < -20 || n > 19) throw new Error(`--nice ${flags.nice}: an integer from -20 to 19`);
    setNice(n, log);
  }
  if (process.getuid && process.getuid() !== 0) {
    log.warn('not running as root: opening TAP devices will probably fail (EPERM)');
  }
  const cfg = loadConfig(flags.config);
  const trace = flags.trace ? textTrace((l) => process.stdout.write(l + '\n')) : undefined;
  const received = flags.record as string | undefined;
  const sent = flags['record-sent'] as string | undefined;
  const tap = received || sent ? new Recorder(cfg.ports.map((p) => p.name), { received, sent }) : undefined;
  return runDirector({ cfg, configPath: flags.config, log, trace, tap });
}
