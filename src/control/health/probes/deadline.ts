import type { ProbeResult } from '../types.js';

/**
 * Runs `start` with a settle-once callback, a timeout and an abort signal:
 * the first of (result, timeout, abort) wins and `cleanup` runs exactly
 * once. A probe built on it never rejects and never settles twice.
 */
export function withDeadline(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  start: (settle: (r: ProbeResult) => void) => () => void,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    let cleanup: () => void = () => {};
    const settle = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try { cleanup(); } catch { /* a probe's cleanup must not throw into the checker */ }
      resolve(r);
    };
    const onAbort = (): void => settle({ ok: false, error: 'cancelled' });
    const timer = setTimeout(() => settle({ ok: false, error: `timed out after ${timeoutMs} ms` }), timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const c = start(settle);
      if (done) c();
      else cleanup = c;
    } catch (e) {
      settle({ ok: false, error: errorText(e) });
    }
  });
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
