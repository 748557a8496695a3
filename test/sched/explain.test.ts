import { describe, expect, it } from 'vitest';
import { ALL_NAMES } from './names.js';
import { ip, makeSvc, pick, pkt } from './helpers.js';

describe('explain', () => {
  it('wlc names the dest, its overhead and weight', () => {
    const { svc } = makeSvc('wlc', [
      { name: '11', weight: 1, active: 1 },
      { name: '12', weight: 3, active: 0, inact: 1 },
    ]);
    const d = pick(svc)!;
    expect(svc.sched.explain!(svc, svc.schedState, d, pkt())).toBe('wlc: 192.168.10.12:80 overhead 1/weight 3 (lowest)');
  });

  it('rr names the dest it followed', () => {
    const { svc } = makeSvc('rr', [{ name: '11' }, { name: '12' }]);
    pick(svc);
    const d = pick(svc)!;
    expect(svc.sched.explain!(svc, svc.schedState, d, pkt())).toBe('rr: 192.168.10.12:80 next after 192.168.10.11:80');
  });

  it('sh names the client address and its bucket', () => {
    const { svc } = makeSvc('sh', [{ name: '11' }]);
    const p = pkt(ip('10.0.0.5'));
    const d = pick(svc, p)!;
    expect(svc.sched.explain!(svc, svc.schedState, d, p)).toMatch(/^sh: hash\(10\.0\.0\.5\) -> bucket \d+ -> 192\.168\.10\.11:80$/);
  });

  it.each(ALL_NAMES)('%s explains every pick with its own name and the dest', (name) => {
    const { svc } = makeSvc(name, [{ name: '11', weight: 2 }, { name: '12', weight: 1 }]);
    const p = pkt();
    const d = pick(svc, p)!;
    const text = svc.sched.explain!(svc, svc.schedState, d, p);
    expect(text.startsWith(`${name}: `)).toBe(true);
    expect(text).toContain(`192.168.10.${d.addr & 255}:80`);
  });
});
