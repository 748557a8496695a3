// End-to-end: the browser view of tapvs in dr mode, in a netns lab (root only; see ui-suite.ts).
import { uiSuite } from './ui-suite.js';

uiSuite('dr', 'd');
