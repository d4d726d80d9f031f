import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { HubClient, HubRequestError, type ConnectionStatus } from '../../renderer/src/api/client.js';
import { cleanup, onCleanup, startTestHub, waitFor } from '../helpers/fleet.js';

afterEach(cleanup);

function connect(url: string, token: string, requestTimeoutMs?: number): HubClient {
  const client = new HubClient({ url, token, requestTimeoutMs });
  onCleanup(() => client.close());
  return client;
}

async function connected(client: HubClient): Promise<void> {
  await waitFor(() => client.connectionStatus === 'connected', 5000, 'client connected');
}

/** Starts a /ui namespace that accepts every connection and never replies to a request. */
async function silentHub(): Promise<string> {
  const http = createServer();
  const io = new Server(http);
  io.of('/ui').on('connection', () => undefined);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => io.close(() => resolve())));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

describe('hub client', () => {
  it('returns typed data', async () => {
    const hub = await startTestHub();
    const client = connect(hub.uiUrl, hub.adminToken);
    await connected(client);

    const task = await client.request('tasks.create', { name: 'client task', runtime: 'shell', source: 'echo hi' });
    const listed = await client.request('tasks.list');

    expect(task.version).toBe(1);
    expect(listed.map((entry) => entry.name)).toEqual(['client task']);
  });

  it.each([
    ['jobs.create', { name: 'no task', taskId: 'missing' }, 'invalid', 'taskId'],
    ['runs.get', { id: 'missing' }, 'not_found', undefined],
  ] as const)('rejects %s with its code', async (method, params, code, field) => {
    const hub = await startTestHub();
    const client = connect(hub.uiUrl, hub.adminToken);
    await connected(client);

    const error = await client.request(method, params as never).catch((failure: unknown) => failure);

    expect(error).toBeInstanceOf(HubRequestError);
    expect(error).toMatchObject({ code, field });
  });

  it('times out a request', async () => {
    const url = await silentHub();
    const client = connect(url, 'any', 200);
    await connected(client);

    const error = await client.request('agents.list').catch((failure: unknown) => failure);

    expect(error).toMatchObject({ code: 'timeout' });
  });

  it('rejects requests while disconnected', async () => {
    const client = connect('http://127.0.0.1:9', 'any');

    const error = await client.request('agents.list').catch((failure: unknown) => failure);

    expect(error).toMatchObject({ code: 'disconnected' });
  });

  it('reports a wrong token once', async () => {
    const hub = await startTestHub();
    const client = connect(hub.uiUrl, 'wrong');
    const statuses: ConnectionStatus[] = [];
    client.onStatus((status) => statuses.push(status));

    await waitFor(() => client.connectionStatus === 'unauthorized', 5000, 'unauthorized');
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(statuses).toEqual(['unauthorized']);
  });

  it('drops listeners on cleanup and close', async () => {
    const hub = await startTestHub();
    const client = connect(hub.uiUrl, hub.adminToken);
    await connected(client);
    const before = client.listenerCount();

    const stops = [client.on('changes', () => undefined), client.on('log', () => undefined), client.onStatus(() => undefined)];
    const during = client.listenerCount();
    for (const stop of stops) stop();
    const after = client.listenerCount();
    client.on('records', () => undefined);
    client.close();

    expect(during - before).toBe(3);
    expect(after).toBe(before);
    expect(client.listenerCount()).toBe(0);
  });
});
