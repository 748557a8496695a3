export * from './codes.js';
export * from './flags.js';
export * from './tcp-states.js';
export * from './timeouts.js';
export { ConnTable, type ConnTableOptions, type ConnSettings, type ConnCounters } from './table.js';
export { schedule } from './schedule.js';
export { listConns, connStateName, type ConnRow } from './listing.js';
export { protoOps, registerProto, type L4Info, type ProtoOps } from './proto/index.js';
