// End-to-end: the HA pair in DR mode (root only; see ha-suite.ts).
import { haSuite } from './ha-suite.js';

haSuite('dr', 'd');
