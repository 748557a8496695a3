// Importing this module registers every protocol entry (each file calls
// registerProto when loaded). To add a protocol: a wire view, one file here,
// one import below.
export { protoOps, registerProto, registeredProtos, type L4Info, type ProtoOps } from './ops.js';
import './tcp.js';
import './udp.js';
import './icmp.js';
import './sctp.js';
