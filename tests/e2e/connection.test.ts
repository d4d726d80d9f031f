import { describe, expect, it } from 'vitest';
import { onCleanup, startTestHub } from '../helpers/fleet.js';
import { openUi, RENDERER_DIR, startUiHub, useBrowser } from './browser.js';

const browser = useBrowser();

async function newPage() {
  const context = await browser().newContext();
  onCleanup(() => context.close());
  context.setDefaultTimeout(20_000);
  return context.newPage();
}

describe('sign-in and connection', { timeout: 90_000 }, () => {
  it('drops the token from the address', async () => {
    const hub = await startUiHub();

    const { page } = await openUi(browser(), hub);

    expect(page.url()).not.toContain('token');
    expect(page.url()).toBe(`${hub.uiUrl}/#/jobs`);
  });

  it('asks for a token without one', async () => {
    const hub = await startUiHub();
    const page = await newPage();

    await page.goto(hub.uiUrl);
    await page.getByLabel('Admin token').fill(hub.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();

    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('says a wrong token is wrong', async () => {
    const hub = await startUiHub();
    const page = await newPage();

    await page.goto(`${hub.uiUrl}/#token=not-the-token`);
    const alert = await page.getByRole('alert').filter({ hasText: 'Token rejected' }).textContent();

    expect(alert).toContain('did not accept this admin token');
    expect(await page.getByLabel('Admin token').isVisible()).toBe(true);
  });

  it('reconnects after the hub restarts', { timeout: 60_000 }, async () => {
    const first = await startUiHub();
    const { page } = await openUi(browser(), first, 'light', '/fleet');

    await first.stop();
    await page.getByTestId('disconnected-banner').waitFor();
    await startTestHub({ dataDir: first.dataDir, uiPort: first.uiPort, adminToken: first.adminToken, rendererDir: RENDERER_DIR });
    await page.getByTestId('disconnected-banner').waitFor({ state: 'detached', timeout: 20_000 });

    expect(await page.locator('[data-connection="connected"]').count()).toBe(1);
  });
});
