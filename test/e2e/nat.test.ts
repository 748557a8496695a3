// End-to-end: tapvs in NAT mode in a netns lab (root only; see suite.ts for the checks).
import { modeSuite } from './suite.js';

modeSuite('nat', 'n');
