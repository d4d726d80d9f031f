import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, startTestHub, tempDir } from '../helpers/fleet.js';

afterEach(cleanup);

describe('catch-up after downtime', () => {
  it.each([
    // One run for the whole stretch, or one history entry that counts the missed fires.
    ['once', 'queued', 'catch_up'],
    ['none', 'missed', 'schedule'],
  ])('applies catch-up %s to missed fires', async (catchUp, status, trigger) => {
    const dataDir = await tempDir('catch-up');
    const first = await startTestHub({ dataDir });
    const task = await createShellTask(first, 'echo caught up');
    const job = await createJob(first, { name: 'every minute', taskId: task.id, catchUp, schedule: { cron: '* * * * *', timezone: 'UTC' } });
    await first.stop();

    // The hub was last alive 30 minutes ago: about 30 fires of this job were missed.
    writeFileSync(join(dataDir, 'alive.json'), JSON.stringify({ at: Date.now() - 30 * 60_000 }));
    const second = await startTestHub({ dataDir });
    const runs = second.store.runs.list({ jobId: job.id, limit: 100 });

    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe(status);
    expect(runs[0]?.trigger).toBe(trigger);
    expect(runs[0]?.fires?.count).toBeGreaterThanOrEqual(29);
    expect(runs[0]?.fires?.count).toBeLessThanOrEqual(31);
  });
});
