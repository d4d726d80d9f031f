import { describe, expect, it } from 'vitest';
import { startAgents, waitFor } from '../helpers/fleet.js';
import { goToRoute, openUi, startUiHub, useBrowser, waitForRoute } from './browser.js';

const browser = useBrowser();

describe('task to run in the browser', { timeout: 90_000 }, () => {
  it('writes, schedules and runs a task', { timeout: 90_000 }, async () => {
    const hub = await startUiHub();
    await startAgents(hub, [{ name: 'worker' }]);
    const { page, errors } = await openUi(browser(), hub, 'light', '/tasks/new');

    await page.getByRole('button', { name: 'Use template Blank shell script' }).click();
    await page.getByLabel('Task name').fill('greeter');
    await page.getByTestId('code-editor').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('echo step one\nsleep 1\necho step two\n');
    await page.keyboard.press('Control+S');
    await waitForRoute(page, /^#\/tasks\/[0-9a-f-]{36}$/);
    const task = await waitFor(() => hub.service.listTasks().find((entry) => entry.name === 'greeter'), 5000, 'task saved');

    await goToRoute(page, `/jobs/new?task=${task.id}`);
    const form = page.getByRole('form', { name: 'Job' });
    await form.getByRole('textbox', { name: /^Name/ }).fill('greet every five minutes');
    const cron = page.getByLabel('Cron expression');
    await cron.fill('61 * * * *');
    const cronError = await page.getByText(/minutes go from 0 to 59/).textContent();
    await cron.fill('0 0 30 2 *');
    const hubCronError = await page.getByText(/never occurs in February/).textContent();
    await cron.fill('*/5 * * * *');
    await page.getByLabel('Next fire times').waitFor();
    const config = page.getByLabel('Job config (JSON)');
    await config.fill('{"name": ');
    const jsonError = await page.getByText(/^Invalid JSON/).textContent();
    await config.fill('{"name": "farm"}');
    await page.getByRole('button', { name: 'Create job' }).click();
    await waitForRoute(page, /^#\/jobs$/);
    await page.getByRole('button', { name: 'Run greet every five minutes now' }).click();
    await waitForRoute(page, /^#\/runs\/[0-9a-f-]{36}$/);
    await page.getByRole('log', { name: 'Log lines' }).getByText('step one').waitFor({ timeout: 15_000 });
    const stepTwoBeforeEnd = await page.getByRole('log', { name: 'Log lines' }).getByText('step two').count();
    await page.locator('[data-status="succeeded"]').first().waitFor({ timeout: 15_000 });

    expect(task.source).toBe('echo step one\nsleep 1\necho step two\n');
    expect(cronError).toMatch(/59/);
    expect(hubCronError).toMatch(/day 30/);
    expect(jsonError).toMatch(/^Invalid JSON/);
    expect(stepTwoBeforeEnd).toBe(0);
    expect(hub.service.listJobs()[0]).toMatchObject({ name: 'greet every five minutes', config: { name: 'farm' }, schedule: { cron: '*/5 * * * *' } });
    expect(await page.getByRole('log', { name: 'Log lines' }).getByText('step two').count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it('shows compile errors at their lines', async () => {
    const hub = await startUiHub();
    const { page } = await openUi(browser(), hub, 'light', '/tasks/new');

    await page.getByRole('button', { name: 'Use template Blank TypeScript task' }).click();
    await page.getByLabel('Task name').fill('broken');
    await page.getByTestId('code-editor').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('export default async function run(ctx: TaskContext) {\nconst count: number = ctx.config;\nreturn count;\n');
    await page.getByRole('button', { name: 'Save' }).click();
    const diagnostic = await page.getByTestId('diagnostic').first().textContent();

    expect(diagnostic).toMatch(/^Line 2, column \d+: .*not assignable to type 'number'/);
    expect(hub.service.listTasks()).toEqual([]);
  });
});
