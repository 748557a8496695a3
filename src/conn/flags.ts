// Per-connection flag bits (ConnTable.flags). The low two bits hold the
// forwarding method with the same numbers as model/dest.ts (FWD_MASQ=0,
// FWD_DR=1, FWD_TUN=2) so the director can switch on `flags & CONN_F_FWD_MASK`.

export const CONN_F_FWD_MASK = 0x0003;
/** A tunnelling conn's tunnel type (model/dest.ts TUN_*), copied from its dest when the conn is made. */
export const CONN_F_TUN_SHIFT = 9;
export const CONN_F_TUN_MASK = 0x0600;
/** What picks a conn's transmitter: its method and, for TUN, its tunnel type. */
export const CONN_F_XMIT_MASK = CONN_F_FWD_MASK | CONN_F_TUN_MASK;
/** A persistence template, not a connection: never matched by lookupIn/Out. */
export const CONN_F_TEMPLATE = 0x0004;
/** UDP one-packet scheduling: not hashed, freed once its packet is sent. */
export const CONN_F_ONE_PACKET = 0x0008;
/** Counted in dest.inactConns rather than dest.activeConns. */
export const CONN_F_INACTIVE = 0x0010;
/** DR/TUN: no reply seen yet, so client packets use the input-only table. */
export const CONN_F_NOOUTPUT = 0x0020;
/** A template whose dest went away or went quiescent: unhashed, waiting to die. */
export const CONN_F_INVALID = 0x0040;
/** Linked in the in/out hash chains. */
export const CONN_F_HASHED = 0x0080;
/** A TCP conn in its handshake, linked in the table's embryonic list (evict_embryonic). */
export const CONN_F_EMBRYONIC = 0x0100;
/** An application helper (conn/app.ts: FTP) is bound to this NAT conn: its packets go through it (the kernel's cp->app). */
export const CONN_F_APP = 0x0800;
/** The client's port is not known yet (a passive FTP data conn): matched with port 0 until its first packet fills it in. */
export const CONN_F_NO_CPORT = 0x1000;
/** The slot holds a connection (free slots have flags 0). */
export const CONN_F_USED = 0x8000;
