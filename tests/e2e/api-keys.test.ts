import { describe, expect, it } from 'vitest';
import type { TestHub } from '../helpers/fleet.js';
import { openUi, screenshot, startUiHub, useBrowser, type Scheme } from './browser.js';

const browser = useBrowser();

/** Calls the hub's HTTP API with `key` as the bearer token and returns the status code. */
async function statusWithKey(hub: TestHub, key: string, method: 'GET' | 'POST', path: string): Promise<number> {
  const response = await fetch(`${hub.uiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: method === 'POST' ? JSON.stringify({ name: 'from a read key', runtime: 'shell', source: 'true' }) : undefined,
  });
  await response.arrayBuffer();
  return response.status;
}

describe('API keys in the browser', { timeout: 90_000 }, () => {
  it.each<Scheme>(['light', 'dark'])('creates, uses and revokes (%s)', async (scheme) => {
    const hub = await startUiHub();
    const { context, page, errors } = await openUi(browser(), hub, scheme, '/settings');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.uiUrl });
    const section = page.getByRole('region', { name: 'API keys' });

    await section.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.getByRole('textbox', { name: 'Name' }).fill('report script');
    await dialog.getByRole('radio', { name: 'Read' }).check({ force: true });
    await screenshot(page, 'settings-api-key-create', scheme);
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const createdDialog = page.getByRole('dialog', { name: 'API key created' });
    const key = (await createdDialog.getByTestId('api-key').textContent()) ?? '';
    await createdDialog.getByRole('button', { name: 'Copy API key' }).click();
    const copied = await page.evaluate('navigator.clipboard.readText()');
    await screenshot(page, 'settings-api-key-created', scheme);
    await createdDialog.getByRole('button', { name: 'Done' }).click();
    const row = section.locator('tr[data-key="report script"]');
    await row.waitFor();

    expect(key).toMatch(/^fbk_/);
    expect(copied).toBe(key);
    expect(await createdDialog.isVisible()).toBe(false);
    expect(await row.getAttribute('data-scope')).toBe('read');
    expect(await row.getAttribute('data-status')).toBe('active');
    expect(await statusWithKey(hub, key, 'GET', '/api/jobs')).toBe(200);
    expect(await statusWithKey(hub, key, 'POST', '/api/tasks')).toBe(403);

    await row.getByRole('button', { name: 'Revoke report script' }).click();
    const confirm = page.getByRole('dialog', { name: 'Revoke report script?' });
    const warning = await confirm.textContent();
    await confirm.getByRole('button', { name: 'Revoke key' }).click();
    await section.locator('tr[data-key="report script"][data-status="revoked"]').waitFor();
    await screenshot(page, 'settings-api-keys', scheme);

    expect(warning).toContain('Scripts that use this key stop working at once');
    expect(await statusWithKey(hub, key, 'GET', '/api/jobs')).toBe(401);
    expect(errors).toEqual([]);
  });
});
