import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, createJob, createShellTask, startAgents, startTestHub, tempDir, waitFor } from '../helpers/fleet.js';
import { startHubProcess, type HubProcess } from './helpers/hub-process.js';

afterEach(cleanup);

const CRON_PERIOD_MS = 2_000;

async function runsOf(hub: HubProcess, query: string): Promise<Run[]> {
  return (await hub.api<Run[]>('GET', `/api/runs?${query}&limit=1000`)).body;
}

/**
 * Starts a hub process with two jobs firing every 2 s, one per catch-up policy. No agent takes their runs, so
 * a parallel overlap keeps the queued ones from blocking a catch-up.
 */
async function startWithTwoJobs(dataDir: string): Promise<{ hub: HubProcess; none: { id: string }; once: { id: string } }> {
  const hub = await startHubProcess(dataDir);
  const task = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'tick', runtime: 'shell', source: 'echo tick' })).body;
  const common = { taskId: task.id, schedule: { cron: '*/2 * * * * *', timezone: 'UTC' }, overlap: 'parallel', maxParallel: 1000 };
  const none = (await hub.api<{ id: string }>('POST', '/api/jobs', { ...common, name: 'none', catchUp: 'none' })).body;
  const once = (await hub.api<{ id: string }>('POST', '/api/jobs', { ...common, name: 'once', catchUp: 'once' })).body;
  return { hub, none, once };
}

describe('missed fires in run history', () => {
  it('records a hub downtime once per job', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir('missed');
    const { hub, none, once } = await startWithTwoJobs(dataDir);
    await waitFor(async () => (await runsOf(hub, `jobId=${none.id}`)).length > 0, 10_000, 'a scheduled run');

    await hub.kill('SIGTERM');
    const stoppedAt = Date.now();
    // About five fires of each job fall into this downtime.
    await sleep(5 * CRON_PERIOD_MS);
    const restarted = await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken });
    const startedAt = Date.now();
    const missed = await waitFor(async () => {
      const entries = await runsOf(restarted, `jobId=${none.id}&status=missed`);
      return entries.length > 0 && entries;
    }, 10_000, 'the missed entry');
    const caughtUp = (await runsOf(restarted, `jobId=${once.id}`)).filter((run) => run.trigger === 'catch_up');
    const missedOfOnce = await runsOf(restarted, `jobId=${once.id}&status=missed`);
    const allMissed = await runsOf(restarted, 'status=missed');

    expect(missed).toHaveLength(1);
    const entry = missed[0] as Run;
    expect(entry.fires?.count).toBeGreaterThanOrEqual(4);
    expect(entry.fires?.count).toBeLessThanOrEqual(7);
    expect(entry.fires?.first).toBeGreaterThan(stoppedAt - CRON_PERIOD_MS);
    expect(entry.fires?.last).toBeLessThanOrEqual(startedAt);
    expect(entry).toMatchObject({ agentId: null, startedAt: null, trigger: 'schedule' });
    expect(caughtUp).toHaveLength(1);
    expect(caughtUp[0]?.fires?.count).toBeGreaterThanOrEqual(4);
    expect(caughtUp[0]?.fires?.count).toBeLessThanOrEqual(7);
    expect(missedOfOnce).toEqual([]);
    expect(allMissed.map((run) => run.id)).toEqual([entry.id]);
  });
});

describe('catch-up after a crash', () => {
  it('counts no fire the history shows as run', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir('missed-crash');
    const { hub, none, once } = await startWithTwoJobs(dataDir);
    await waitFor(async () => (await runsOf(hub, `jobId=${once.id}`)).length >= 2, 10_000, 'two scheduled runs');
    // Past the store's 100 ms flush, so the latest fire is on disk when the hub dies.
    await sleep(300);

    await hub.kill('SIGKILL');
    // As if the hub had last recorded itself alive 5 s before the crash, its longest gap.
    await writeFile(join(dataDir, 'alive.json'), JSON.stringify({ at: Date.now() - 5_000 }));
    const restarted = await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken });
    const history = await runsOf(restarted, `jobId=${once.id}`);
    const lastRun = Math.max(...history.filter((run) => run.trigger === 'schedule').map((run) => run.queuedAt));
    const caughtUp = history.filter((run) => run.trigger === 'catch_up');
    const missed = await runsOf(restarted, `jobId=${none.id}&status=missed`);

    expect(caughtUp.length).toBeLessThanOrEqual(1);
    for (const run of [...caughtUp, ...missed]) expect(run.fires?.first).toBeGreaterThan(lastRun);
  });
});

describe('skipped fires in run history', () => {
  it('counts ticks skipped by a long run', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'worker' }]);
    const task = await createShellTask(hub, 'sleep 7', 'slow');
    const job = await createJob(hub, { name: 'slow', taskId: task.id, schedule: { cron: '*/2 * * * * *', timezone: 'UTC' }, overlap: 'skip' });

    // The second real run starts only once the first has ended, and its fire closes the first skip window.
    const runs = await waitFor(() => {
      const list = hub.store.runs.list({ jobId: job.id, limit: 1000 });
      const real = list.filter((run) => run.status !== 'skipped');
      return real.length >= 2 && list;
    }, 30_000, 'two real runs');
    const first = runs.filter((run) => run.status !== 'skipped').at(-1) as Run;
    const skipped = runs.filter((run) => run.status === 'skipped' && run.overlappedRunId === first.id);
    const viaApi = (await hub.api<Run[]>('GET', `/api/runs?jobId=${job.id}&status=skipped`)).body;

    expect(first.status).toBe('succeeded');
    expect(skipped).toHaveLength(1);
    const entry = skipped[0] as Run;
    expect(entry.skipReason).toBe('the previous run is still active');
    expect(entry.fires?.count).toBeGreaterThanOrEqual(2);
    expect(entry.fires?.count).toBeLessThanOrEqual(4);
    expect(entry.fires?.first).toBeGreaterThan(first.queuedAt);
    expect(entry.fires?.last).toBeLessThanOrEqual(first.finishedAt ?? 0);
    expect(viaApi.map((run) => run.id)).toContain(entry.id);
    expect(viaApi.every((run) => run.status === 'skipped' && run.agentId === null)).toBe(true);
  });
});
