import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import type { AlertDelivery, AlertSettingsView } from '../../electron/hub/settings.js';
import { maskWebhookUrl, resolveAlertFormat } from '../../electron/hub/settings.js';
import { runAlertBody } from '../../electron/hub/alert-message.js';
import { cleanup, createJob, createShellTask, onCleanup, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

interface Received {
  path: string;
  body: Record<string, unknown> & { run?: Record<string, unknown> };
}

/** A webhook on loopback that records every POST and replies as `behaviour` sets. */
interface Receiver {
  url: string;
  received: Received[];
  /** Requests left without a reply, while `hang` is set. */
  open(): number;
  behaviour: { status: number; hang: boolean };
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const held = new Set<ServerResponse>();
  const behaviour = { status: 200, hang: false };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(text) as Received['body'] });
      if (behaviour.hang) {
        held.add(response);
        response.on('close', () => held.delete(response));
        return;
      }
      response.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(async () => {
    for (const response of held) response.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook/secret-part`, received, open: () => held.size, behaviour };
}

/** Returns an address on loopback where nothing listens any more. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/hook`;
}

const FAST_ALERTS = { timeoutMs: 1_000, retries: 2, backoffMs: 50 };

async function hubWithAlerts(receiver: Receiver, timings = FAST_ALERTS): Promise<TestHub> {
  const hub = await startTestHub({ alertTimings: timings });
  await startAgents(hub, [{ name: 'worker' }]);
  const response = await hub.api<AlertSettingsView>('PATCH', '/api/settings/alerts', { enabled: true, url: receiver.url, format: 'json' });
  if (response.status !== 200) throw new Error(`alerts not saved: ${JSON.stringify(response.body)}`);
  return hub;
}

async function runTask(hub: TestHub, taskId: string): Promise<Run> {
  const response = await hub.api<Run>('POST', `/api/tasks/${taskId}/runs`, {});
  return waitFor(() => {
    const run = hub.service.getRun(response.body.id);
    return ['succeeded', 'failed', 'timed_out', 'lost'].includes(run.status) && run;
  }, 20_000, 'run final');
}

async function lastDelivery(hub: TestHub, runId: string): Promise<AlertDelivery> {
  return waitFor(async () => {
    const view = (await hub.api<AlertSettingsView>('GET', '/api/settings/alerts')).body;
    return view.lastDelivery?.runId === runId && view.lastDelivery;
  }, 20_000, 'alert delivery recorded');
}

describe('failure alert messages', () => {
  it.each([
    ['https://hooks.slack.com/services/T0/B0/xyz', 'auto', 'slack'],
    ['https://example.test/hooks/1', 'auto', 'json'],
    ['https://example.test/hooks/1', 'slack', 'slack'],
    ['https://hooks.slack.com/services/T0/B0/xyz', 'json', 'json'],
  ] as const)('format of %s as %s', (url, format, expected) => {
    expect(resolveAlertFormat(format, url)).toBe(expected);
  });

  it('masks the path of a URL', () => {
    expect(maskWebhookUrl('https://hooks.slack.com/services/T0/B0/xyz')).toBe('https://hooks.slack.com/***');
  });

  it('slack body links the run', () => {
    const run = { id: 'run-1', jobName: 'nightly', taskId: 't', status: 'failed', attempt: 2, maxAttempts: 2, agentId: 'a', error: 'exit code 3', exitCode: 3 } as Run;

    const body = runAlertBody('slack', run, { taskName: 'build', agentName: 'worker', runUrl: 'http://127.0.0.1:7421/#/runs/run-1' });

    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toContain('Job "nightly" failed after 2 of 2 attempts');
    expect(body.text).toContain('Agent: worker');
    expect(body.text).toContain('<http://127.0.0.1:7421/#/runs/run-1|Open the run>');
  });
});

describe('failure alerts', { timeout: 60_000 }, () => {
  it('posts once for a failed run', async () => {
    const receiver = await startReceiver();
    const hub = await hubWithAlerts(receiver);
    const task = await createShellTask(hub, 'echo broken >&2; exit 3', 'breaks');

    const run = await runTask(hub, task.id);
    const delivery = await lastDelivery(hub, run.id);

    expect(run.status).toBe('failed');
    expect(delivery).toMatchObject({ ok: true, status: 200, attempts: 1, error: null });
    expect(receiver.received).toHaveLength(1);
    const body = receiver.received[0]?.body;
    expect(receiver.received[0]?.path).toBe('/hook/secret-part');
    expect(body?.event).toBe('run.failed');
    expect(body?.run).toMatchObject({ id: run.id, status: 'failed', taskName: 'breaks', agentName: 'worker', exitCode: 3, url: `${hub.uiUrl}/#/runs/${run.id}` });
  });

  it('posts nothing for a succeeded run', async () => {
    const receiver = await startReceiver();
    const hub = await hubWithAlerts(receiver);
    const good = await createShellTask(hub, 'echo fine', 'fine');
    const bad = await createShellTask(hub, 'exit 1', 'breaks');

    const succeeded = await runTask(hub, good.id);
    // A failed run after it: once its alert is recorded, any alert for the first run would have come first.
    const failed = await runTask(hub, bad.id);
    await lastDelivery(hub, failed.id);

    expect(succeeded.status).toBe('succeeded');
    expect(receiver.received.map((entry) => entry.body.run?.id)).toEqual([failed.id]);
  });

  it('posts only after the last retry', async () => {
    const receiver = await startReceiver();
    const hub = await hubWithAlerts(receiver);
    const task = await createShellTask(hub, 'exit 2', 'breaks');
    const job = await createJob(hub, { name: 'flaky', taskId: task.id, retries: 2, retryDelaySec: 1 });

    const started = await hub.api<Run>('POST', `/api/jobs/${job.id}/runs`);
    const run = await waitFor(() => {
      const current = hub.service.getRun(started.body.id);
      return current.status === 'failed' && current;
    }, 30_000, 'job run failed');
    await lastDelivery(hub, run.id);

    expect(run.attempt).toBe(3);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.body.run).toMatchObject({ id: run.id, jobName: 'flaky', attempt: 3, maxAttempts: 3 });
  });

  it('slow webhook does not stall runs', async () => {
    const receiver = await startReceiver();
    receiver.behaviour.hang = true;
    const hub = await hubWithAlerts(receiver, { timeoutMs: 3_000, retries: 0, backoffMs: 50 });
    const bad = await createShellTask(hub, 'exit 1', 'breaks');
    const good = await createShellTask(hub, 'echo fine', 'fine');

    const failed = await runTask(hub, bad.id);
    await waitFor(() => receiver.open() === 1, 10_000, 'alert request held by the webhook');
    const next = await runTask(hub, good.id);
    const openWhileNextFinished = receiver.open();
    const delivery = await lastDelivery(hub, failed.id);

    expect(next.status).toBe('succeeded');
    expect(openWhileNextFinished).toBe(1);
    expect(delivery).toMatchObject({ ok: false, status: null, attempts: 1, error: 'no reply within 3000 ms' });
  });

  it('retries a failing webhook with backoff', async () => {
    const receiver = await startReceiver();
    receiver.behaviour.status = 500;
    const hub = await hubWithAlerts(receiver);
    const bad = await createShellTask(hub, 'exit 1', 'breaks');
    const good = await createShellTask(hub, 'echo fine', 'fine');

    const failed = await runTask(hub, bad.id);
    const next = await runTask(hub, good.id);
    const delivery = await lastDelivery(hub, failed.id);

    expect(next.status).toBe('succeeded');
    expect(delivery).toMatchObject({ ok: false, status: 500, attempts: 3, error: 'the webhook replied with HTTP 500' });
    expect(receiver.received).toHaveLength(3);
  });

  it('sends nothing while disabled', async () => {
    const receiver = await startReceiver();
    const hub = await hubWithAlerts(receiver);
    await hub.api('PATCH', '/api/settings/alerts', { enabled: false });
    const bad = await createShellTask(hub, 'exit 1', 'breaks');

    await runTask(hub, bad.id);
    await hub.api('PATCH', '/api/settings/alerts', { enabled: true });
    const second = await runTask(hub, bad.id);
    await lastDelivery(hub, second.id);

    expect(receiver.received.map((entry) => entry.body.run?.id)).toEqual([second.id]);
  });
});

