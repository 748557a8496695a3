// Importing this module registers every scheduler. Each scheduler module calls
// registerScheduler() at load time.
export { getScheduler, registerScheduler, schedulerNames } from '../model/scheduler.js';
import './rr.js';
import './wrr.js';
import './lc.js';
import './wlc.js';
import './lblc.js';
import './lblcr.js';
import './dh.js';
import './sh.js';
import './sed.js';
import './nq.js';
import './fo.js';
import './ovf.js';
import './mh.js';
import './twos.js';
