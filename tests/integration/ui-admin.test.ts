import { afterEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Job, Run, StoredLogLine } from '../../electron/hub/model.js';
import { UI_NAMESPACE, type UiMethod, type UiMethods, type UiReply } from '../../electron/hub/ui-contract.js';
import { cleanup, createShellTask, onCleanup, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

async function connectUi(hub: TestHub): Promise<Socket> {
  const socket = io(`${hub.uiUrl}${UI_NAMESPACE}`, { auth: { token: hub.adminToken }, transports: ['websocket'], reconnection: false });
  onCleanup(() => void socket.close());
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  return socket;
}

async function call<M extends UiMethod>(socket: Socket, method: M, params?: unknown): Promise<UiReply<UiMethods[M]['result']>> {
  return (await socket.timeout(5000).emitWithAck('request', { method, params })) as UiReply<UiMethods[M]['result']>;
}

async function data<M extends UiMethod>(socket: Socket, method: M, params?: unknown): Promise<UiMethods[M]['result']> {
  const reply = await call(socket, method, params);
  if (!reply.ok) throw new Error(`${method}: ${reply.error.message}`);
  return reply.data;
}

async function twoJobs(hub: TestHub, socket: Socket): Promise<Job[]> {
  const task = await createShellTask(hub, 'echo hi', 'collector');
  const a = await data(socket, 'jobs.create', { name: 'a', taskId: task.id, schedule: { cron: '*/5 * * * *' }, retries: 1, tags: ['x'] });
  const b = await data(socket, 'jobs.create', { name: 'b', taskId: task.id, schedule: null, retries: 2, tags: ['y'] });
  return [a, b];
}

describe('UI admin methods', () => {
  it('bulk update changes only named fields', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);
    const [a, b] = await twoJobs(hub, socket);

    const updated = await data(socket, 'jobs.bulkUpdate', { ids: [a?.id, b?.id], patch: { retries: 5 } });

    expect(updated.map((job) => job.retries)).toEqual([5, 5]);
    expect(updated.map((job) => job.tags)).toEqual([['x'], ['y']]);
    expect(updated.map((job) => job.schedule?.cron ?? null)).toEqual(['*/5 * * * *', null]);
  });

  it('bulk update changes none on error', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);
    const [a] = await twoJobs(hub, socket);

    const reply = await call(socket, 'jobs.bulkUpdate', { ids: [a?.id, 'missing'], patch: { retries: 7 } });

    expect(reply.ok).toBe(false);
    expect(reply.ok ? null : reply.error).toMatchObject({ code: 'invalid', field: 'ids.1' });
    expect(hub.service.getJob(a?.id ?? '').retries).toBe(1);
  });

  it('overviews next fire and last run', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);
    const [a, b] = await twoJobs(hub, socket);
    const run = await data(socket, 'jobs.run', { id: b?.id });

    const overview = await data(socket, 'jobs.overview');

    const byId = new Map(overview.map((entry) => [entry.jobId, entry]));
    expect(Date.parse(byId.get(a?.id ?? '')?.nextFireAt ?? '')).toBeGreaterThan(Date.now());
    expect(byId.get(b?.id ?? '')?.nextFireAt).toBeNull();
    expect(byId.get(b?.id ?? '')?.lastRun?.id).toBe(run.id);
    expect(byId.get(a?.id ?? '')?.lastRun).toBeNull();
  });

  it('duplicates a job disabled', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);
    const [a] = await twoJobs(hub, socket);

    const copy = await data(socket, 'jobs.duplicate', { id: a?.id });

    expect(copy).toMatchObject({ name: 'a (copy)', enabled: false, retries: 1, tags: ['x'] });
    expect(copy.id).not.toBe(a?.id);
  });

  it('imports what it exported', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);
    const [a] = await twoJobs(hub, socket);

    const document = await data(socket, 'jobs.export', { ids: [a?.id] });
    const imported = await data(socket, 'jobs.import', document);
    const broken = await call(socket, 'jobs.import', { ...document, jobs: [{ ...document.jobs[0], schedule: { cron: '0 0 30 2 *' } }] });

    expect(imported).toHaveLength(1);
    expect(imported[0]).toMatchObject({ name: 'a', taskId: a?.taskId, retries: 1 });
    expect(broken.ok ? null : broken.error.field).toBe('jobs.0.schedule.cron');
    expect(hub.service.listJobs()).toHaveLength(3);
  });

  it('reads and validates settings', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);

    const updated = await data(socket, 'settings.update', { retentionDays: 7 });
    const invalid = await call(socket, 'settings.update', { retentionDays: 0 });
    const unknown = await call(socket, 'settings.update', { colour: 'red' });

    expect(updated).toMatchObject({ retentionDays: 7, retentionPerJob: 1000 });
    expect((await data(socket, 'settings.get')).retentionDays).toBe(7);
    expect(invalid.ok ? null : invalid.error.field).toBe('retentionDays');
    expect(unknown.ok ? null : unknown.error.code).toBe('invalid');
  });

  it('enrolls and revokes agent tokens', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);

    const created = await data(socket, 'tokens.create', { name: 'lab' });
    await startAgents(hub, [{ name: 'with-new-token', token: created.token }]);
    await data(socket, 'tokens.revoke', { id: created.enrollmentToken.id });
    const rejected = await startAgent(hub, { name: 'revoked', token: created.token });
    const exitCode = await rejected.exited;
    const listed = await data(socket, 'tokens.list');

    expect(created.joinCommand).toContain(`--token ${created.token}`);
    expect(exitCode).toBe(1);
    expect(listed.find((entry) => entry.id === created.enrollmentToken.id)?.revokedAt).toEqual(expect.any(Number));
    expect(JSON.stringify(listed)).not.toContain(created.token);
  });

  it('lists templates and hub facts', async () => {
    const hub = await startTestHub();
    const socket = await connectUi(hub);

    const templates = await data(socket, 'templates.list');
    const info = await data(socket, 'hub.info');
    const summary = await data(socket, 'hub.summary');

    expect(templates.map((template) => template.id).sort()).toEqual(['http-collector', 'shell-script']);
    expect(templates.find((template) => template.id === 'shell-script')?.source).toContain('#');
    expect(info.uiUrl).toBe(hub.uiUrl);
    expect(info.joinCommand).toContain(`:${hub.agentPort}`);
    expect(summary).toEqual({ running: 0, queued: 0, agentsOnline: 0, agentsTotal: 0 });
  });

  it('follows log lines of every run', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const socket = await connectUi(hub);
    const lines: Array<{ runId: string; line: StoredLogLine }> = [];
    socket.on('log', (payload: { runId: string; lines: StoredLogLine[] }) => lines.push(...payload.lines.map((line) => ({ runId: payload.runId, line }))));
    const task = await createShellTask(hub, 'sleep 0.3; echo "from $FARMBOY_RUN_ID"');

    await data(socket, 'logs.follow');
    const runs: Run[] = [await data(socket, 'tasks.run', { id: task.id }), await data(socket, 'tasks.run', { id: task.id })];
    await waitFor(() => runs.every((run) => lines.some((entry) => entry.runId === run.id && entry.line.s === 'stdout')), 15_000, 'lines of both runs');
    const fromTime = await data(socket, 'runs.list', { from: runs[1]?.queuedAt });

    expect(fromTime.map((run) => run.id)).toContain(runs[1]?.id);
    expect(fromTime.every((run) => run.queuedAt >= (runs[1]?.queuedAt ?? 0))).toBe(true);
  });
});
