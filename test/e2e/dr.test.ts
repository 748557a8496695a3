// End-to-end: tapvs in DR mode in a netns lab (root only; see suite.ts for the checks).
import { modeSuite } from './suite.js';

modeSuite('dr', 'd');
