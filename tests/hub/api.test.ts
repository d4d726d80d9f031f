import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, startTestHub } from '../helpers/fleet.js';

afterEach(cleanup);

type ErrorBody = { error: { code: string; message: string; field?: string } };

describe('HTTP API', () => {
  it('rejects a missing or wrong token', async () => {
    const hub = await startTestHub();

    const missing = await fetch(`${hub.uiUrl}/api/agents`);
    const wrong = await fetch(`${hub.uiUrl}/api/agents`, { headers: { authorization: 'Bearer nope' } });

    expect(missing.status).toBe(401);
    expect(((await missing.json()) as ErrorBody).error.message).toContain('missing Authorization');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as ErrorBody).error.message).toContain('not valid');
  });

  it.each(['/%61pi/tasks', '/%61%70%69/agents', '/api/%74asks', '//api/tasks'])('requires the token on encoded path %s', async (path) => {
    const hub = await startTestHub();

    const response = await fetch(`${hub.uiUrl}${path}`);

    expect([401, 404]).toContain(response.status);
    expect(await response.text()).not.toContain('"runtime"');
  });

  it('returns 404 for unknown ids and routes', async () => {
    const hub = await startTestHub();

    const paths = ['/api/tasks/nope', '/api/jobs/nope', '/api/runs/nope', '/api/runs/nope/log', '/api/agents/nope', '/api/nothing'];
    for (const path of paths) {
      const response = await hub.api<ErrorBody>('GET', path);
      expect(response.status, path).toBe(404);
      expect(response.body.error.code, path).toBe('not_found');
    }
  });

  it.each([
    ['missing name', { runtime: 'shell', source: 'true' }, 'name'],
    ['unknown runtime', { name: 't', runtime: 'python', source: 'x' }, 'runtime'],
    ['config not an object', { name: 't', runtime: 'shell', source: 'x', defaultConfig: [1] }, 'defaultConfig'],
  ])('rejects a task with %s', async (_case, body, field) => {
    const hub = await startTestHub();

    const response = await hub.api<ErrorBody>('POST', '/api/tasks', body);

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(field);
    expect(response.body.error.message).toMatch(new RegExp(`^${field}: `));
  });

  it('rejects deeply nested config', async () => {
    const hub = await startTestHub();
    let deep: unknown = 1;
    for (let i = 0; i < 3000; i += 1) deep = [deep];

    const response = await hub.api<ErrorBody>('POST', '/api/tasks', { name: 'deep', runtime: 'shell', source: 'true', defaultConfig: { deep } });
    const listed = await hub.api<unknown[]>('GET', '/api/tasks');

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('nested deeper');
    expect(listed.body).toEqual([]);
  });

  it('rejects malformed JSON with 400', async () => {
    const hub = await startTestHub();

    const response = await fetch(`${hub.uiUrl}/api/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: '{"name": ',
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.field).toBe('body');
  });

  it('accepts an empty JSON body', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    const job = await createJob(hub, { name: 'empty body', taskId: task.id });

    const response = await fetch(`${hub.uiUrl}/api/jobs/${job.id}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
    });

    expect(response.status).toBe(201);
  });

  it('rejects a __proto__ key', async () => {
    const hub = await startTestHub();

    const response = await fetch(`${hub.uiUrl}/api/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: '{"name":"t","runtime":"shell","source":"true","defaultConfig":{"__proto__":{"admin":true}}}',
    });
    const body = (await response.json()) as ErrorBody;

    expect(response.status).toBe(400);
    expect(body.error.message).toContain('__proto__');
    expect((await hub.api<unknown[]>('GET', '/api/tasks')).body).toEqual([]);
  });

  it.each([
    ['an unknown task', (taskId: string) => ({ name: 'j', taskId: `${taskId}x` }), 'taskId', 'no task'],
    ['an out-of-range cron field', (taskId: string) => ({ name: 'j', taskId, schedule: { cron: '61 * * * *' } }), 'schedule.cron', ''],
    ['a cron that never fires', (taskId: string) => ({ name: 'j', taskId, schedule: { cron: '0 0 30 2 *' } }), 'schedule.cron', 'never'],
    ['an unknown time zone', (taskId: string) => ({ name: 'j', taskId, schedule: { cron: '* * * * *', timezone: 'Mars/Olympus' } }), 'schedule', ''],
    ['a negative timeout', (taskId: string) => ({ name: 'j', taskId, timeoutSec: -1 }), 'timeoutSec', ''],
    ['an unknown overlap policy', (taskId: string) => ({ name: 'j', taskId, overlap: 'sometimes' }), 'overlap', ''],
    ['a misspelt field', (taskId: string) => ({ name: 'j', taskId, timeout: 60 }), 'timeout', 'unknown field "timeout"'],
    ['a variable too large to start', (taskId: string) => ({ name: 'j', taskId, env: { BIG: 'x'.repeat(200_000) } }), 'env.BIG', 'no process'],
    ['variables too large together', (taskId: string) => ({ name: 'j', taskId, env: Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`V${i}`, 'x'.repeat(100_000)])) }), 'env', 'in all'],
    ['a repeated tag', (taskId: string) => ({ name: 'j', taskId, tags: ['gpu', 'linux', 'gpu'] }), 'tags.2', 'repeats the tag gpu'],
    ['a secret key that env does not set', (taskId: string) => ({ name: 'j', taskId, env: { API_KEY: 'k' }, secretEnv: ['API_KEY', 'API_TOKEN'] }), 'secretEnv.1', 'names API_TOKEN'],
  ])('rejects a job with %s', async (_case, makeBody, field, text) => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');

    const response = await hub.api<ErrorBody>('POST', '/api/jobs', makeBody(task.id));

    expect(response.status).toBe(400);
    expect(response.body.error.field?.startsWith(field)).toBe(true);
    expect(response.body.error.message).toContain(text);
    expect((await hub.api<unknown[]>('GET', '/api/jobs')).body).toEqual([]);
  });

  it('rejects a run now with a repeated tag', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');

    const response = await hub.api<ErrorBody>('POST', `/api/tasks/${task.id}/runs`, { tags: ['gpu', 'gpu'] });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('repeats the tag gpu');
  });

  it('leaves a job unchanged on an unset secret key', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    const job = await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'j', taskId: task.id, env: { API_KEY: 'k' } });

    const response = await hub.api<ErrorBody>('PUT', `/api/jobs/${job.body.id}`, { secretEnv: ['API_KEYS'] });
    const after = await hub.api<{ env: Record<string, string>; secretEnv?: string[] }>('GET', `/api/jobs/${job.body.id}`);

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe('secretEnv.0');
    expect(after.body.env).toEqual({ API_KEY: 'k' });
    expect(after.body.secretEnv).toBeUndefined();
  });

  it('names the job a bulk update fails on', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    const plain = await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'plain', taskId: task.id });
    const sealed = await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'sealed', taskId: task.id, env: { S: 'x' }, secretEnv: ['S'] });

    const response = await hub.api<ErrorBody>('POST', '/api/jobs/bulk-update', { ids: [plain.body.id, sealed.body.id], patch: { env: { B: '1' } } });

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe('ids.1.secretEnv.0');
    expect(response.body.error.message).toContain(`job ${sealed.body.id}`);
  });

  it('rejects a secret key named twice', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');

    const response = await hub.api<ErrorBody>('POST', '/api/jobs', { name: 'j', taskId: task.id, env: { A: '1' }, secretEnv: ['A', 'A'] });

    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('repeats the key A');
  });

  it('creates, updates and deletes a job', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');

    const created = await hub.api<{ id: string; retries: number; overlap: string }>('POST', '/api/jobs', { name: 'collect', taskId: task.id, retries: 2 });
    const updated = await hub.api<{ name: string; retries: number }>('PUT', `/api/jobs/${created.body.id}`, { name: 'collect hourly' });
    const removed = await hub.api('DELETE', `/api/jobs/${created.body.id}`);
    const after = await hub.api('GET', `/api/jobs/${created.body.id}`);

    expect(created.status).toBe(201);
    expect(created.body.overlap).toBe('skip');
    expect(updated.body).toMatchObject({ name: 'collect hourly', retries: 2 });
    expect(removed.status).toBe(204);
    expect(after.status).toBe(404);
  });

  it('bumps a task version on every save', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo one');

    const updated = await hub.api<{ version: number; source: string }>('PUT', `/api/tasks/${task.id}`, { source: 'echo two' });

    expect(updated.body).toMatchObject({ version: 2, source: 'echo two' });
  });

  it('refuses a task save from a stale version', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo one');
    const first = await hub.api('PUT', `/api/tasks/${task.id}`, { source: 'echo from page 1', expectedVersion: 1 });

    const second = await hub.api<ErrorBody>('PUT', `/api/tasks/${task.id}`, { source: 'echo from page 2', expectedVersion: 1 });
    const stored = await hub.api<{ version: number; source: string }>('GET', `/api/tasks/${task.id}`);

    expect(first.status).toBe(200);
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain('saved as version 2 since version 1 was opened');
    expect(stored.body).toMatchObject({ version: 2, source: 'echo from page 1' });
  });

  it('cancels queued runs of a deleted task', async () => {
    // No agent is connected, so the run stays queued.
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    const run = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body;

    const deleted = await hub.api('DELETE', `/api/tasks/${task.id}`);
    const after = (await hub.api<{ status: string }>('GET', `/api/runs/${run.id}`)).body;

    expect(deleted.status).toBe(204);
    expect(after.status).toBe('cancelled');
  });

  it('refuses to delete a task used by a job', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    await hub.api('POST', '/api/jobs', { name: 'user', taskId: task.id });

    const response = await hub.api<ErrorBody>('DELETE', `/api/tasks/${task.id}`);

    expect(response.status).toBe(409);
    expect(response.body.error.message).toContain('user');
  });

  it('reports node compile errors with their line', async () => {
    const hub = await startTestHub();
    const source = ['export default async function (ctx) {', '  const x: number = "text";', '  return x;', '}'].join('\n');

    const response = await hub.api<ErrorBody & { error: { details: { diagnostics: Array<{ line: number }> } } }>('POST', '/api/tasks', { name: 'bad', runtime: 'node', source });

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe('source');
    expect(response.body.error.details.diagnostics[0]?.line).toBe(2);
  });

  it('queues a run and reports why it waits', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    const job = await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'j', taskId: task.id });

    const run = await hub.api<{ id: string; status: string }>('POST', `/api/jobs/${job.body.id}/runs`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fetched = await hub.api<{ status: string; waitingReason: string }>('GET', `/api/runs/${run.body.id}`);
    const listed = await hub.api<Array<{ id: string }>>('GET', `/api/runs?jobId=${job.body.id}&status=queued`);

    expect(run.status).toBe(201);
    expect(fetched.body.status).toBe('queued');
    expect(fetched.body.waitingReason).toContain('no agent has joined');
    expect(listed.body.map((entry) => entry.id)).toEqual([run.body.id]);
  });

  it('cancels a queued run at once', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    const job = await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'j', taskId: task.id });
    const run = await hub.api<{ id: string }>('POST', `/api/jobs/${job.body.id}/runs`);

    const cancelled = await hub.api<{ status: string }>('POST', `/api/runs/${run.body.id}/cancel`);
    const again = await hub.api<{ status: string }>('POST', `/api/runs/${run.body.id}/cancel`);

    expect(cancelled.body.status).toBe('cancelled');
    expect(again.body.status).toBe('cancelled');
  });

  it('rejects an invalid runs filter', async () => {
    const hub = await startTestHub();

    const response = await hub.api<ErrorBody>('GET', '/api/runs?status=sleeping');

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe('status');
  });
});
