import type { Scheduler } from './scheduler.js';

const schedulers = new Map<string, Scheduler>();

export function registerScheduler(s: Scheduler): void {
  schedulers.set(s.name, s);
}

export function getScheduler(name: string): Scheduler | undefined {
  return schedulers.get(name);
}

export function schedulerNames(): string[] {
  return [...schedulers.keys()];
}
