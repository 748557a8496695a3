// ipvs-sync-map.ts repeats tapvs's own numbers (wire/ may not import conn/
// or model/): they must stay equal to the ones the director uses, and the
// conversions must send what the kernel expects.

import { describe, expect, it } from 'vitest';
import * as connFlags from '../../src/conn/flags.js';
import * as tcpStates from '../../src/conn/tcp-states.js';
import * as dest from '../../src/model/dest.js';
import {
  IP_VS_CONN_F_BYPASS, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_HASHED, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_IN_SEQ,
  IP_VS_CONN_F_LOCALNODE, IP_VS_CONN_F_MASQ, IP_VS_CONN_F_NO_CPORT, IP_VS_CONN_F_NOOUTPUT, IP_VS_CONN_F_ONE_PACKET,
  IP_VS_CONN_F_SYNC, IP_VS_CONN_F_TEMPLATE, IP_VS_CONN_F_TUNNEL, IP_VS_SCTP_S_CLOSED, IP_VS_SCTP_S_LAST,
  IP_VS_TCP_S_LAST, IP_VS_TCP_STATE_NAMES,
} from '../../src/wire/ipvs-sync.js';
import {
  connFlagsToSync, connStateToSync, FWD_TO_SYNC, SYNC_TO_FWD, syncFlagsToConn, syncStateToConn, TAPVS_CONN_F_FWD_MASK,
  TAPVS_CONN_F_INACTIVE, TAPVS_CONN_F_NOOUTPUT, TAPVS_CONN_F_ONE_PACKET, TAPVS_CONN_F_TEMPLATE, TAPVS_FWD_DR,
  TAPVS_FWD_MASQ, TAPVS_FWD_TUN,
} from '../../src/wire/ipvs-sync-map.js';

describe('tapvs numbers repeated in ipvs-sync-map.ts', () => {
  it('match model/dest.ts and conn/flags.ts', () => {
    expect([TAPVS_FWD_MASQ, TAPVS_FWD_DR, TAPVS_FWD_TUN]).toEqual([dest.FWD_MASQ, dest.FWD_DR, dest.FWD_TUN]);
    expect([TAPVS_CONN_F_FWD_MASK, TAPVS_CONN_F_TEMPLATE, TAPVS_CONN_F_ONE_PACKET, TAPVS_CONN_F_INACTIVE, TAPVS_CONN_F_NOOUTPUT])
      .toEqual([connFlags.CONN_F_FWD_MASK, connFlags.CONN_F_TEMPLATE, connFlags.CONN_F_ONE_PACKET, connFlags.CONN_F_INACTIVE,
        connFlags.CONN_F_NOOUTPUT]);
  });

  it('tapvs TCP states are the kernel numbering, name for name', () => {
    expect(tcpStates.TCP_S_COUNT).toBe(IP_VS_TCP_S_LAST);
    expect(tcpStates.TCP_STATE_NAMES).toEqual(IP_VS_TCP_STATE_NAMES);
    for (let s = 0; s < IP_VS_TCP_S_LAST; s++) {
      expect(connStateToSync(6, s)).toBe(s);
      expect(syncStateToConn(6, s)).toBe(s);
    }
  });
});

describe('flags and states between tapvs and the wire', () => {
  it('forwarding methods: DR is 1 in tapvs, 3 (DROUTE) on the wire', () => {
    expect(FWD_TO_SYNC).toEqual([IP_VS_CONN_F_MASQ, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_TUNNEL]);
    expect(connFlagsToSync(dest.FWD_DR)).toBe(IP_VS_CONN_F_DROUTE);
    expect(connFlagsToSync(dest.FWD_TUN)).toBe(IP_VS_CONN_F_TUNNEL);
    expect(syncFlagsToConn(IP_VS_CONN_F_DROUTE)).toBe(dest.FWD_DR);
    expect(SYNC_TO_FWD[IP_VS_CONN_F_LOCALNODE]).toBe(-1);
    expect(syncFlagsToConn(IP_VS_CONN_F_LOCALNODE)).toBe(-1);
    expect(syncFlagsToConn(IP_VS_CONN_F_BYPASS | IP_VS_CONN_F_INACTIVE)).toBe(-1);
  });

  it('shared bits cross over; tapvs bookkeeping bits stay home', () => {
    const t = dest.FWD_TUN | connFlags.CONN_F_TEMPLATE | connFlags.CONN_F_INACTIVE | connFlags.CONN_F_NOOUTPUT |
      connFlags.CONN_F_HASHED | connFlags.CONN_F_USED | connFlags.CONN_F_INVALID;
    expect(connFlagsToSync(t)).toBe(IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_TEMPLATE | IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_NOOUTPUT);
    expect(connFlagsToSync(connFlags.CONN_F_ONE_PACKET)).toBe(IP_VS_CONN_F_ONE_PACKET);
    const k = IP_VS_CONN_F_DROUTE | IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_SYNC | IP_VS_CONN_F_HASHED | IP_VS_CONN_F_IN_SEQ |
      IP_VS_CONN_F_NO_CPORT | IP_VS_CONN_F_TEMPLATE;
    expect(syncFlagsToConn(k)).toBe(dest.FWD_DR | connFlags.CONN_F_INACTIVE | connFlags.CONN_F_TEMPLATE);
    for (const f of [0, 1, 2]) expect(syncFlagsToConn(connFlagsToSync(f | connFlags.CONN_F_NOOUTPUT))).toBe(f | connFlags.CONN_F_NOOUTPUT);
  });

  it('UDP has one state, SCTP the kernel 14; out-of-range states and unknown protocols are -1', () => {
    expect([connStateToSync(17, 0), syncStateToConn(17, 0), syncStateToConn(17, 1)]).toEqual([0, 0, -1]);
    expect(syncStateToConn(132, IP_VS_SCTP_S_CLOSED)).toBe(IP_VS_SCTP_S_CLOSED);
    expect(syncStateToConn(132, IP_VS_SCTP_S_LAST)).toBe(-1);
    expect(syncStateToConn(6, IP_VS_TCP_S_LAST)).toBe(-1);
    expect(syncStateToConn(1, 0)).toBe(-1);
    expect(syncStateToConn(6, 99, true)).toBe(99); // templates keep their state bits
  });
});
