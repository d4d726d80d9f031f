import { describe, expect, it } from 'vitest';
import { createJob, createShellTask, startAgent, startAgents, waitFor } from '../helpers/fleet.js';
import { openUi, startUiHub, useBrowser, waitForRoute } from './browser.js';

const browser = useBrowser();

describe('operations in the browser', { timeout: 90_000 }, () => {
  it('bulk edit changes ticked field only', async () => {
    const hub = await startUiHub();
    const task = await createShellTask(hub, 'echo hi', 'collector');
    const a = await createJob(hub, { name: 'alpha', taskId: task.id, retries: 1, tags: ['x'], timeoutSec: 60 });
    const b = await createJob(hub, { name: 'beta', taskId: task.id, retries: 2, tags: ['y'], timeoutSec: null });
    await createJob(hub, { name: 'gamma', taskId: task.id, retries: 3 });
    const { page } = await openUi(browser(), hub, 'light', '/jobs');

    await page.getByRole('checkbox', { name: 'Select alpha' }).check();
    await page.getByRole('checkbox', { name: 'Select beta' }).check();
    await page.getByRole('button', { name: 'Bulk edit' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('checkbox', { name: 'Retries' }).check();
    await dialog.getByRole('textbox', { name: 'Retries value' }).fill('4');
    await dialog.getByRole('button', { name: 'Apply to 2 jobs' }).click();
    await waitFor(() => hub.service.getJob(a.id).retries === 4 && hub.service.getJob(b.id).retries === 4, 5000, 'bulk update applied');

    const jobs = hub.service.listJobs().map(({ name, retries, tags, timeoutSec }) => ({ name, retries, tags, timeoutSec }));
    expect(jobs).toEqual([
      { name: 'alpha', retries: 4, tags: ['x'], timeoutSec: 60 },
      { name: 'beta', retries: 4, tags: ['y'], timeoutSec: null },
      { name: 'gamma', retries: 3, tags: [], timeoutSec: null },
    ]);
  });

  it('cancels a running run', { timeout: 90_000 }, async () => {
    const hub = await startUiHub();
    await startAgents(hub, [{ name: 'worker' }]);
    const task = await createShellTask(hub, 'echo started; sleep 30', 'sleeper');
    const { page } = await openUi(browser(), hub, 'light', '/tasks');

    await page.getByRole('link', { name: 'sleeper' }).click();
    await page.getByRole('tab', { name: 'Test run' }).click();
    await page.getByRole('button', { name: 'Test run' }).click();
    await page.getByRole('link', { name: 'Open run' }).click();
    await waitForRoute(page, /^#\/runs\//);
    await page.getByRole('log', { name: 'Log lines' }).getByText('started', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('main [data-status="cancelled"]').first().waitFor({ timeout: 40_000 });

    const runs = hub.service.listRuns({});
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ taskId: task.id, status: 'cancelled' });
  });

  it('shows an agent join and leave', { timeout: 60_000 }, async () => {
    const hub = await startUiHub();
    const { page } = await openUi(browser(), hub, 'light', '/fleet');
    await page.getByText('No agents yet').waitFor();

    const agent = await startAgent(hub, { name: 'newcomer', tags: ['gpu'] });
    const row = page.locator('tr[data-agent="newcomer"]');
    await row.and(page.locator('[data-status="online"]')).waitFor({ timeout: 15_000 });
    const slots = await row.getByText(/of 4$/).textContent();
    await agent.stop();
    await row.and(page.locator('[data-status="offline"]')).waitFor({ timeout: 15_000 });
    // The status bar follows within a moment of the fleet table.
    const offlineSummary = page.getByTestId('agents-summary').filter({ hasText: '0 of 1 agents online' });
    await offlineSummary.waitFor();

    expect(slots).toBe('0 of 4');
    expect(await offlineSummary.count()).toBe(1);
  });

  it('offers the join command', async () => {
    const hub = await startUiHub();
    const { page } = await openUi(browser(), hub, 'light', '/fleet');

    await page.getByRole('button', { name: 'Add agent' }).first().click();
    const command = await page.getByTestId('join-command').textContent();

    expect(command).toContain(`--token ${hub.agentToken}`);
    expect(command).toContain(`:${hub.agentPort}`);
  });
});