describe('failure alert settings', { timeout: 30_000 }, () => {
  it('test message reports the status', async () => {
    const receiver = await startReceiver();
    const hub = await startTestHub();
    await hub.api('PATCH', '/api/settings/alerts', { url: receiver.url, format: 'slack' });

    const saved = await hub.api<AlertDelivery>('POST', '/api/settings/alerts/test', {});
    receiver.behaviour.status = 404;
    const unsaved = await hub.api<AlertDelivery>('POST', '/api/settings/alerts/test', { url: `${receiver.url}/other` });

    expect(saved.body).toMatchObject({ ok: true, status: 200, error: null });
    expect(unsaved.body).toMatchObject({ ok: false, status: 404, error: 'the webhook replied with HTTP 404' });
    expect(receiver.received.map((entry) => entry.path)).toEqual(['/hook/secret-part', '/hook/secret-part/other']);
    expect(Object.keys(receiver.received[0]?.body ?? {})).toEqual(['text']);
    expect(receiver.received[0]?.body.text).toContain('Test message from the Farmboy hub');
  });

  it('test message reports a refused connection', async () => {
    const hub = await startTestHub();
    const closed = await closedPortUrl();

    const response = await hub.api<AlertDelivery>('POST', '/api/settings/alerts/test', { url: closed });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: false, status: null, error: 'request failed: ECONNREFUSED' });
  });

  it('test without a URL explains why', async () => {
    const hub = await startTestHub();

    const response = await hub.api<AlertDelivery>('POST', '/api/settings/alerts/test', {});

    expect(response.body).toMatchObject({ ok: false, attempts: 0, error: 'no webhook URL is saved; enter one first' });
  });

  it('stores the URL sealed and masked', async () => {
    const receiver = await startReceiver();
    const hub = await startTestHub();

    const saved = await hub.api<AlertSettingsView>('PATCH', '/api/settings/alerts', { enabled: true, url: receiver.url });
    const settings = await hub.api<Record<string, unknown>>('GET', '/api/settings');
    const file = await readFile(join(hub.dataDir, 'farmboy.json'), 'utf8');

    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ enabled: true, format: 'auto', resolvedFormat: 'json', maskedUrl: `${new URL(receiver.url).origin}/***` });
    expect(JSON.stringify(saved.body)).not.toContain('secret-part');
    expect(settings.body.alerts).toBeUndefined();
    expect(file).not.toContain('secret-part');
  });

  it.each([
    ['not a URL', { url: 'hooks' }, 'url'],
    ['an ftp URL', { url: 'ftp://127.0.0.1/x' }, 'url'],
    ['an unknown format', { format: 'teams' }, 'format'],
    ['an unknown field', { secret: 'x' }, 'secret'],
  ])('rejects %s', async (_case, body, field) => {
    const hub = await startTestHub();

    const response = await hub.api<{ error: { field?: string } }>('PATCH', '/api/settings/alerts', body);

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(field);
  });
});
