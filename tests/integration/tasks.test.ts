import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, createShellTask, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { processesWith, uniqueDurations } from '../helpers/processes.js';

afterEach(cleanup);

async function runTask(hub: TestHub, taskId: string, config: Record<string, unknown> = {}): Promise<string> {
  const response = await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, { config });
  if (response.status !== 201) throw new Error(JSON.stringify(response.body));
  return response.body.id;
}

async function finalRun(hub: TestHub, runId: string, timeoutMs = 20_000): Promise<Run> {
  return waitFor(() => {
    const run = hub.runs.get(runId);
    return run && ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'].includes(run.status) ? run : undefined;
  }, timeoutMs, `run ${runId} final`);
}

async function logText(hub: TestHub, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

async function logLines(hub: TestHub, runId: string): Promise<Array<{ s: string; m: string }>> {
  const body = (await hub.api<string>('GET', `/api/runs/${runId}/log?format=jsonl`)).body;
  return body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { s: string; m: string });
}

async function records(hub: TestHub, runId: string): Promise<unknown[]> {
  const body = (await hub.api<string>('GET', `/api/runs/${runId}/records`)).body;
  return body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
}

const NODE_TASK = `
import type { TaskContext } from 'farmboy-agent/task';

export default async function collect(ctx: TaskContext<{ points: number; label: string }>) {
  ctx.log.info('collecting', ctx.config.points, 'points for', ctx.config.label);
  for (let i = 1; i <= ctx.config.points; i += 1) {
    ctx.emit({ index: i, label: ctx.config.label });
    ctx.progress((i / ctx.config.points) * 100, \`point \${i}\`);
  }
  ctx.log.warn('run', ctx.run.id, 'attempt', ctx.run.attempt);
  return { collected: ctx.config.points };
}
`;

describe('tasks on real agents', () => {
  it('runs a node task with its context', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const created = await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'collector', runtime: 'node', source: NODE_TASK, defaultConfig: { points: 2, label: 'default' } });

    const runId = await runTask(hub, created.body.id, { points: 3 });
    const run = await finalRun(hub, runId);

    expect(run.status).toBe('succeeded');
    expect(run.result).toEqual({ collected: 3 });
    expect(run.progress?.percent).toBe(100);
    expect(run.recordCount).toBe(3);
    expect(await records(hub, runId)).toEqual([1, 2, 3].map((index) => ({ index, label: 'default' })));
    const lines = await logLines(hub, runId);
    expect(lines).toContainEqual({ s: 'stdout', m: 'collecting 3 points for default', t: expect.any(Number) });
    expect(lines.some((line) => line.s === 'stderr' && line.m === `run ${runId} attempt 1`)).toBe(true);
  });

  it('fails a node task that throws', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const source = `export default async function () { throw new Error('upstream API returned 503'); }`;
    const created = await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'thrower', runtime: 'node', source });

    const run = await finalRun(hub, await runTask(hub, created.body.id));

    expect(run.status).toBe('failed');
    expect(run.error).toContain('upstream API returned 503');
  });

  it('runs a shell task with the line protocol', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const script = [
      'echo "config is $FARMBOY_CONFIG"',
      'echo "::progress 50 halfway"',
      'echo \'::record {"value": 1}\'',
      'echo \'::record {"value": 2}\'',
      'echo "a warning" >&2',
      'echo \'::result {"ok": true}\'',
    ].join('\n');
    const task = await createShellTask(hub, script, 'shell collector', { city: 'Zürich' });

    const runId = await runTask(hub, task.id);
    const run = await finalRun(hub, runId);

    expect(run.status).toBe('succeeded');
    expect(run.progress).toEqual({ percent: 50, message: 'halfway' });
    expect(run.result).toEqual({ ok: true });
    expect(await records(hub, runId)).toEqual([{ value: 1 }, { value: 2 }]);
    const lines = await logLines(hub, runId);
    expect(lines).toContainEqual(expect.objectContaining({ s: 'stdout', m: 'config is {"city":"Zürich"}' }));
    expect(lines).toContainEqual(expect.objectContaining({ s: 'stderr', m: 'a warning' }));
  });

  it('records a failing shell exit code', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const task = await createShellTask(hub, 'echo before; exit 3');

    const run = await finalRun(hub, await runTask(hub, task.id));

    expect(run.status).toBe('failed');
    expect(run.exitCode).toBe(3);
  });

  it('keeps multi-byte characters split across chunks', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const script = [
      "printf '\\342'; sleep 0.1; printf '\\211'; sleep 0.1; printf '\\244\\n'",
      "printf '\\360'; sleep 0.1; printf '\\237\\230\\200 done\\n'",
      "printf 'no newline at the end'",
    ].join('\n');
    const task = await createShellTask(hub, script);

    const runId = await runTask(hub, task.id);
    await finalRun(hub, runId);
    const stdout = (await logLines(hub, runId)).filter((line) => line.s === 'stdout').map((line) => line.m);

    expect(stdout).toEqual(['≤', '😀 done', 'no newline at the end']);
  });

  it('keeps every line in order and cuts an overlong one', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const script = 'i=1; while [ $i -le 2000 ]; do echo "line $i"; i=$((i+1)); done; head -c 40000 /dev/zero | tr "\\0" x; echo';
    const task = await createShellTask(hub, script);

    const runId = await runTask(hub, task.id);
    await finalRun(hub, runId);
    const stdout = (await logLines(hub, runId)).filter((line) => line.s === 'stdout').map((line) => line.m);

    expect(stdout.slice(0, 2000)).toEqual(Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`));
    expect(stdout).toHaveLength(2001);
    expect(Buffer.byteLength(stdout[2000] as string)).toBeLessThan(17 * 1024);
    expect(stdout[2000]).toContain('truncated');
  });

  it('times out and kills the whole tree', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const [outer, inner, innerWaited] = uniqueDurations(3);
    const task = await createShellTask(hub, `sleep ${outer} & sh -c "sleep ${inner} & sleep ${innerWaited}; wait"; wait`);
    const job = await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'hangs', taskId: task.id, timeoutSec: 1 });

    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.body.id}/runs`)).body.id;
    await waitFor(() => processesWith(`sleep ${innerWaited}`).length > 0, 10_000, 'task processes');
    const run = await finalRun(hub, runId);

    expect(run.status).toBe('timed_out');
    for (const duration of [outer, inner, innerWaited]) {
      await waitFor(() => processesWith(`sleep ${duration}`).length === 0, 5000, `sleep ${duration} gone`);
    }
  });

  it('cancels a task that ignores SIGTERM', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const [duration] = uniqueDurations(1);
    const task = await createShellTask(hub, `trap '' TERM; sleep ${duration}; echo still here`);

    const runId = await runTask(hub, task.id);
    await waitFor(() => hub.runs.get(runId)?.status === 'running' && processesWith(`sleep ${duration}`).length > 0, 10_000, 'task running');
    await hub.api('POST', `/api/runs/${runId}/cancel`);
    const run = await finalRun(hub, runId);

    expect(run.status).toBe('cancelled');
    expect(run.signal).toBe('SIGKILL');
    await waitFor(() => processesWith(`sleep ${duration}`).length === 0, 5000, 'no task process left');
  });
});
