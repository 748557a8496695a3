// Negative results of scheduling and of the per-packet checks. Every one is
// an expected outcome the director counts under a drop reason, never thrown.

/** The scheduler found no real server (none, all overloaded or weight 0). */
export const NO_DEST = -1;
/** The connection table is full; counted in ConnTable.counters.tableFull. */
export const TABLE_FULL = -2;
/** A non-persistent service was asked for a port other than its own (port-0 services must be persistent). */
export const BAD_PORT = -3;

/** checkIn: the conn was expired on this packet; treat the packet as a new connection. */
export const CHECK_MISS = -1;
/** checkIn: the conn's real server is gone and expire_nodest_conn is off: drop the packet. */
export const CHECK_DROP = -2;
