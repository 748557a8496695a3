// End-to-end: tapvs in TUN mode in a netns lab (root only; see suite.ts for the checks).
import { modeSuite } from './suite.js';

modeSuite('tun', 't');
