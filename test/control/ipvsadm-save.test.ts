import { describe, expect, it } from 'vitest';
import { formatSave, parseRestore, restore } from '../../src/control/ipvsadm-save.js';
import { ServiceTable } from '../../src/model/services.js';
import { ConnTable } from '../../src/conn/table.js';
import { Mutations } from '../../src/director/mutations.js';

/** The mutation API over a bare service table (no director around it). */
const mut = (t: ServiceTable) => new Mutations(t, new ConnTable({ max: 64 }));

const ip = (s: string) => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);

// What `ipvsadm-save -n` prints for a mixed rule set (ipvsadm 1.31: sorted,
// tunnel servers carry --tun-type ipip).
const SAVED = `-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1
-a -t 10.0.0.100:80 -r 192.168.10.12:80 -m -w 1
-a -t 10.0.0.100:80 -r 192.168.10.13:8080 -m -w 0
-A -t 10.0.0.100:443 -s wlc -p 360
-a -t 10.0.0.100:443 -r 10.0.0.21:443 -g -w 10
-a -t 10.0.0.100:443 -r 10.0.0.22:443 -g -w 20
-A -t 10.0.0.101:0 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
-a -t 10.0.0.101:0 -r 172.16.1.5:0 -i -w 1 --tun-type ipip
-A -u 10.0.0.100:53 -s mh -o -b mh-port
-a -u 10.0.0.100:53 -r 192.168.10.11:53 -m -w 1
-a -u 10.0.0.100:53 -r 192.168.10.12:53 -m -w 1
-A -f 7 -s lc
-a -f 7 -r 10.0.0.31:0 -g -w 1
`;

describe('ipvsadm -S / -R', () => {
  it('a realistic ipvsadm-save text restored, then saved, comes back byte for byte', () => {
    const t = new ServiceTable();
    const r = restore(t, mut(t), SAVED);
    expect(r.ok).toBe(true);
    expect(formatSave(t)).toBe(SAVED);
  });

  it('restore adds real servers in file order, so the kernel list is newest first', () => {
    const t = new ServiceTable();
    restore(t, mut(t), SAVED);
    const dests = t.get(6, ip('10.0.0.100'), 80)!.dests.map((d) => d.addr);
    expect(dests).toEqual([ip('192.168.10.13'), ip('192.168.10.12'), ip('192.168.10.11')]);
  });

  it('saves sorted whatever order the rules were added in, so save is stable', () => {
    const t = new ServiceTable();
    const shuffled = SAVED.trim().split('\n');
    // services must precede their servers; reverse the servers within each block
    const blocks: string[][] = [];
    for (const l of shuffled) (l.startsWith('-A') ? blocks.push([l]) : blocks[blocks.length - 1]!.splice(1, 0, l));
    restore(t, mut(t), blocks.reverse().flat().join('\n'));
    expect(formatSave(t)).toBe(SAVED);
  });

  it('prints -x/-y only when thresholds are set, and they survive restore', () => {
    const text = '-A -t 10.0.0.100:80 -s wlc\n-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m -w 1 -x 500 -y 250\n';
    const t = new ServiceTable();
    expect(restore(t, mut(t), text).ok).toBe(true);
    expect(t.get(6, ip('10.0.0.100'), 80)!.dests[0]!.lThreshold).toBe(250);
    expect(formatSave(t)).toBe(text);
  });

  it('accepts comments, blank lines and "ipvsadm" prefixes; reports bad lines by number', () => {
    const p = parseRestore('# saved\n\nipvsadm -A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2 -w x\n-L -n\n');
    expect(p).toStrictEqual({
      errors: [
        { line: 4, message: 'illegal weight specified' },
        { line: 5, message: "'list' cannot be restored: -R reads commands that change the table" },
      ],
    });
  });

  it('an invalid line anywhere leaves the table as it was, and names the line', () => {
    const t = new ServiceTable();
    restore(t, mut(t), '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2 -w 1\n');
    const before = formatSave(t);
    const r = restore(t, mut(t), '-A -t 10.0.0.9:80 -s rr\n-a -t 10.0.0.9:80 -r 10.0.0.3\n-a -t 10.0.0.1:80 -r 10.0.0.2\n');
    expect(r).toStrictEqual({ ok: false, errors: [{ line: 3, message: 'Destination already exists' }] });
    expect(formatSave(t)).toBe(before);
  });
});
