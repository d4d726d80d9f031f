/**
 * End-to-end harness: Debian's Chromium driven by playwright-core against a
 * real hub that serves the built renderer from out/renderer.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { ROOT, cleanup, onCleanup, startTestHub, type TestHub } from '../helpers/fleet.js';

export const CHROMIUM = process.env.FARMBOY_CHROMIUM ?? '/usr/bin/chromium';
export const RENDERER_DIR = join(ROOT, 'out', 'renderer');
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');

export type Scheme = 'light' | 'dark';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; install Debian's chromium package or set FARMBOY_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Starts one browser for a test file and closes it after the file; stops
 * the hubs and agents each test started. Returns the browser once started.
 */
export function useBrowser(): () => Browser {
  let browser: Browser | null = null;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(cleanup);
  return () => {
    if (browser === null) throw new Error('the browser starts in beforeAll; use it inside a test');
    return browser;
  };
}

/** Starts a hub on loopback that serves the built UI. */
export async function startUiHub(): Promise<TestHub> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error('out/renderer is missing; run npm run build:app');
  return startTestHub({ rendererDir: RENDERER_DIR });
}

export interface UiSession {
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors, which a test expects to stay empty. */
  errors: string[];
}

/** Opens the UI signed in through the `#token=` address, as farmboy-hub prints it. */
export async function openUi(browser: Browser, hub: TestHub, scheme: Scheme = 'light', path = '/jobs'): Promise<UiSession> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: scheme });
  onCleanup(() => context.close());
  // Generous: CI runs these beside integration tests on two cores.
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${hub.uiUrl}/#token=${hub.adminToken}`);
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
  if (path !== '/jobs') await goToRoute(page, path);
  return { context, page, errors };
}

/** Saves a full-page screenshot as test-results/screenshots/NAME-SCHEME.png. */
export async function screenshot(page: Page, name: string, scheme: Scheme): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${scheme}.png`), fullPage: false });
}

/**
 * Waits until the address's hash route matches `pattern`; hash changes are not page loads, so waitForURL does not fit.
 * It polls from here: waitForFunction with a string polls through eval in the page, which the UI's CSP forbids.
 */
export async function waitForRoute(page: Page, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hash = (await page.evaluate('window.location.hash')) as string;
    if (pattern.test(hash)) return hash;
    if (Date.now() > deadline) throw new Error(`the route stayed at "${hash}", not matching ${String(pattern)}, for ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Moves the single-page app to a route, as a click on a link would. */
export async function goToRoute(page: Page, path: string): Promise<void> {
  await page.evaluate(`window.location.hash = ${JSON.stringify(`#${path}`)}`);
}
