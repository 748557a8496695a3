// `tapvs run`: flags to options; the running system is runtime/live.ts.
import { makeLogger } from '../runtime/log.js';
import { runDirector } from '../runtime/live.js';
import { setNice } from '../runtime/nice.js';
import { textTrace } from '../trace/text.js';
import { parseFlags } from './main.js';
import { liveRecording } from './recorder.js';
import { teeSinks } from '../trace/decisions.js';
import { loadConfig } from './replay.js';
import { loadKeepalived } from '../control/keepalived/index.js';
import type { ConfigLoader } from '../control/reload.js';
import type { DirectorConfig } from '../model/config.js';

export async function runCommand(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, ['config', 'nice', 'record', 'record-sent', 'record-events', 'decisions', 'keepalived', 'ui', 'ui-lab', 'tx-thread']);
  if (typeof flags.config !== 'string') throw new Error('--config FILE is required (with --keepalived: the ports, VIPs and routes)');
  const log = makeLogger();
  if (typeof flags.nice === 'string') {
    const n = Number(flags.nice);
    if (!Number.isInteger(n) || n < -20 || n > 19) throw new Error(`--nice ${flags.nice}: an integer from -20 to 19`);
    setNice(n, log);
  }
  const txThread = flags['tx-thread'] ?? 'auto';
  if (txThread !== 'auto' && txThread !== 'off') throw new Error(`--tx-thread ${String(txThread)}: auto or off`);
  if (process.getuid && process.getuid() !== 0) {
    log.warn('not running as root: opening TAP devices will probably fail (EPERM)');
  }
  const kaFile = typeof flags.keepalived === 'string' ? flags.keepalived : undefined;
  const configPath = flags.config;
  // --keepalived: the services and checks come from a keepalived.conf, the ports from --config
  const load = kaFile ? keepalivedLoader(kaFile, configPath) : undefined;
  const cfg = load ? loadOrThrow(load) : loadConfig(configPath);
  // --record (frames and rule changes), --record-sent, --decisions: all trace or tap consumers, built only when asked for
  const rec = liveRecording(cfg.ports.map((p) => p.name), {
    received: flags.record as string | undefined,
    sent: flags['record-sent'] as string | undefined,
    events: flags['record-events'] as string | undefined,
    decisions: flags.decisions as string | undefined,
  });
  // --ui: the browser view, another trace consumer; without it the module is not even loaded
  let ui: import('../ui/index.js').LiveUi | undefined;
  if (typeof flags.ui === 'string') {
    const { liveUi, uiSettings } = await import('../ui/index.js');
    ui = liveUi(uiSettings(flags.ui, flags['ui-lab'] as string | undefined));
  }
  const trace = teeSinks(flags.trace ? textTrace((l) => process.stdout.write(l + '\n')) : undefined, rec.trace, ui?.sink);
  const tap = rec.tap;
  return runDirector({ cfg, configPath, log, trace, tap, txThread, ...(rec.watch ? { watch: rec.watch } : {}), ...(load ? { load } : {}), ...(ui ? { ui } : {}) });
}

function keepalivedLoader(file: string, configPath: string): ConfigLoader {
  return () => {
    const r = loadKeepalived(file, configPath);
    return r.ok ? { config: r.config } : { errors: r.errors };
  };
}

function loadOrThrow(load: ConfigLoader): DirectorConfig {
  const r = load();
  if ('errors' in r) throw new Error(r.errors.join('\n'));
  return r.config;
}
