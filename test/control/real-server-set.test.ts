// The director's set of real-server addresses (what `option
// unmatched_from_rs drop` reads) follows every rule change: an address is
// in it while at least one service has a real server there, however the
// servers came and went (one command, a -R batch, a deleted service).
import { afterEach, describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/control/ipvsadm-args.js';
import { execIpvsadm } from '../../src/control/ipvsadm-exec.js';
import { LiveRig, RS, VIP, serverSegment } from './server-rig.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const run = (r: LiveRig, argv: string[], stdin?: string) => execIpvsadm(r.live, argv, stdin, 0);

/** Does traffic from `rs` that matches no connection count as coming from a real server? */
function heldAsRealServer(r: LiveRig, rs: string, cport: number): boolean {
  const before = r.director.drops.get('unmatched-from-real-server');
  const out = serverSegment(r, rs, cport, 'A');
  const dropped = r.director.drops.get('unmatched-from-real-server') - before;
  expect(dropped + out.length).toBe(1); // either dropped as unmatched, or routed to the client
  return dropped === 1;
}

describe('real-server addresses', () => {
  it('an address shared by two services stays a real server until its last service is gone', async () => {
    rig = await new LiveRig(`-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS.rs1}:80 -m
-A -t ${VIP}:443 -s rr
-a -t ${VIP}:443 -r ${RS.rs1}:443 -m
`, 'option unmatched_from_rs drop\n').start();
    expect(heldAsRealServer(rig, RS.rs1, 40001)).toBe(true);
    expect(run(rig, ['-D', '-t', `${VIP}:80`]).code).toBe(0);
    expect(heldAsRealServer(rig, RS.rs1, 40002)).toBe(true);
    expect(run(rig, ['-d', '-t', `${VIP}:443`, '-r', `${RS.rs1}:443`]).code).toBe(0);
    expect(heldAsRealServer(rig, RS.rs1, 40003)).toBe(false);
  });

  it('a -R batch adds and removes addresses as a whole; a server removed twice is counted out once', async () => {
    rig = await new LiveRig(`-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS.rs1}:80 -m
`, 'option unmatched_from_rs drop\n').start();
    expect(heldAsRealServer(rig, RS.rs2, 40010)).toBe(false);
    const batch = [
      `-A -t ${VIP}:81 -s wlc`,
      `-a -t ${VIP}:81 -r ${RS.rs2}:80 -m`,
      `-a -t ${VIP}:81 -r ${RS.rs1}:81 -m`,
      `-d -t ${VIP}:80 -r ${RS.rs1}:80`,
    ].join('\n');
    expect(run(rig, ['-R'], batch).code).toBe(0);
    expect(heldAsRealServer(rig, RS.rs1, 40011)).toBe(true); // still a server of :81
    expect(heldAsRealServer(rig, RS.rs2, 40012)).toBe(true);
    const dest = rig.director.services.get(6, parseIpv4(VIP)!, 81)!.findDest(parseIpv4(RS.rs2)!, 80)!;
    rig.director.mutate.removeDest(dest);
    rig.director.mutate.removeDest(dest); // a second removal must not take rs1 (still at :81) with it
    expect(heldAsRealServer(rig, RS.rs2, 40013)).toBe(false);
    expect(heldAsRealServer(rig, RS.rs1, 40014)).toBe(true);
    expect(run(rig, ['-C']).code).toBe(0);
    expect(heldAsRealServer(rig, RS.rs1, 40015)).toBe(false);
  });
});
