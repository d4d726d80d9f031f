import { afterEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { StoredLogLine } from '../../electron/hub/model.js';
import { UI_NAMESPACE, type RunWatch, type UiChanges, type UiReply } from '../../electron/hub/ui-contract.js';
import { cleanup, createShellTask, onCleanup, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

function connectUi(hub: TestHub, token: string): Socket {
  const socket = io(`${hub.uiUrl}${UI_NAMESPACE}`, { auth: { token }, transports: ['websocket'], reconnection: false });
  onCleanup(() => void socket.close());
  return socket;
}

interface IndexedLine {
  index: number;
  line: StoredLogLine;
}

/** Records every pushed line with its index in the run's log. */
function collectLines(socket: Socket): IndexedLine[] {
  const pushed: IndexedLine[] = [];
  socket.on('log', (payload: { from: number; lines: StoredLogLine[] }) => payload.lines.forEach((line, offset) => pushed.push({ index: payload.from + offset, line })));
  return pushed;
}

/** Returns the watch reply's lines, then the pushed lines from its `nextLine` on, as a client keeps them. */
function keptLines(watched: UiReply<RunWatch>, pushed: readonly IndexedLine[]): StoredLogLine[] {
  if (!watched.ok) return [];
  return [...watched.data.lines, ...pushed.filter((entry) => entry.index >= watched.data.nextLine).map((entry) => entry.line)];
}

async function request<T>(socket: Socket, method: string, params?: unknown): Promise<UiReply<T>> {
  return (await socket.timeout(5000).emitWithAck('request', { method, params })) as UiReply<T>;
}

describe('UI gateway', () => {
  it('rejects a wrong admin token', async () => {
    const hub = await startTestHub();

    const error = await new Promise<{ data?: { code: string } }>((resolve) => connectUi(hub, 'wrong').on('connect_error', (err) => resolve(err as never)));

    expect(error.data?.code).toBe('unauthorized');
  });

  it('answers requests with the API errors', async () => {
    const hub = await startTestHub();
    const socket = connectUi(hub, hub.adminToken);

    const created = await request<{ id: string; version: number }>(socket, 'tasks.create', { name: 'ui task', runtime: 'shell', source: 'echo ui' });
    const invalid = await request(socket, 'jobs.create', { name: 'no task' });
    const missing = await request(socket, 'runs.get', { id: 'nope' });
    const unknown = await request(socket, 'tasks.explode');
    const badParams = await request(socket, 'jobs.get', null);
    const numericId = await request(socket, 'jobs.get', { id: 5 });

    expect(created).toMatchObject({ ok: true, data: { version: 1 } });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'invalid', field: 'taskId' } });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(badParams).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(numericId).toMatchObject({ ok: false, error: { code: 'invalid', field: 'id' } });
  });

  it('pushes coalesced changes and live log lines', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const socket = connectUi(hub, hub.adminToken);
    const pushes: UiChanges[] = [];
    socket.on('changes', (changes: UiChanges) => pushes.push(changes));
    const logs = collectLines(socket);
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    const task = await createShellTask(hub, 'sleep 0.5; for i in $(seq 1 500); do echo "line $i"; done');

    const run = await request<{ id: string }>(socket, 'tasks.run', { id: task.id });
    if (!run.ok) throw new Error(run.error.message);
    const watched = await request<RunWatch>(socket, 'runs.watch', { id: run.data.id });
    await waitFor(() => hub.runs.get(run.data.id)?.status === 'succeeded', 15_000, 'run succeeded');
    await waitFor(() => pushes.some((push) => push.runs.some((entry) => entry.id === run.data.id && entry.status === 'succeeded')), 5000, 'final push');
    await waitFor(() => keptLines(watched, logs).some((line) => line.m === 'line 500'), 5000, 'last line pushed');

    const seen = keptLines(watched, logs).filter((line) => line.s === 'stdout').map((line) => line.m);
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i + 1}`));
    expect(pushes.length).toBeLessThan(20);
  });

  it.each([1, 2, 3])('joins a busy live log without gaps, try %i', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const socket = connectUi(hub, hub.adminToken);
    const pushed = collectLines(socket);
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    const task = await createShellTask(hub, 'i=1; while [ $i -le 20000 ]; do echo "line $i"; i=$((i+1)); done');
    const run = await request<{ id: string }>(socket, 'tasks.run', { id: task.id });
    if (!run.ok) throw new Error(run.error.message);
    await waitFor(() => (hub.runs.get(run.data.id)?.logLines ?? 0) > 1000, 15_000, 'first lines stored');

    const watched = await request<RunWatch>(socket, 'runs.watch', { id: run.data.id });
    await waitFor(() => hub.runs.get(run.data.id)?.status === 'succeeded', 30_000, 'run succeeded');
    await waitFor(() => keptLines(watched, pushed).some((line) => line.m === 'line 20000'), 10_000, 'last line seen');

    const seen = keptLines(watched, pushed).filter((line) => line.s === 'stdout').map((line) => line.m);
    const first = Number(seen[0]?.split(' ')[1]);
    expect(seen).toEqual(Array.from({ length: 20_001 - first }, (_, i) => `line ${first + i}`));
  });
});
