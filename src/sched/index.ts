// Importing this module registers every scheduler. Each scheduler module calls
// registerScheduler() at load time.
export { getScheduler, registerScheduler, schedulerNames } from './registry.js';
