// End-to-end: the HA pair in NAT mode (root only; see ha-suite.ts).
import { haSuite } from './ha-suite.js';

haSuite('nat', 'n');
