import type { Dest } from '../model/dest.js';
import type { Service } from '../model/service.js';

/**
 * What a scheduler may look at of the packet that opens a connection. The
 * director fills one reusable object per packet: no allocation on the hot path.
 */
export interface SchedPacket {
  proto: number;
  caddr: number; // client address, uint32
  cport: number;
  vaddr: number; // destination address of the packet (the VIP), uint32
  vport: number;
}

/**
 * One IPVS scheduler. `init` builds per-service state (kept on svc.schedState),
 * `update` is called after real servers are added, edited or removed
 * (the kernel's add_dest/upd_dest/del_dest/update_service), `pick` chooses a
 * real server or returns null ("no destination available", counted by the
 * caller). `explain` is only called when tracing, to say why a dest was picked.
 */
export interface Scheduler<S = any> {
  readonly name: string;
  init(svc: Service): S;
  update?(svc: Service, state: S): void;
  pick(svc: Service, state: S, pkt: SchedPacket, now: number): Dest | null;
  explain?(svc: Service, state: S, dest: Dest, pkt: SchedPacket): string;
}
