/**
 * Schedule precision: a job on a cron schedule that fires every second
 * starts a shell task. Each run's start (the agent's `started` report, taken
 * right after the spawn) is compared with the second boundary it fired for.
 * Read against a timer set for the same boundaries that spawns the same
 * script from a small Node process.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startAgentProcesses } from '../lib/agents.js';
import { waitUntil, type Benchmark } from '../lib/context.js';
import { createJob, createTask, startHubProcess } from '../lib/hub.js';
import { boundarySpawnLateness } from '../lib/limits.js';
import { median, summarize } from '../lib/stats.js';

const SCRIPT = 'echo tick\n';

interface RunRecord {
  id: string;
  status: string;
  queuedAt: number;
  startedAt: number | null;
}

export const scheduleBenchmark: Benchmark = {
  name: 'schedule',
  title: 'schedule precision: a job firing every second, its shell task start after the boundary',
  async run(context) {
    const count = context.quick ? 5 : 60;
    const hub = await startHubProcess(context);
    await startAgentProcesses(context, hub, [{ name: 'cron', slots: 2 }]);
    const taskId = await createTask(hub, 'shell', SCRIPT);
    const jobId = await createJob(hub, { name: 'every second', taskId, schedule: { cron: '* * * * * *', timezone: 'UTC' }, overlap: 'skip' });

    let runs: RunRecord[] = [];
    await waitUntil(
      async () => {
        runs = (await hub.api<RunRecord[]>('GET', `/api/runs?jobId=${jobId}&limit=1000`)).body.filter((run) => run.startedAt !== null);
        return runs.length >= count + 1;
      },
      (count + 30) * 1_000,
      `${count} scheduled runs`,
      500,
    );
    await hub.api('PUT', `/api/jobs/${jobId}`, { enabled: false });
    // The oldest run may have fired for a boundary before the job existed in full; it is left out.
    const measured = runs.slice(0, count);
    const startDelay = measured.map((run) => (run.startedAt as number) - Math.floor(run.queuedAt / 1000) * 1000);
    const queueDelay = measured.map((run) => run.queuedAt - Math.floor(run.queuedAt / 1000) * 1000);
    context.log(`${measured.length} scheduled runs measured`);

    const scratch = await context.tempDir('timer');
    await writeFile(path.join(scratch, 'task.sh'), SCRIPT);
    const limit = await boundarySpawnLateness(context.quick ? 3 : 20, '/bin/sh', [path.join(scratch, 'task.sh')]);
    const summary = summarize(startDelay);
    return {
      figures: [
        {
          key: 'start-after-boundary.p50',
          label: 'cron boundary until the shell task started, p50',
          unit: 'ms',
          value: summary.p50,
          budget: { op: '<=', value: 10 },
          limit: { label: 'timer for the boundary, then a bare spawn of the same script (p50)', value: median(limit) },
          summary,
          note: `boundary until the run was queued: p50 ${median(queueDelay)} ms`,
        },
      ],
      details: { queueDelayMs: summarize(queueDelay), timerSpawnMs: summarize(limit) },
    };
  },
};
