import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgents, waitFor } from '../helpers/fleet.js';
import { openUi, startUiHub, useBrowser } from './browser.js';

const browser = useBrowser();

async function storedPin(dataDir: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(join(dataDir, 'hub-trust.json'), 'utf8')) as { fingerprint: string }).fingerprint;
  } catch {
    return null;
  }
}

describe('certificate settings in the browser', { timeout: 90_000 }, () => {
  it('copies the fingerprint', async () => {
    const hub = await startUiHub();
    const { context, page, errors } = await openUi(browser(), hub, 'light', '/settings');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.uiUrl });
    const section = page.getByRole('region', { name: 'Agent certificate' });

    await section.getByTestId('certificate-fingerprint').getByText(hub.fingerprint as string).waitFor();
    await section.getByRole('button', { name: 'Copy fingerprint' }).click();
    const copied = await page.evaluate('navigator.clipboard.readText()');

    expect(copied).toBe(hub.fingerprint);
    expect(errors).toEqual([]);
  });

  it('rotates after confirmation', async () => {
    const hub = await startUiHub();
    const [agent] = await startAgents(hub, [{ name: 'follower' }]);
    const old = hub.fingerprint as string;
    await waitFor(async () => (await storedPin(agent?.dataDir as string)) === old, 10_000, 'pin stored');
    const { page, errors } = await openUi(browser(), hub, 'light', '/settings');
    const section = page.getByRole('region', { name: 'Agent certificate' });
    await section.getByTestId('certificate-fingerprint').getByText(old).waitFor();

    await section.getByRole('button', { name: 'Rotate certificate' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Agents that are offline follow on their next connection').waitFor();
    await dialog.getByRole('button', { name: 'Rotate certificate' }).click();
    const outcome = section.getByTestId('rotation-outcome');
    await outcome.waitFor();
    const outcomeText = await outcome.innerText();
    const shown = await section.getByTestId('certificate-fingerprint').innerText();

    expect(hub.fingerprint).not.toBe(old);
    expect(outcomeText).toContain(`New fingerprint: ${hub.fingerprint}`);
    expect(outcomeText).toContain(`Old fingerprint: ${old}`);
    expect(outcomeText).toContain('1 of 1 connected agents followed.');
    expect(shown.trim()).toBe(hub.fingerprint);
    await waitFor(async () => (await storedPin(agent?.dataDir as string)) === hub.fingerprint, 10_000, 'agent pin moved');
    expect(errors).toEqual([]);
  });
});
