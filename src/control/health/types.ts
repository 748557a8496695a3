// Plain data shared by the check scheduler, the in-process probes and the
// namespace probe agent: a probe request crosses a pipe as one JSON line.
import type { ProbeOptions } from '../../model/config.js';

export type CheckKind = 'tcp' | 'http' | 'icmp' | 'misc' | 'ssl' | 'smtp' | 'dns' | 'udp' | 'file';

/** One probe of one real server: everything needed to run it anywhere. */
export interface ProbeSpec {
  kind: CheckKind;
  /** The real server's address as text, IPv4 or IPv6 (or connect_ip's). */
  addr: string;
  /** tcp/http/ssl/smtp/dns/udp: port to connect to. */
  port: number;
  timeoutMs: number;
  /** http (a `check http` line) */
  path?: string;
  expectStatus?: number;
  /** http: lower-case MD5 hex of the body (keepalived's genhash). */
  digest?: string;
  /** misc (a `check misc` line): run through /bin/sh -c. */
  command?: string;
  /** keepalived's checker settings; for http/ssl, `url` says which of opts.urls this probe fetches. */
  opts?: ProbeOptions;
  url?: number;
}

/** The outcome of one probe; `error` says why it failed, in words. */
export interface ProbeResult {
  ok: boolean;
  error?: string;
  /** misc: the command's exit status (misc_dynamic reads the weight from it). */
  exitStatus?: number;
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
