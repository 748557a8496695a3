export { startHealthChecks, type HealthChecks, type HealthLive, type HealthOptions } from './checks.js';
export type { HealthState, ProbeSpec, ProbeResult, CheckKind } from './types.js';
export { runProbe } from './probes/index.js';
export { ProbeAgent } from './agent-client.js';
