import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createShellTask, onCleanup, startAgents, waitFor } from '../helpers/fleet.js';
import { openUi, startUiHub, useBrowser } from './browser.js';

const browser = useBrowser();

/** Starts a webhook on loopback that replies 200 and records the path of each POST. */
async function startWebhook(): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      paths.push(request.url ?? '');
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-part`, paths };
}

describe('settings and test runs in the browser', { timeout: 90_000 }, () => {
  it('saves network settings for restart', async () => {
    const hub = await startUiHub();
    const { page, errors } = await openUi(browser(), hub, 'light', '/settings');
    const section = page.getByRole('region', { name: 'Network' });

    await section.getByRole('textbox', { name: 'UI and API port' }).fill('8111');
    await section.getByRole('textbox', { name: 'Agent port' }).fill('8222');
    await section.getByRole('switch', { name: 'Allow remote UI access' }).check({ force: true });
    await section.getByRole('button', { name: 'Save network settings' }).click();
    await waitFor(() => hub.service.getNetwork().stored.uiPort === 8111, 5_000, 'network settings saved');
    const effective = await section.getByTestId('network-effective').textContent();
    const overrides = await section.getByTestId('network-override').allTextContents();

    expect(hub.service.getNetwork().stored).toEqual({ uiPort: 8111, agentPort: 8222, allowRemoteUi: true });
    expect(effective).toContain(`UI and API on 127.0.0.1 port ${hub.uiPort}`);
    expect(effective).toContain('Changes take effect after the hub restarts.');
    expect(overrides).toHaveLength(3);
    expect(overrides[0]).toContain('The --ui-port start option overrides the stored port');
    expect(errors).toEqual([]);
  });

  it('saves a webhook and sends a test', async () => {
    const webhook = await startWebhook();
    const hub = await startUiHub();
    const { page, errors } = await openUi(browser(), hub, 'light', '/settings');
    const section = page.getByRole('region', { name: 'Failure alerts' });

    await section.getByRole('textbox', { name: 'Webhook URL' }).fill(webhook.url);
    await section.getByRole('button', { name: 'Save URL' }).click();
    await section.getByText(`Saved: ${new URL(webhook.url).origin}/***`).waitFor();
    // The switch shows the hub's value, so it flips only once the hub replied.
    await section.getByRole('switch').click({ force: true });
    await waitFor(() => hub.service.getAlerts().enabled, 5_000, 'alerts enabled');
    await section.getByRole('button', { name: 'Send test' }).click();
    const result = section.getByTestId('alert-test-result');
    await result.waitFor();

    expect(await result.textContent()).toBe('Delivered, HTTP 200');
    expect(webhook.paths).toEqual(['/hook/secret-part']);
    expect(await section.getByRole('textbox', { name: 'Webhook URL' }).inputValue()).toBe('');
    expect(await page.content()).not.toContain('secret-part');
    expect(errors).toEqual([]);
  });

  it('runs a test on the chosen agent', async () => {
    const hub = await startUiHub();
    await startAgents(hub, [{ name: 'alpha' }, { name: 'beta' }, { name: 'gamma' }]);
    await createShellTask(hub, 'echo "ran on $(hostname) ok"', 'probe');
    const beta = hub.service.listAgents().find((agent) => agent.name === 'beta');
    const { page, errors } = await openUi(browser(), hub, 'light', '/tasks');

    await page.getByRole('link', { name: 'probe' }).click();
    await page.getByRole('tab', { name: 'Test run' }).click();
    await page.getByRole('textbox', { name: 'Agent', exact: true }).click();
    await page.getByRole('option', { name: 'beta' }).click();
    await page.getByRole('button', { name: 'Test run' }).click();
    await page.getByRole('log', { name: 'Log lines' }).getByText(/ran on .* ok/).first().waitFor({ timeout: 30_000 });
    const runs = hub.service.listRuns({});

    expect(runs).toHaveLength(1);
    expect(runs[0]?.agentId).toBe(beta?.id);
    expect(runs[0]?.pinnedAgentId).toBe(beta?.id);
    expect(errors).toEqual([]);
  });
});
