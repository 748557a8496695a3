// `tapvs replay --ui` in a real browser: each mode's fixture replayed, the
// page driven through its timeline, and what the page shows checked: the
// frame counter, the diagram's real server, the rewritten fields of each
// mode, the table as it was at that point of the capture, play and pause.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, openView, rewriteList, type Browser } from './browser.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'fixtures', 'pcap');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-ui-replay-'));

/** Starts `tapvs replay --ui 127.0.0.1:0` and resolves with the URL it prints. */
function startReplay(name: string, input: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [
    join(ROOT, 'bin', 'tapvs.js'), 'replay', '--config', join(FIX, `${name}.conf`), '--in', join(FIX, input),
    '--out', join(tmp, `${name}.pcapng`), '--ui', '127.0.0.1:0',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL from tapvs replay --ui: ${err}`)), 20_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /browser view of the replay at (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`tapvs replay --ui exited ${code}: ${err}`)));
  });
}

let browser: Browser;
const children: ChildProcess[] = [];
beforeAll(async () => { browser = await openBrowser(); });
afterAll(async () => {
  await browser?.close();
  for (const c of children) c.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

async function view(name: string, input: string): Promise<void> {
  const r = await startReplay(name, input);
  children.push(r.child);
  await openView(browser, r.url);
  await browser.page.waitForFunction(() => document.querySelector('#tl-pos')?.textContent?.startsWith('frame 1 of'));
}

const text = (sel: string) => browser.page.locator(sel).first().innerText();
async function step(): Promise<void> {
  const before = await text('#tl-pos');
  await browser.page.click('#tl-next');
  await browser.page.waitForFunction((b) => document.querySelector('#tl-pos')!.textContent !== b, before);
}

describe('replay --ui, NAT', () => {
  beforeAll(() => view('nat-http', 'nat-http.in.pcapng'));

  it('shows the capture, the timeline and the topology', async () => {
    expect(await text('#source-mode')).toBe('replay');
    expect(await text('#tl-pos')).toMatch(/^frame 1 of 11 /);
    expect(await text('#tl-capture')).toContain('replayed 10 frames, sent 13');
    const rs = browser.page.locator('#topology [data-node="rs"]');
    expect(await rs.count()).toBe(1);
    expect(await rs.getAttribute('data-addr')).toBe('192.168.10.11');
    expect(await browser.page.locator('#topology [data-node="director"]').textContent()).toContain('VIP 10.0.0.100');
    expect(await text('#lesson')).toContain('LVS-NAT');
  });

  it('steps to the SYN: the scheduler reason, the NAT rewrite, the table at that moment', async () => {
    await step();
    expect(await text('#tl-pos')).toMatch(/^frame 2 of 11 · t = 0.000 s/);
    expect(await text('#walk-title')).toContain('TCP 203.0.113.7:45000 → VIP 10.0.0.100:80 → 192.168.10.11:8080 · NAT');
    expect(await text('#sched-reason')).toBe('rr: 192.168.10.11:8080 (first in list)');
    expect(await rewriteList(browser.page)).toEqual(['ip.checksum', 'ip.dst', 'tcp.checksum', 'tcp.dport']);
    const dst = browser.page.locator('.frame.sent [data-layer="ip"] tr[data-field="dst"]');
    expect(await dst.getAttribute('class')).toBe('rewrite');
    expect(await dst.innerText()).toMatch(/192\.168\.10\.11\s+\(was 10\.0\.0\.100\)/);
    expect(await text('.frame.sent [data-layer="tcp"] tr[data-field="dport"]')).toMatch(/8080\s+\(was 80\)/);
    // the TTL loses one hop toward the real server, marked as a hop's change, not the NAT rewrite
    expect(await browser.page.locator('.frame.sent [data-layer="ip"] tr[data-field="ttl"]').getAttribute('class')).toBe('hop');
    expect(await text('#conns tbody tr')).toMatch(/TCP\s+01:00\s+SYN_RECV\s+203\.0\.113\.7:45000\s+10\.0\.0\.100:80\s+192\.168\.10\.11:8080/);
    expect(await text('#reply-path')).toContain('back through the director');
    // the diagram lights the path to the chosen real server
    expect(await browser.page.locator('#topology [data-lit="req:director-rs-192.168.10.11"]').count()).toBe(1);
  });

  it('steps on to the reply and back again', async () => {
    await step(); // the ARP reply that released the SYN
    await step(); // the SYN-ACK
    expect(await text('#hop')).toContain('real server 192.168.10.11 → director');
    expect(await rewriteList(browser.page)).toEqual(['ip.checksum', 'ip.src', 'tcp.checksum', 'tcp.sport']);
    expect(await browser.page.locator('#topology [data-lit^="rep:"]').count()).toBeGreaterThan(0);
    await browser.page.click('#tl-prev');
    await browser.page.waitForFunction(() => document.querySelector('#tl-pos')!.textContent!.startsWith('frame 3 of'));
    expect(await text('#walk-title')).toBe('a frame of no connection');
  });

  it('plays to the end at the capture clock, and pauses', async () => {
    await browser.page.selectOption('#tl-speed', '0.1'); // 72 ms of capture: ~0.7 s
    await browser.page.click('#tl-play');
    expect(await browser.page.locator('#tl-pause').isEnabled()).toBe(true);
    await browser.page.waitForFunction(() => document.querySelector('#tl-pos')!.textContent!.startsWith('frame 11 of 11'), undefined, { timeout: 10_000 });
    await browser.page.waitForFunction(() => (document.querySelector('#tl-pause') as HTMLButtonElement).disabled);
    expect(await text('#conns tbody tr')).toContain('TIME_WAIT');
    expect(await text('#counters [data-dest="192.168.10.11:8080"] .conns')).toBe('1 conns');
    // play from the start again, slowly, and pause on the way
    await browser.page.selectOption('#tl-speed', '0.1');
    await browser.page.click('#tl-play');
    await browser.page.waitForFunction(() => /^frame [2-9] of/.test(document.querySelector('#tl-pos')!.textContent!));
    await browser.page.click('#tl-pause');
    const paused = await text('#tl-pos');
    await browser.page.waitForTimeout(600);
    expect(await text('#tl-pos')).toBe(paused);
    expect(paused).not.toMatch(/^frame 11 /);
    expect(browser.errors).toEqual([]);
  });
});

describe('replay --ui, DR', () => {
  beforeAll(() => view('dr-http', 'dr-http.in.pcap'));

  it('the only rewrite is the destination MAC; the reply bypasses the director', async () => {
    await step();
    expect(await text('#walk-title')).toContain('· DR ·');
    expect(await rewriteList(browser.page)).toEqual(['eth.dst']);
    expect(await browser.page.locator('.frame.sent [data-layer="ip"] tr.rewrite, .frame.sent [data-layer="tcp"] tr.rewrite').count()).toBe(0);
    expect(await browser.page.locator('#reply-path.bypass').count()).toBe(1);
    expect(await browser.page.locator('#topology [data-lit^="bypass:"]').count()).toBeGreaterThan(0);
    expect(await text('#lesson')).toContain('LVS-DR');
  });
});

describe('replay --ui, TUN', () => {
  beforeAll(() => view('tun-http', 'tun-http.in.pcap'));

  it('an outer IPv4 header is added in front of the untouched packet', async () => {
    await step();
    await step();
    await step();
    expect(await text('#walk-title')).toContain('· TUN ·');
    expect(await rewriteList(browser.page)).toEqual(['ip-outer:added']);
    const outer = browser.page.locator('.frame.sent .layer.added[data-layer="ip-outer"]');
    expect(await outer.count()).toBe(1);
    expect(await outer.innerText()).toMatch(/protocol\s+IPIP \(4\)/);
    expect(await text('.frame.sent [data-layer="ip"] .lname')).toBe('IPv4, inner');
    expect(await browser.page.locator('.frame.sent [data-layer="ip"] tr.rewrite').count()).toBe(0);
    expect(browser.errors).toEqual([]);
  });
});

describe('replay --ui, NAT6 (IPv6)', () => {
  beforeAll(() => view('nat6-http', 'nat6-http.in.pcapng'));

  it('the SYN\'s walk: [addr]:port everywhere, the rewritten ip6.dst, port and checksum; the hop limit a hop change', async () => {
    expect(await text('#tl-pos')).toMatch(/^frame 1 of 11 /);
    await step();
    expect(await text('#walk-title')).toContain('TCP [2001:db8:ff::7]:45000 → VIP [2001:db8:0:1::100]:80 → [2001:db8:0:10::11]:8080 · NAT');
    expect(await text('#sched-reason')).toBe('rr: [2001:db8:0:10::11]:8080 (first in list)');
    expect(await rewriteList(browser.page)).toEqual(['ip.dst', 'tcp.checksum', 'tcp.dport']);
    const dst = browser.page.locator('.frame.sent [data-layer="ip"] tr[data-field="dst"]');
    expect(await dst.getAttribute('class')).toBe('rewrite');
    expect(await dst.innerText()).toMatch(/2001:db8:0:10::11\s+\(was 2001:db8:0:1::100\)/);
    expect(await text('.frame.sent [data-layer="ip"] .lname')).toBe('IPv6');
    expect(await browser.page.locator('.frame.sent [data-layer="ip"] tr[data-field="hlim"]').getAttribute('class')).toBe('hop');
    expect(await text('.frame.sent h4')).toContain('after neighbour discovery resolved the next hop');
    expect(await text('#conns tbody tr')).toMatch(/TCP\s+01:00\s+SYN_RECV\s+\[2001:db8:ff::7\]:45000\s+\[2001:db8:0:1::100\]:80\s+\[2001:db8:0:10::11\]:8080/);
    expect(await browser.page.locator('#topology [data-node="rs"]').getAttribute('data-addr')).toBe('2001:db8:0:10::11');
    expect(await browser.page.locator('#topology [data-lit="req:director-rs-2001:db8:0:10::11"]').count()).toBe(1);
    expect(browser.errors).toEqual([]);
  });
});
