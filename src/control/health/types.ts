// Plain data shared by the check scheduler, the in-process probes and the
// namespace probe agent: a probe request crosses a pipe as one JSON line.

export type CheckKind = 'tcp' | 'http' | 'icmp' | 'misc';

/** One probe of one real server: everything needed to run it anywhere. */
export interface ProbeSpec {
  kind: CheckKind;
  /** Dotted IPv4 of the real server. */
  addr: string;
  /** tcp/http: port to connect to. */
  port: number;
  timeoutMs: number;
  /** http */
  path?: string;
  expectStatus?: number;
  /** http: lower-case MD5 hex of the body (keepalived's genhash). */
  digest?: string;
  /** misc: run through /bin/sh -c. */
  command?: string;
}

/** The outcome of one probe; `error` says why it failed, in words. */
export interface ProbeResult {
  ok: boolean;
  error?: string;
}

/** What the control plane shows of one check. */
export interface HealthState {
  service: string;
  /** "ADDR:PORT" of the real server. */
  dest: string;
  kind: string;
  up: boolean;
  /** Epoch ms of the last change of `up` (or of the check's start). */
  since: number;
  lastError?: string;
  /** Failures in a row since the last success. */
  failures: number;
  /** Namespace the probe runs in; absent = the director's own. */
  netns?: string;
}
