import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UI_NAMESPACE } from '../../electron/hub/ui-contract.js';
import { cleanup, createJob, createShellTask, onCleanup, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { captureLog, connectRawAgent } from './helpers.js';

afterEach(cleanup);

const SECRET = 'sup3r-s3cret-v4lue-42';
const FIRST_PART = SECRET.slice(0, 9);
const SECOND_PART = SECRET.slice(9);

// Prints the secret whole, split over two lines, inside a record and in the result.
const LEAKY_TASK = [
  'echo "token is $API_KEY"',
  'printf "%s\\n" "$API_KEY" | cut -c1-9',
  'printf "%s\\n" "$API_KEY" | cut -c10-',
  'echo "::record {\\"key\\": \\"$API_KEY\\"}"',
  'echo "::result {\\"used\\": \\"$API_KEY\\"}"',
  'echo "plain is $PLAIN"',
].join('\n');

async function everythingStored(hub: TestHub): Promise<string> {
  await hub.store.flush();
  const texts: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else texts.push(await readFile(path, 'utf8'));
    }
  };
  await walk(hub.dataDir);
  return texts.join('\n');
}

async function uiRequest(hub: TestHub, method: string, params: unknown): Promise<unknown> {
  const socket = io(`${hub.uiUrl}${UI_NAMESPACE}`, { auth: { token: hub.adminToken }, transports: ['websocket'], reconnection: false });
  onCleanup(() => void socket.close());
  return socket.timeout(5_000).emitWithAck('request', { method, params });
}

describe('secret environment values', () => {
  it('never appear in logs, files or replies', { timeout: 60_000 }, async () => {
    const log = captureLog();
    const hub = await startTestHub({ logger: log.logger });
    const [agent] = await startAgents(hub, [{ name: 'runner' }]);
    const task = await createShellTask(hub, LEAKY_TASK);
    const job = await createJob(hub, { name: 'leaky', taskId: task.id, env: { API_KEY: SECRET, PLAIN: 'visible' }, secretEnv: ['API_KEY'] });

    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 30_000, 'run succeeded');
    const replies = [
      JSON.stringify((await hub.api('GET', `/api/jobs/${job.id}`)).body),
      JSON.stringify((await hub.api('GET', '/api/jobs')).body),
      JSON.stringify((await hub.api('POST', '/api/jobs/export', {})).body),
      JSON.stringify((await hub.api('GET', `/api/runs/${runId}`)).body),
      JSON.stringify(await uiRequest(hub, 'jobs.get', { id: job.id })),
      JSON.stringify(await uiRequest(hub, 'runs.watch', { id: runId })),
    ];
    const runLog = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
    const records = (await hub.api<string>('GET', `/api/runs/${runId}/records`)).body;
    const stored = await everythingStored(hub);

    expect(runLog).toContain('token is ***');
    expect(runLog).toContain('plain is visible');
    for (const text of [...replies, runLog, records, stored, log.text(), agent?.output() ?? '']) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(FIRST_PART);
      expect(text).not.toContain(SECOND_PART);
    }
    expect(records).toContain('***');
    expect(JSON.stringify(hub.runs.get(runId)?.result)).toContain('***');
  });

  it('reach only the agent running the job', async () => {
    const hub = await startTestHub();
    const target = await connectRawAgent(hub, 'target', null, [], ['secret']);
    const bystander = await connectRawAgent(hub, 'bystander', null, [], ['other']);
    const received: Array<{ agent: string; env: Record<string, string>; secretEnv: string[] }> = [];
    for (const [name, raw] of [['target', target], ['bystander', bystander]] as const) {
      raw.socket.on('assign', (assignment: { env: Record<string, string>; secretEnv: string[] }) => received.push({ agent: name, ...assignment }));
    }
    const task = await createShellTask(hub, 'true');
    const job = await createJob(hub, { name: 'targeted', taskId: task.id, tags: ['secret'], env: { API_KEY: SECRET }, secretEnv: ['API_KEY'] });

    await hub.api('POST', `/api/jobs/${job.id}/runs`);
    await waitFor(() => received.length > 0, 10_000, 'assignment');

    expect(received.map((entry) => entry.agent)).toEqual(['target']);
    expect(received[0]?.env).toEqual({ API_KEY: SECRET });
    expect(received[0]?.secretEnv).toEqual(['API_KEY']);
  });

  it('keep the sealed value on an unchanged update', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'true');
    const job = await createJob(hub, { name: 'kept', taskId: task.id, env: { API_KEY: SECRET }, secretEnv: ['API_KEY'] });
    const sealed = (await hub.api<{ env: Record<string, string> }>('GET', `/api/jobs/${job.id}`)).body.env.API_KEY;

    const updated = await hub.api<{ env: Record<string, string> }>('PUT', `/api/jobs/${job.id}`, { env: { API_KEY: sealed, OTHER: 'x' } });
    const keyMode = (await stat(join(hub.dataDir, 'secret-key'))).mode & 0o777;

    expect(sealed).toMatch(/^enc:v1:/);
    expect(updated.body.env.API_KEY).toBe(sealed);
    expect(keyMode).toBe(0o600);
  });

  it('reject a value sealed elsewhere', async () => {
    const other = await startTestHub();
    const otherTask = await createShellTask(other, 'true');
    const origin = await createJob(other, { name: 'moved', taskId: otherTask.id, env: { API_KEY: SECRET }, secretEnv: ['API_KEY'] });
    const exported = (await other.api<{ jobs: unknown[] }>('POST', '/api/jobs/export', { ids: [origin.id] })).body;
    const hub = await startTestHub();
    await createShellTask(hub, 'true');

    const imported = await hub.api<{ error: { field: string; message: string } }>('POST', '/api/jobs/import', exported);

    expect(imported.status).toBe(400);
    expect(imported.body.error.field).toBe('jobs.0.env.API_KEY');
    expect(imported.body.error.message).toContain('enter its value again');
    expect((await hub.api<unknown[]>('GET', '/api/jobs')).body).toEqual([]);
  });
});
