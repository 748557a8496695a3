// The live view in a real browser, without a lab: a LiveDirector on memory
// ports with the view's consumer and server (as `tapvs run --ui` wires
// them), frames injected as a client and a real server would send them, and
// the page checked as it updates: the diagram, the connection appearing with
// its expiry counting down, the walk with NAT's rewrites both ways, counters
// and drops.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { portNow } from '../../src/io/port.js';
import { LiveDirector } from '../../src/runtime/live.js';
import { liveUi, type UiServer } from '../../src/ui/index.js';
import { tcpFrame } from '../director/frames.js';
import { parseIp } from '../../src/wire/addr.js';
import { openBrowser, openView, rewriteList, type Browser } from './browser.js';

const CLIENT = '203.0.113.7';
const VIP = '10.0.0.100';
const OUT_MAC = '02:00:00:00:00:01';
const IN_MAC = '02:00:00:00:00:02';
const ROUTER_MAC = '02:00:00:00:00:fe';
const RS1 = '192.168.10.11';
const RS2 = '192.168.10.12';
const CONFIG = `port outside kind=memory mac=${OUT_MAC} addr=10.0.0.1/24
port inside kind=memory mac=${IN_MAC} addr=192.168.10.1/24
vip ${VIP} on outside
route default via 10.0.0.254
neigh 10.0.0.254 ${ROUTER_MAC}
neigh ${RS1} 02:00:00:00:10:11
neigh ${RS2} 02:00:00:00:10:12
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r ${RS1}:8080 -m -w 1
-a -t ${VIP}:80 -r ${RS2}:8080 -m -w 1
`;

let live: LiveDirector;
let server: UiServer;
let browser: Browser;

