// ICMP as a connection protocol: the kernel keeps ICMP "connections" only
// with schedule_icmp; here the entry gives ICMP conns their timeout and state
// name. ICMP has no ports (they read 0), and its checksum covers no
// pseudo-header, so NAT of an address leaves it alone.
import { IPPROTO_ICMP } from '../../wire/ipproto.js';
import { IcmpView } from '../../wire/icmp.js';
import { WIRE_OK } from '../../wire/errors.js';
import { registerProto, type ProtoOps } from './ops.js';

/** The kernel's ICMP entry timeout: 60 s. */
export const DEFAULT_ICMP_TIMEOUT = 60 * 1000;

const v = new IcmpView();

export const icmpOps: ProtoOps = {
  proto: IPPROTO_ICMP,
  name: 'ICMP',
  stateful: false,
  defaultTimeouts: [DEFAULT_ICMP_TIMEOUT],
  stateNames: ['ICMP'],

  parse(buf, off, len, _partial, out) {
    const rc = v.wrap(buf, off, len);
    if (rc !== WIRE_OK) return rc;
    out.sport = 0;
    out.dport = 0;
    out.flags = 0;
    return WIRE_OK;
  },
  schedulable: () => false,
  opensNew: () => false,
  expectsNewConn: () => false,
  nextState: (state) => state,
  isActive: () => false,
  dnat() {},
  snat() {},
  rewriteQuoted: () => false,
  parseQuoted: () => false,
  nat6() {},
  rewriteQuoted6: () => false,
};

registerProto(icmpOps);
