// A pcap port mixed in with an offloading TAP: the director starts (no
// every-port-must-be-a-TAP rule), each port's offload state is logged with the
// reason when it is off. (What such a port does with a super-frame,
// SoftwareOffload, is tested in test/io/vnet*.test.ts; a real pcap port beside
// offloading TAPs in test/e2e/offload-pcap.test.ts.)
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import type { DirectorConfig, PortConfig } from '../../src/model/config.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import type { Port } from '../../src/io/port.js';
import { LiveDirector, portOffload } from '../../src/runtime/live.js';

const CONF = [
  'port outside kind=tap mac=02:00:00:00:00:01 addr=10.0.0.1/24',
  'port inside kind=pcap device=eth9 mac=02:00:00:00:00:02 addr=192.168.10.1/24',
  'port spare kind=tap mac=02:00:00:00:00:03 addr=10.9.0.1/24 offload=none',
  'vip 10.0.0.100 on outside',
  '-A -t 10.0.0.100:80 -s rr',
  '-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m',
].join('\n');

interface Rec { level: number; msg: string; port?: string; offload?: string; offloadOff?: string }

/** A memory port standing in for a device port, with `offload` and `offloadOff` as a TapPort reports them. */
class FakeDevicePort extends MemoryPort {
  offload: boolean | undefined;
  offloadOff: string | undefined;
}

describe('a pcap port beside an offloading TAP', () => {
  it('starts, and logs each port with its offload state and why it is off', async () => {
    const r = parseConfig(CONF, 'mixed.conf');
    expect('errors' in r ? r.errors : []).toEqual([]);
    const cfg = (r as { config: DirectorConfig }).config;
    const logs: Rec[] = [];
    const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => { logs.push(JSON.parse(s) as Rec); } });
    const open = (p: PortConfig): Port => {
      const port = new FakeDevicePort({ name: p.name, mac: p.mac, mtu: p.mtu });
      // as openTap would: on by default, off with offload=none
      if (p.kind === 'tap') {
        port.offload = p.offload !== 'none';
        port.offloadOff = port.offload ? undefined : 'offload=none in the config: frames are cut and checksummed in software';
      }
      return port;
    };
    const live = new LiveDirector(cfg, log, { open });
    try {
      const opened = logs.filter((l) => l.msg === 'port open');
      expect(opened.map((l) => [l.port, l.offload])).toEqual([['outside', 'tso'], ['inside', 'off'], ['spare', 'off']]);
      expect(opened[0]!.offloadOff).toBeUndefined();
      expect(opened[1]!.offloadOff).toMatch(/pcap port has no virtio_net_hdr.*cut and finished in software/);
      expect(opened[2]!.offloadOff).toMatch(/^offload=none in the config/);
    } finally {
      await live.stop();
    }
  });

  it('portOffload: a TAP the kernel refused offload to says so; other kinds say why they send finished frames', () => {
    const tap = { kind: 'tap', name: 't' } as PortConfig;
    expect(portOffload(tap, { offload: true } as unknown as Port)).toEqual({ offload: 'tso' });
    expect(portOffload(tap, { offload: false, offloadOff: 'the kernel refused TUNSETOFFLOAD (EINVAL)' } as unknown as Port))
      .toEqual({ offload: 'off', offloadOff: 'the kernel refused TUNSETOFFLOAD (EINVAL)' });
    expect(portOffload({ kind: 'memory', name: 'm' } as PortConfig, {} as Port).offloadOff).toMatch(/memory port sends finished frames/);
  });
});