beforeAll(async () => {
  const parsed = parseConfig(CONFIG, 'live-ui.conf');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  const ui = liveUi({ listen: { host: '127.0.0.1', port: 0 } });
  live = new LiveDirector(parsed.config, pino({ level: 'silent' }), {
    open: (p) => new MemoryPort({ name: p.name, mac: p.mac, mtu: p.mtu }), trace: ui.sink,
  });
  live.start();
  server = await ui.start(live, portNow);
  browser = await openBrowser();
  await openView(browser, server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await live?.stop();
});

const page = () => browser.page;
const text = (sel: string) => page().locator(sel).first().innerText();
const outside = () => live.ports[0] as MemoryPort;
const inside = () => live.ports[1] as MemoryPort;
const fromClient = (cport: number, flags: string, payload?: string) => outside().inject(tcpFrame({
  smac: ROUTER_MAC, dmac: OUT_MAC, src: CLIENT, dst: VIP, sport: cport, dport: 80, flags, seq: 1000, ack: flags.includes('A') ? 1 : 0,
  ...(payload !== undefined ? { payload } : {}),
}), portNow());
const fromServer = (rs: string, cport: number, flags: string) => inside().inject(tcpFrame({
  smac: rs === RS1 ? '02:00:00:00:10:11' : '02:00:00:00:10:12', dmac: IN_MAC, src: rs, dst: CLIENT, sport: 8080, dport: cport, flags, seq: 5000, ack: 1001,
}), portNow());

describe('the live view', () => {
  it('draws both real servers and the director, and says it is live', async () => {
    expect(await text('#source-mode')).toBe('live');
    await page().waitForFunction(() => document.querySelectorAll('#topology [data-node="rs"]').length === 2);
    const addrs = await page().$$eval('#topology [data-node="rs"]', (ns) => ns.map((n) => n.getAttribute('data-addr')).sort());
    expect(addrs).toEqual([RS1, RS2]);
    expect(await page().locator('#topology [data-node="router"]').textContent()).toContain('10.0.0.254');
  });

  it('shows a new connection as it happens, its expiry counting down, and the counters moving', async () => {
    fromClient(40001, 'S');
    // rr starts with the real server added last, as the kernel
    const row = page().locator(`#conns tbody tr:has(td.source:text-is("${CLIENT}:40001"))`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.locator('td.destination').innerText()).toBe(`${RS2}:8080`);
    expect(await row.locator('td.state').innerText()).toBe('SYN_RECV');
    const secs = async () => {
      const [m, s] = (await row.locator('td.expire').innerText()).split(':').map(Number);
      return m! * 60 + s!;
    };
    const a = await secs();
    await page().waitForTimeout(2100);
    expect(await secs()).toBeLessThan(a);
    await page().waitForFunction((rs) => document.querySelector(`#counters [data-dest="${rs}:8080"] .conns`)?.textContent === '1 conns', RS2);
    const rs2 = page().locator(`#topology [data-node="rs"][data-addr="${RS2}"]`);
    expect(await rs2.textContent()).toMatch(/act 0 inact 1|act 1 inact 0/);
  });

  it('walks the connection both ways with the NAT rewrites', async () => {
    fromServer(RS2, 40001, 'SA');
    fromClient(40001, 'A');
    fromClient(40001, 'PA', 'GET / HTTP/1.0\r\n\r\n');
    const walkRow = page().locator(`#walks tr[data-key^="TCP ${CLIENT}:40001 "]`);
    await page().waitForFunction(() => document.querySelector('#walks tr td.frames')?.textContent === '4');
    await walkRow.click();
    await page().waitForFunction(() => document.querySelector('#walk-pos')?.textContent === 'frame 1 of 4');
    expect(await text('#sched-reason')).toContain(`${RS2}:8080`);
    expect(await rewriteList(page())).toEqual(['ip.checksum', 'ip.dst', 'tcp.checksum', 'tcp.dport']);
    await page().click('#walk-next');
    await page().waitForFunction(() => document.querySelector('#walk-pos')?.textContent === 'frame 2 of 4');
    expect(await text('#hop')).toBe(`real server ${RS2} → director (in on inside) → client ${CLIENT} (out on outside)`);
    expect(await rewriteList(page())).toEqual(['ip.checksum', 'ip.src', 'tcp.checksum', 'tcp.sport']);
    expect(await text('.frame.sent [data-layer="ip"] tr[data-field="ttl"]')).toMatch(/63\s+\(was 64\)/);
    expect(await page().locator('.frame.sent [data-layer="ip"] tr[data-field="ttl"].hop').count()).toBe(1);
    await page().click('#walk-next');
    await page().click('#walk-next');
    await page().waitForFunction(() => document.querySelector('#walk-pos')?.textContent === 'frame 4 of 4');
    expect(await text('.frame.received [data-layer="tcp"] tr[data-field="data"]')).toMatch(/18 bytes/);
    expect(await page().locator('#walk-next').isDisabled()).toBe(true);
  });

  it('counts a drop by its reason', async () => {
    // a client segment that opens nothing: no SYN, no connection
    fromClient(40999, 'A');
    const drop = page().locator('#drops tr[data-reason="no-conn-not-syn"] td').nth(1);
    await drop.waitFor({ timeout: 5000 });
    expect(await drop.innerText()).toBe('1');
    // the dropped frame is listed among the frames of no connection, and opens in the walk panel
    const item = page().locator('#other li', { hasText: 'dropped: no-conn-not-syn' });
    await item.waitFor({ timeout: 5000 });
    await item.click();
    await page().waitForFunction(() => document.querySelector('#walk-title')?.textContent === 'a frame of no connection');
    expect(await text('.frame.sent .drop')).toBe('dropped: no-conn-not-syn');
    expect(await text('.frame.received [data-layer="tcp"] tr[data-field="sport"]')).toMatch(/40999/);
    expect(browser.errors).toEqual([]);
  });

  it('shows each real server\'s health: up, and down when a check took it out', async () => {
    const svc = live.director.services.all[0]!;
    live.director.mutate.removeDest(svc.findDest(parseIp(RS2), 8080)!);
    live.healthStates = () => [
      { service: `-t ${VIP}:80`, dest: `${RS1}:8080`, kind: 'http', up: true, since: 0, failures: 0 },
      { service: `-t ${VIP}:80`, dest: `${RS2}:8080`, kind: 'http', up: false, since: 0, failures: 3, lastError: 'connection refused' },
    ];
    await page().waitForFunction((rs2) => document.querySelector(`#topology [data-node="rs"][data-addr="${rs2}"]`)?.getAttribute('data-health') === 'down', RS2, { timeout: 5000 });
    expect(await page().locator(`#topology [data-node="rs"][data-addr="${RS1}"]`).getAttribute('data-health')).toBe('ok');
    expect(await text(`#counters tr[data-dest="${RS2}:8080"] td.health`)).toBe('http down (taken out)');
    expect(await text(`#counters tr[data-dest="${RS1}:8080"] td.health`)).toBe('http up');
    expect(await page().locator(`#counters tr[data-dest="${RS2}:8080"] td.health`).getAttribute('title')).toBe('connection refused');
    expect(browser.errors).toEqual([]);
  });
});
