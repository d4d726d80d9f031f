import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, startTestHub, tempDir } from '../helpers/fleet.js';

afterEach(cleanup);

describe('catch-up after downtime', () => {
  it.each([
    ['once', 1],
    ['none', 0],
  ])('applies catch-up %s to missed fires', async (catchUp, expectedRuns) => {
    const dataDir = await tempDir('catch-up');
    const first = await startTestHub({ dataDir });
    const task = await createShellTask(first, 'echo caught up');
    const job = await createJob(first, { name: 'every minute', taskId: task.id, catchUp, schedule: { cron: '* * * * *', timezone: 'UTC' } });
    await first.stop();

    // The hub was last alive 30 minutes ago: about 30 fires of this job were missed.
    writeFileSync(join(dataDir, 'alive.json'), JSON.stringify({ at: Date.now() - 30 * 60_000 }));
    const second = await startTestHub({ dataDir });
    const runs = second.store.runs.list({ jobId: job.id, limit: 100 });

    expect(runs).toHaveLength(expectedRuns);
    expect(runs.every((run) => run.trigger === 'catch_up')).toBe(true);
  });
});
