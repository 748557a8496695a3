// The `offload=` key of the `port` directive (docs/config.md): on by default
// for TAP ports, `none` (or `off`) turns it off; a pcap port beside an
// offloading TAP is fine (it cuts and finishes in software what it sends).
import { describe, expect, it } from 'vitest';
import { formatConfigError, parseConfig } from '../../src/control/config.js';
import { restartNeeded } from '../../src/control/reload.js';
import type { DirectorConfig } from '../../src/model/config.js';

const SERVICE = ['vip 10.0.0.100 on outside', '-A -t 10.0.0.100:80 -s rr', '-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m'];

function conf(outside: string, inside: string): string {
  return [
    `port outside kind=tap mac=02:00:00:00:00:01 addr=10.0.0.1/24 ${outside}`,
    `port inside ${inside} mac=02:00:00:00:00:02 addr=192.168.10.1/24`,
    ...SERVICE,
  ].join('\n');
}

function parse(text: string): DirectorConfig | string[] {
  const r = parseConfig(text, 'o.conf');
  return 'errors' in r ? r.errors.map(formatConfigError) : r.config;
}

describe('port offload=', () => {
  it('tso and absent mean on (absent left unset); none and off are kept as none', () => {
    const c = parse(conf('offload=tso', 'kind=tap offload=none')) as DirectorConfig;
    expect(c.ports.map((p) => [p.name, p.offload])).toEqual([['outside', 'tso'], ['inside', 'none']]);
    const o = parse(conf('offload=off', 'kind=tap')) as DirectorConfig;
    expect(o.ports.map((p) => p.offload)).toEqual(['none', undefined]);
    const d = parse(conf('', 'kind=tap')) as DirectorConfig;
    expect(d.ports.map((p) => 'offload' in p)).toEqual([false, false]);
  });

  it('refuses unknown values and offload=tso on non-TAP ports', () => {
    // (the refused port is then missing, hence a second error about its VIP)
    expect((parse(conf('offload=gso', 'kind=tap')) as string[])[0]).toMatch(/o\.conf:1: .*unknown offload 'gso' \(known: tso, the default for TAP ports; none or off\)/);
    expect((parse(conf('', 'kind=pcap offload=tso')) as string[])[0]).toMatch(/o\.conf:2: .*offload=tso only applies to kind=tap/);
  });

  it('a pcap port beside an offloading TAP is accepted', () => {
    const c = parse(conf('offload=tso', 'kind=pcap device=eth9'));
    expect(Array.isArray(c)).toBe(false);
    expect(parse(conf('', 'kind=pcap device=eth9'))).not.toBeInstanceOf(Array);
  });

  it('a reload that turns offload on or off needs a restart', () => {
    const a = parse(conf('', 'kind=tap')) as DirectorConfig;
    const b = parse(conf('offload=none', 'kind=tap')) as DirectorConfig;
    expect(restartNeeded(a, b)).toEqual([expect.stringContaining("'outside'")]);
    expect(restartNeeded(a, a)).toEqual([]);
  });
});
