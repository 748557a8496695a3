/**
 * The browser view against a running lab: tapvs run --ui in a netns lab of
 * one forwarding mode, headless Chromium on the page, a real curl through
 * the VIP, and the page checked for what a student must see: both real
 * servers on the diagram, the curl's connection in the tables with its
 * expiry counting down, and the walk of that connection with the fields the
 * mode rewrites. A screenshot of the walk goes to $TAPVS_UI_SHOTS (docs/
 * when refreshing the README's pictures) or the lab's dir.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, openView, rewriteList, type Browser } from '../ui/browser.js';
import { E2eLab, REPO, sleep, stillRunning, waitFor, type Mode } from './lab.js';

/** The URL tapvs logged for its view (pino JSON lines in tapvs.log). */
function viewUrl(lab: E2eLab): string | undefined {
  let log = '';
  try { log = readFileSync(join(lab.dir, 'tapvs.log'), 'utf8'); } catch { return undefined; }
  for (const line of log.split('\n')) {
    if (!line.includes('browser view listening')) continue;
    try { return (JSON.parse(line) as { url?: string }).url; } catch { /* pretty-printed: not from a pipe */ }
  }
  return undefined;
}

export function uiSuite(mode: Mode, tag: string): void {
  describe(`e2e ui ${mode}: the browser view of a live lab`, () => {
    const lab = new E2eLab(`tvu${process.pid % 1000}${tag}`, mode);
    let browser: Browser;
    let url = '';
    const cport = 41_000 + (process.pid % 1000);
    let answered = '';
    let rsAddr = '';

    beforeAll(async () => {
      // the IPv4 services only: these checks count the diagram's real servers (the view's IPv6 is test/ui's)
      await lab.up({ sched: 'rr', ipv6Services: false, tapvsArgs: ['--ui', '127.0.0.1:0', '--ui-lab', '$LAB_DIR/lab.json'] });
      await waitFor(async () => viewUrl(lab) !== undefined, 10_000);
      url = viewUrl(lab) ?? '';
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      browser = await openBrowser({ width: 1400, height: 1500 });
      await openView(browser, url);
    });

    afterAll(async () => {
      await browser?.close();
      const pids = lab.recordedPids();
      await lab.down();
      expect(stillRunning(pids)).toEqual([]);
    });

    const page = () => browser.page;
    const text = (sel: string) => page().locator(sel).first().innerText();

    it('the page loads and the diagram shows both real servers, by name, and the client', async () => {
      await page().waitForFunction(() => document.querySelectorAll('#topology [data-node="rs"]').length >= 2);
      const addrs = await page().$$eval('#topology [data-node="rs"]', (ns) => ns.map((n) => n.getAttribute('data-addr')).sort());
      expect(addrs).toEqual([...lab.rsAddrs].sort());
      const rsText = await page().$$eval('#topology [data-node="rs"]', (ns) => ns.map((n) => n.textContent ?? '').join('|'));
      expect(rsText).toContain('rs1');
      expect(rsText).toContain('rs2');
      expect(rsText).toContain(mode.toUpperCase());
      expect(await page().locator('#topology [data-node="client"]').textContent()).toContain(lab.env.LAB_CLIENT_ADDR);
      expect(await page().locator('#topology [data-node="director"]').textContent()).toContain(`VIP ${lab.vip}`);
      expect(await page().locator('#topology [data-node="router"]').count()).toBe(mode === 'nat' ? 0 : 1);
      expect(await text('#source-mode')).toBe('live');
      expect(await page().locator('#lesson [data-lesson-shown]').getAttribute('data-lesson-shown')).toBe(mode);
    });

    it('a curl through the VIP appears as a connection, with its expiry counting down', async () => {
      const r = await lab.client('curl', ['-s', '--max-time', '5', '--local-port', String(cport), `http://${lab.vip}/`]);
      expect(r.code, r.stderr).toBe(0);
      answered = r.stdout.trim();
      expect(answered).toMatch(/^rs[12]$/);
      rsAddr = lab.rsAddrs[Number(answered.slice(2)) - 1]!;
      const source = `${lab.env.LAB_CLIENT_ADDR}:${cport}`;
      const row = page().locator(`#walks tr[data-key^="TCP ${source} "]`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.locator('td').nth(3).innerText()).toBe(`${rsAddr}:80`);
      const conn = page().locator(`#conns tbody tr:has(td.source:text-is("${source}"))`);
      await conn.waitFor({ timeout: 10_000 });
      expect(await conn.locator('td.destination').innerText()).toBe(`${rsAddr}:80`);
      // The row's state and expiry read together, from one render of the table: a state change
      // (FIN_WAIT -> TIME_WAIT as the close completes) restarts the timer, so the countdown is
      // compared only between two reads in the same state; a pair across a change is read again.
      const snap = () => conn.evaluate((tr) => {
        const [m, s] = (tr.querySelector('td.expire')!.textContent ?? '').split(':').map(Number);
        return { state: tr.querySelector('td.state')!.textContent ?? '', secs: m! * 60 + s! };
      });
      const pairs: { a: { state: string; secs: number }; b: { state: string; secs: number } }[] = [];
      for (let i = 0; i < 4; i++) {
        const a = await snap();
        await sleep(2100);
        const b = await snap();
        pairs.push({ a, b });
        if (a.state === b.state) break;
      }
      const same = pairs.find((p) => p.a.state === p.b.state);
      expect(same, `no two reads 2.1 s apart in one state: ${JSON.stringify(pairs)}`).toBeDefined();
      expect(same!.a.secs).toBeGreaterThan(0);
      expect(same!.b.secs, JSON.stringify(pairs)).toBeLessThan(same!.a.secs);
      expect(await text(`#counters [data-dest="${rsAddr}:80"] .conns`)).toMatch(/^[1-9]\d* conns$/);
    });

    it(`stepping through the connection shows what ${mode.toUpperCase()} rewrites`, async () => {
      const source = `${lab.env.LAB_CLIENT_ADDR}:${cport}`;
      await page().click(`#walks tr[data-key^="TCP ${source} "]`);
      await page().waitForFunction((s) => document.querySelector('#walk-title')!.textContent!.includes(s), source);
      expect(await text('#walk-title')).toContain(`· ${mode.toUpperCase()} ·`);
      expect(await text('#sched-reason')).toContain(`${rsAddr}:80`);
      expect(await text('#walk-pos')).toMatch(/^frame 1 of \d+$/);
      expect(await text('#decision')).toMatch(/^New connection for TCP /);
      const rewrites = await rewriteList(page());
      const sent = (layer: string, field: string) => text(`.frame.sent [data-layer="${layer}"] tr[data-field="${field}"] td.field-value`);
      if (mode === 'nat') {
        // the lab's real servers listen on the service's port: the address and the checksums change
        expect(rewrites).toEqual(['ip.checksum', 'ip.dst', 'tcp.checksum']);
        expect(await sent('ip', 'dst')).toBe(`${rsAddr} (was ${lab.vip})`);
      } else if (mode === 'dr') {
        expect(rewrites).toEqual(['eth.dst']);
        const link = await lab.inNs(`${lab.id}-${answered}`, 'ip', ['-br', 'link', 'show', 'dev', 'eth0']);
        const mac = link.stdout.trim().split(/\s+/)[2]!;
        expect((await sent('eth', 'dst')).split(' ')[0]).toBe(mac);
        expect(await sent('ip', 'dst')).toBe(lab.vip);
      } else {
        expect(rewrites).toEqual(['ip-outer:added']);
        expect(await sent('ip-outer', 'dst')).toBe(rsAddr);
        expect(await sent('ip-outer', 'proto')).toBe('IPIP (4)');
        expect(await sent('ip', 'dst')).toBe(lab.vip);
      }
      expect(await page().locator('#reply-path').count()).toBe(1);
      if (mode === 'nat') expect(await text('#reply-path')).toContain('back through the director');
      else expect(await page().locator('#reply-path.bypass').count()).toBe(1);
      // the diagram lights the way to the chosen real server
      const lit = await page().$$eval('#topology [data-lit]', (ps) => ps.map((p) => p.getAttribute('data-lit')));
      expect(lit.some((l) => l!.startsWith('req:') && l!.endsWith(rsAddr))).toBe(true);
      if (mode !== 'nat') expect(lit.some((l) => l!.startsWith('bypass:'))).toBe(true);
      const shots = process.env.TAPVS_UI_SHOTS ? join(REPO, process.env.TAPVS_UI_SHOTS) : lab.dir;
      // the diagram, the lesson and the walk: what the README shows of each mode
      const walkBox = await page().locator('#walk-panel').boundingBox();
      await page().screenshot({ path: join(shots, `ui-${mode}.png`), fullPage: true, clip: { x: 0, y: 0, width: 1400, height: Math.ceil(walkBox!.y + walkBox!.height + 12) } });

      // step on: every later frame of this connection, and in NAT the replies the director rewrites back
      const total = Number(/of (\d+)/.exec(await text('#walk-pos'))![1]);
      expect(total).toBeGreaterThanOrEqual(mode === 'nat' ? 8 : 4);
      const kinds: string[] = [];
      for (let i = 1; i < total; i++) {
        await page().click('#walk-next');
        await page().waitForFunction((n) => document.querySelector('#walk-pos')!.textContent!.startsWith(`frame ${n} of `), i + 1);
        const hop = await text('#hop');
        kinds.push(hop.startsWith('real server') ? 'reply' : 'request');
        const r = await rewriteList(page());
        if (hop.startsWith('real server')) {
          expect(r).toEqual(['ip.checksum', 'ip.src', 'tcp.checksum']);
          expect(await sent('ip', 'src')).toBe(`${lab.vip} (was ${rsAddr})`);
        } else if (mode === 'nat') {
          expect(r).toEqual(['ip.checksum', 'ip.dst', 'tcp.checksum']);
        } else {
          expect(r).toEqual(mode === 'dr' ? ['eth.dst'] : ['ip-outer:added']);
        }
      }
      if (mode === 'nat') expect(kinds.filter((k) => k === 'reply').length).toBeGreaterThanOrEqual(3);
      else expect(kinds).not.toContain('reply');
      expect(await page().locator('#walk-next').isDisabled()).toBe(true);
      expect(browser.errors).toEqual([]);
    });
  });
}
