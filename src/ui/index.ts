// The browser view (`--ui ADDR:PORT` on `tapvs run` and `tapvs replay`): a
// trace consumer (hub.ts) and an HTTP server (server.ts) beside the director.
// Without --ui none of this is loaded: the director holds no tracer unless
// --trace asks for the text trace, and nothing listens.
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import type { TraceEvent, TraceSink } from '../trace/events.js';
import { UiHub } from './hub.js';
import { parseUiAddress, startUiServer, type UiListen, type UiServer } from './server.js';
import { readLabInfo, tablesOf, type LabInfo } from './tables.js';

export { parseUiAddress, isLoopback, startUiServer, type UiListen, type UiServer } from './server.js';
export { UiHub } from './hub.js';

/** Passes a replay keeps on its timeline (each with its tables): enough for any teaching capture. */
export const REPLAY_TIMELINE_MAX = 5000;
/** Connections listed in each replay snapshot. */
const REPLAY_SNAPSHOT_CONNS = 50;

export interface UiSettings {
  listen: UiListen;
  /** A lab description (netns/lib.sh's lab.json): names the client and real servers on the diagram. */
  lab?: LabInfo;
}

/** `--ui SPEC [--ui-lab FILE]` into settings; throws a message naming the flag. */
export function uiSettings(spec: string, labPath?: string): UiSettings {
  const listen = parseUiAddress(spec);
  let lab: LabInfo | undefined;
  if (labPath !== undefined) {
    try {
      lab = readLabInfo(labPath);
    } catch (e) {
      throw new Error(`--ui-lab ${labPath}: ${(e as Error).message}`);
    }
  }
  return { listen, lab };
}

/** Both sinks, or the one given: the text trace and the view can run together. */
export function teeTrace(a: TraceSink | undefined, b: TraceSink | undefined): TraceSink | undefined {
  if (!a) return b;
  if (!b) return a;
  return (ev: TraceEvent) => {
    a(ev);
    b(ev);
  };
}

/** What the view needs of a running director (runtime/live.ts's LiveDirector has it). */
import type { HealthLike } from './tables.js';

export interface LiveTarget {
  readonly director: Director;
  readonly cfg: DirectorConfig;
  readonly ports: readonly { readonly name: string; readonly counters: { rxFrames: number; txFrames: number; rxDropped: number; txErrors: number } }[];
  /** What the health checks last found. */
  healthStates?: () => readonly HealthLike[];
}

export interface LiveUi {
  /** The director's trace sink (with --trace, teed with the text trace). */
  readonly sink: TraceSink;
  readonly hub: UiHub;
  /** Starts serving once the director runs; `now` is the director's clock. */
  start(live: LiveTarget, now: () => number): Promise<UiServer>;
}

export function liveUi(s: UiSettings): LiveUi {
  const hub = new UiHub();
  return {
    sink: hub.sink,
    hub,
    start: (live, now) => startUiServer({
      listen: s.listen, hub, lab: s.lab,
      source: { kind: 'live', director: live.director, cfg: () => live.cfg, now, ports: () => live.ports, health: () => live.healthStates?.() ?? [] },
    }),
  };
}

/** What `tapvs replay --ui` hands the replay: the sink, and hooks for the director and its timer steps. */
export interface ReplayUi {
  readonly sink: TraceSink;
  readonly hub: UiHub;
  /** The replay's director exists (called once, before the first frame). */
  started(d: Director, cfg: DirectorConfig): void;
  /** The replay's clock moved to `now` before a timer step. */
  timer(now: number): void;
  /** After the replay: serve its timeline until stopped. */
  serve(capture: string, summary: string): Promise<UiServer>;
}

export function replayUi(s: UiSettings): ReplayUi {
  let director: Director | undefined;
  let cfg: DirectorConfig | undefined;
  let end = 0;
  const hub = new UiHub({
    timeline: REPLAY_TIMELINE_MAX,
    // the tables once each pass is done: what the page shows at that point of the timeline
    snapshot: (p) => {
      end = p.time;
      if (!director || !cfg) return null;
      const t = tablesOf(director, cfg, p.time, s.lab);
      t.conns = t.conns.slice(0, REPLAY_SNAPSHOT_CONNS);
      return t;
    },
  });
  return {
    sink: hub.sink,
    hub,
    started(d, c) {
      director = d;
      cfg = c;
    },
    timer: (now) => hub.timer(now),
    async serve(capture, summary) {
      hub.finish();
      if (!director || !cfg) throw new Error('the replay did not start a director');
      const d = director;
      const c = cfg;
      return startUiServer({ listen: s.listen, hub, lab: s.lab, source: { kind: 'replay', director: d, cfg: () => c, capture, summary, end } });
    },
  };
}

/** Serves a finished replay's timeline until SIGINT or SIGTERM; 0 then. */
export async function serveReplayUntilStopped(ui: ReplayUi, capture: string, summary: string, say: (line: string) => void): Promise<number> {
  const server = await ui.serve(capture, summary);
  say(`browser view of the replay at ${server.url} (Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  return 0;
}
