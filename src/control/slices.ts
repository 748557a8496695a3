// Control-plane work that can be large (a reload of thousands of services, a
// -R batch of a hundred thousand lines) runs on the forwarding thread only in
// slices: a generator does the work and yields after each small step, and
// drain() hands the event loop back after SLICE_MS of steps, so frames that
// arrived meanwhile are forwarded before the next slice. Frames wait for at
// most one slice plus one step.
import { performance } from 'node:perf_hooks';

/** The longest run of control work between two turns of the event loop, ms. */
export const SLICE_MS = 2;

/** Steps of work: each `yield` is a point where the work may pause for the event loop. */
export type Steps<T> = Generator<void, T, void>;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs `steps` to the end in slices of about `sliceMs`, giving the event loop a turn between slices. */
export async function drain<T>(steps: Steps<T>, sliceMs = SLICE_MS): Promise<T> {
  let end = performance.now() + sliceMs;
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() >= end) {
      await turn();
      end = performance.now() + sliceMs;
    }
  }
}

/** Runs `steps` to the end at once (for callers that need the answer now and have little work). */
export function drainNow<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Runs async control operations one at a time, in the order they were
 * queued: a reload applied in slices must not interleave with an ipvsadm
 * command or another reload.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Operations queued or running. */
  get length(): number {
    return this.waiting;
  }

  run<T>(op: () => T | Promise<T>): Promise<T> {
    this.waiting++;
    const p = this.tail.then(op);
    this.tail = p.then(() => undefined, () => undefined).finally(() => { this.waiting--; });
    return p;
  }
}
