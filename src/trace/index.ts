export type { ConnRef, TraceEvent, TraceSink } from './events.js';
export { Tracer, connRef, svcLabel } from './tracer.js';
export { textTrace } from './text.js';
