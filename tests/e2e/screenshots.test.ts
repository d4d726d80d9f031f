/**
 * Saves a screenshot of every page in both colour schemes under
 * test-results/screenshots/, so the look can be reviewed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, createJob, createShellTask, startAgents, waitFor, type TestHub } from '../helpers/fleet.js';
import { goToRoute, openUi, screenshot, startUiHub, useBrowser, type Scheme } from './browser.js';

const browser = useBrowser();

/** Creates a fleet of three, a few tasks and jobs, a failing run and one that keeps printing. */
async function populate(hub: TestHub): Promise<{ runId: string; taskId: string; jobId: string }> {
  const agents = await startAgents(hub, [{ name: 'lab-pc-01', tags: ['gpu', 'lab'] }, { name: 'lab-pc-02', tags: ['lab'] }, { name: 'rack-vm-07', slots: 8 }]);
  await agents[2]?.stop();
  const collector = JSON.parse(readFileSync(join(ROOT, 'resources/templates/http-collector.json'), 'utf8')) as { defaultConfig: Record<string, unknown> };
  const source = readFileSync(join(ROOT, 'resources/templates/http-collector.ts'), 'utf8');
  const node = await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'HTTP collector', runtime: 'node', source, defaultConfig: collector.defaultConfig });
  const shell = await createShellTask(hub, 'for i in $(seq 1 3000); do echo "sample $i: temperature=$((20 + i % 7)).$((i % 10))C"; [ $((i % 25)) -eq 0 ] && echo "slow response from sensor $i" >&2 && echo "::progress $((i / 30))"; sleep 0.05; done', 'Sensor sweep');
  const failing = await createShellTask(hub, 'echo "connecting"; echo "upstream returned 503" >&2; exit 3', 'Station export');
  const zones = ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Tokyo'];
  let jobId = '';
  for (const [index, name] of ['Greenhouse A', 'Greenhouse B', 'Weather station', 'Soil probes', 'Nightly export'].entries()) {
    const job = await createJob(hub, {
      name,
      taskId: [shell.id, shell.id, node.body.id, shell.id, failing.id][index],
      schedule: { cron: ['*/5 * * * *', '*/10 * * * *', '0 * * * *', '15 6 * * 1-5', '0 2 * * *'][index], timezone: zones[index % zones.length] },
      tags: index < 2 ? ['lab'] : [],
      retries: index === 4 ? 2 : 0,
      enabled: index !== 3,
    });
    jobId ||= job.id;
  }
  const jobs = hub.service.listJobs();
  await hub.service.runJob(jobs[4]?.id ?? '');
  const run = await hub.service.runJob(jobs[0]?.id ?? '');
  await waitFor(() => (hub.runs.get(run.id)?.logLines ?? 0) > 20, 15_000, 'run output');
  return { runId: run.id, taskId: node.body.id, jobId };
}

const pages = (ids: { runId: string; taskId: string; jobId: string }): Array<[string, string]> => [
  ['fleet', '/fleet'],
  ['jobs', '/jobs'],
  ['job-editor', `/jobs/${ids.jobId}`],
  ['tasks', '/tasks'],
  ['task-editor', `/tasks/${ids.taskId}`],
  ['runs', '/runs'],
  ['run', `/runs/${ids.runId}`],
  ['logs', '/logs'],
  ['settings', '/settings'],
];

describe('screenshots', { timeout: 90_000 }, () => {
  it('captures every page in both schemes', { timeout: 120_000 }, async () => {
    const hub = await startUiHub();
    const ids = await populate(hub);
    const saved: string[] = [];
    const liveLines: number[] = [];

    for (const scheme of ['light', 'dark'] as Scheme[]) {
      const { page, errors } = await openUi(browser(), hub, scheme, '/fleet');
      await page.waitForTimeout(2500);
      for (const [name, path] of pages(ids)) {
        await goToRoute(page, path);
        await page.getByRole('region', { name: /./ }).first().waitFor();
        await page.waitForTimeout(name === 'task-editor' ? 3000 : 1200);
        await screenshot(page, name, scheme);
        saved.push(`${name}-${scheme}`);
        if (name === 'logs') liveLines.push(await page.getByRole('log', { name: 'Log lines' }).getByText(/^sample \d+/).count());
      }
      expect(errors).toEqual([]);
    }

    expect(saved).toHaveLength(18);
    expect(liveLines.every((count) => count > 0)).toBe(true);
  });
});
