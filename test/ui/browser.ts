// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core,
// for the browser view's tests. As root Chromium needs --no-sandbox; the
// background-networking flags keep it from calling out of this closed
// machine; each launch gets a fresh profile, removed on close.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.TAPVS_CHROMIUM ?? '/usr/bin/chromium';

export interface Browser {
  page: Page;
  /** Uncaught errors and console errors of the page, for the tests to assert there were none. */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1400, height: 1200 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh installs it)`);
  const profile = mkdtempSync(join(tmpdir(), 'tapvs-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  return {
    page,
    errors,
    close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the view at `url` and waits until it has loaded its first data. */
export async function openView(b: Browser, url: string): Promise<void> {
  await b.page.goto(url);
  await b.page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
}

/** The text of the rewrite list (#changes) as "layer.field" entries, "layer:added" for added layers. */
export async function rewriteList(page: Page): Promise<string[]> {
  return page.$$eval('#changes li', (lis) => lis.map((li) => {
    const l = li.getAttribute('data-layer');
    const f = li.getAttribute('data-field');
    return li.classList.contains('added') ? `${l}:added` : `${l}.${f}`;
  }).sort());
}
