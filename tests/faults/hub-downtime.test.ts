import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, onCleanup, startAgent, tempDir, waitFor } from '../helpers/fleet.js';
import { startHubProcess, type HubProcess } from './helpers/hub-process.js';
import { TcpProxy } from './helpers/proxy.js';

afterEach(cleanup);

async function runsOf(hub: HubProcess, jobId: string): Promise<Run[]> {
  return (await hub.api<Run[]>('GET', `/api/runs?jobId=${jobId}&limit=1000`)).body;
}

describe('hub stopped for several cron periods', () => {
  it.each(['SIGTERM', 'SIGKILL'] as const)('catches up once after %s', { timeout: 90_000 }, async (signal) => {
    const dataDir = await tempDir('downtime');
    const hub = await startHubProcess(dataDir);
    const proxy = await TcpProxy.start(hub.agentPort);
    onCleanup(() => proxy.close());
    const url = `${hub.fingerprint === null ? 'http' : 'https'}://127.0.0.1:${proxy.port}`;
    await startAgent(hub.asHub(url), { name: 'worker', hubUrl: url });
    const task = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'tick', runtime: 'shell', source: 'echo tick' })).body;
    const schedule = { cron: '*/2 * * * * *', timezone: 'UTC' };
    const once = (await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'once', taskId: task.id, schedule, catchUp: 'once' })).body;
    const none = (await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'none', taskId: task.id, schedule, catchUp: 'none' })).body;
    await waitFor(async () => (await runsOf(hub, once.id)).some((run) => run.status === 'succeeded'), 20_000, 'a scheduled run');
    // Stops the hub between two fires with no run active: a run still active at restart would make the job's
    // overlap policy skip the catch-up.
    await waitFor(async () => {
      const phase = Date.now() % 2_000;
      const runs = [...(await runsOf(hub, once.id)), ...(await runsOf(hub, none.id))];
      return phase > 600 && phase < 1_400 && runs.every((run) => run.status === 'succeeded');
    }, 20_000, 'a quiet moment');

    await hub.kill(signal);
    const stoppedAt = Date.now();
    // About five fires of each job fall into this downtime.
    await sleep(10_000);
    const restartedAt = Date.now();
    const restarted = await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken });
    proxy.setTarget(restarted.agentPort);
    const startedAt = Date.now();
    await sleep(1_000);
    const caughtUp = (await runsOf(restarted, once.id)).filter((run) => run.trigger === 'catch_up');
    const skipped = (await runsOf(restarted, none.id)).filter((run) => run.trigger === 'catch_up');
    // The agent's reconnect delay doubles up to 30 s, with jitter, so after 10 s of downtime its next try may be
    // 10 s or more away. The runs below need the agent back.
    await waitFor(async () => (await restarted.api<Array<{ status: string }>>('GET', '/api/agents')).body.some((agent) => agent.status === 'online'), 40_000, 'the agent back online');
    const later = await waitFor(async () => {
      const runs = [...(await runsOf(restarted, once.id)), ...(await runsOf(restarted, none.id))];
      const scheduled = runs.filter((run) => run.trigger === 'schedule' && run.queuedAt > startedAt && run.status === 'succeeded');
      return scheduled.length >= 4 && scheduled;
    }, 20_000, 'scheduled runs after the restart');
    const duringDowntime = [...(await runsOf(restarted, once.id)), ...(await runsOf(restarted, none.id))].filter((run) => {
      // A `missed` entry is no run. The restarted hub may fire before startHubProcess returns, so this compares the
      // fire instant: a `skipped` entry's first fire, or the 2 s boundary a scheduled run was queued at.
      const firedAt = run.fires?.first ?? Math.floor(run.queuedAt / 2_000) * 2_000;
      return run.trigger === 'schedule' && run.status !== 'missed' && firedAt > stoppedAt && firedAt < restartedAt;
    });

    expect(caughtUp).toHaveLength(1);
    expect(skipped).toHaveLength(0);
    expect(duringDowntime).toEqual([]);
    expect(new Set(later.map((run) => run.jobId))).toEqual(new Set([once.id, none.id]));
  });
});

describe('store file damaged', () => {
  it.each([
    { name: 'truncated', damage: (text: string) => text.slice(0, Math.floor(text.length / 2)) },
    { name: 'zeroed', damage: (text: string) => '\0'.repeat(text.length) },
    { name: 'empty', damage: () => '' },
  ])('refuses to start when $name', { timeout: 30_000 }, async ({ damage }) => {
    const dataDir = await tempDir('corrupt');
    const hub = await startHubProcess(dataDir);
    await hub.api('POST', '/api/tasks', { name: 'kept', runtime: 'shell', source: 'echo kept' });
    await hub.kill('SIGTERM');
    // The hub copies the store to its backup when it opens it.
    await (await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken })).kill('SIGTERM');
    const file = join(dataDir, 'farmboy.json');
    const damaged = damage(await readFile(file, 'utf8'));
    await writeFile(file, damaged);
    const backup = await readFile(`${file}.bak`, 'utf8');

    const failed = await startHubProcess(dataDir).then(
      () => null,
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );

    expect(failed).toContain(`Store file ${file}`);
    expect(failed).toContain(`${file}.bak`);
    expect(await readFile(file, 'utf8')).toBe(damaged);
    expect(await readFile(`${file}.bak`, 'utf8')).toBe(backup);
    expect(backup).toContain('echo kept');
  });
});
