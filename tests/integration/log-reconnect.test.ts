import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredLogLine } from '../../electron/hub/model.js';
import { HubClient, type ConnectionStatus } from '../../renderer/src/api/client.js';
import { RunLogFeed } from '../../renderer/src/components/log-viewer/run-log-feed.js';
import { TcpProxy } from '../faults/helpers/proxy.js';
import { cleanup, createShellTask, onCleanup, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

const LINES = 3_000;
/** About 1,000 lines a second, in bursts of 100, so pushes are in flight at any moment. */
const WRITER = `i=1; while [ $i -le ${LINES} ]; do echo "line $i"; i=$((i+1)); if [ $((i % 100)) -eq 0 ]; then sleep 0.1; fi; done`;

async function storedLog(hub: TestHub, runId: string): Promise<string[]> {
  const lines: StoredLogLine[] = [];
  for await (const line of hub.service.readLog(runId)) lines.push(line);
  return text(lines);
}

function text(lines: readonly StoredLogLine[]): string[] {
  return lines.map((line) => `${line.s} ${line.m}`);
}

/** A view that holds a run's log, watched on each connection and released when it drops, as useWhenConnected does. */
class View {
  readonly feed: RunLogFeed;
  connections = 0;
  private stop: (() => void) | null = null;
  private readonly stopStatus: () => void;

  constructor(private readonly client: HubClient, runId: string) {
    this.feed = new RunLogFeed(runId, () => undefined);
    this.stopStatus = client.onStatus((status) => this.follow(status));
    if (client.connectionStatus === 'connected') this.follow('connected');
  }

  close(): void {
    this.stopStatus();
    this.stop?.();
  }

  private follow(status: ConnectionStatus): void {
    if (status === 'connected') {
      this.connections += 1;
      this.stop = this.feed.connect(this.client);
      return;
    }
    this.stop?.();
    this.stop = null;
  }
}

/**
 * A loopback TCP relay that delays every chunk by `latencyMs` each way, in
 * order, as a slow network does. Pushes the hub sent just before it handled
 * a request then reach the client after the client sent that request.
 */
class SlowLink {
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number, latencyMs: number): Promise<SlowLink> {
    const server = createServer();
    const link = new SlowLink(server);
    server.on('connection', (client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        link.sockets.add(socket);
        socket.on('close', () => link.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      const relay = (from: Socket, to: Socket) => {
        from.on('data', (chunk) => setTimeout(() => !to.destroyed && to.write(chunk), latencyMs));
        from.on('close', () => setTimeout(() => to.destroy(), latencyMs));
      };
      relay(client, upstream);
      relay(upstream, client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return link;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function startWriter(latencyMs = 0) {
  const hub = await startTestHub();
  await startAgents(hub, [{ name: 'writer' }]);
  const proxy = await TcpProxy.start(hub.uiPort);
  onCleanup(() => proxy.close());
  const slow = await SlowLink.start(proxy.port, latencyMs);
  onCleanup(() => slow.close());
  // The UI client reaches the hub through the proxy, so a test can break its connection.
  const client = new HubClient({ url: `http://127.0.0.1:${slow.port}`, token: hub.adminToken, requestTimeoutMs: 5_000 });
  onCleanup(() => client.close());
  await waitFor(() => client.connectionStatus === 'connected', 10_000, 'UI client connected');
  const task = await createShellTask(hub, WRITER);
  const run = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body;
  return { hub, proxy, client, runId: run.id };
}

async function settled(hub: TestHub, runId: string, views: View[]): Promise<string[]> {
  await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 60_000, 'run succeeded');
  const stored = await storedLog(hub, runId);
  await waitFor(() => views.every((view) => view.feed.lines.length >= stored.length), 10_000, 'every line shown');
  // Time for a line shown twice to arrive.
  await sleep(300);
  return stored;
}

describe('live log across UI reconnects', () => {
  it.each([
    { cuts: 3, mode: 'reset' as const, views: 1, latencyMs: 0 },
    { cuts: 2, mode: 'reset' as const, views: 2, latencyMs: 80 },
    { cuts: 1, mode: 'drop' as const, views: 2, latencyMs: 0 },
  ])('holds each line once after $cuts $mode cuts with $views views', { timeout: 90_000 }, async ({ cuts, mode, views: viewCount, latencyMs }) => {
    const { hub, proxy, client, runId } = await startWriter(latencyMs);
    const views = Array.from({ length: viewCount }, () => new View(client, runId));
    onCleanup(() => views.forEach((view) => view.close()));
    await waitFor(() => views.every((view) => view.feed.lines.some((line) => line.m === 'line 100')), 20_000, 'first lines shown');

    for (let cut = 0; cut < cuts; cut += 1) {
      const before = views.map((view) => view.connections);
      proxy.cut(mode);
      await sleep(mode === 'drop' ? 1_500 : 300);
      proxy.restore();
      await waitFor(() => views.every((view, index) => view.connections > (before[index] ?? 0) && !view.feed.loading), 30_000, `reconnect ${cut + 1}`);
      await sleep(400);
    }
    const stored = await settled(hub, runId, views);

    for (const view of views) {
      expect(view.connections).toBe(cuts + 1);
      expect(view.feed.lines.filter((line) => line.s === 'stdout')).toHaveLength(LINES);
      expect(text(view.feed.lines)).toEqual(stored);
    }
  });

  it.each([0, 80])('keeps a view whole while another opens, %i ms', { timeout: 90_000 }, async (latencyMs) => {
    const { hub, client, runId } = await startWriter(latencyMs);
    const first = new View(client, runId);
    onCleanup(() => first.close());
    await waitFor(() => first.feed.lines.some((line) => line.m === 'line 100'), 20_000, 'first lines shown');

    // Two views of one run on one connection: each watch must leave the other's pushes alone.
    const others: View[] = [];
    for (let opened = 0; opened < 4; opened += 1) {
      const other = new View(client, runId);
      others.push(other);
      onCleanup(() => other.close());
      await waitFor(() => !other.feed.loading, 10_000, `view ${opened + 1} loaded`);
      await sleep(300);
    }
    const stored = await settled(hub, runId, [first, ...others]);

    for (const view of [first, ...others]) {
      expect(text(view.feed.lines)).toEqual(stored);
    }
  });

  it.each([
    { order: 'old view first' as const, latencyMs: 0 },
    { order: 'old view first' as const, latencyMs: 80 },
    { order: 'new view first' as const, latencyMs: 0 },
  ])('hands a live log over, $order, $latencyMs ms', { timeout: 90_000 }, async ({ order, latencyMs }) => {
    const { hub, client, runId } = await startWriter(latencyMs);
    let view = new View(client, runId);
    onCleanup(() => view.close());
    await waitFor(() => view.feed.lines.some((line) => line.m === 'line 100'), 20_000, 'first lines shown');

    // As when the test-run panel gives way to the run page on one connection. React cleans up the old
    // view before it starts the new one; two views of one run on a page can go in either order.
    for (let handover = 0; handover < 5; handover += 1) {
      if (order === 'old view first') view.close();
      const next = new View(client, runId);
      if (order === 'new view first') view.close();
      view = next;
      await waitFor(() => !view.feed.loading, 10_000, `handover ${handover + 1}`);
      await sleep(300);
    }
    const stored = await settled(hub, runId, [view]);

    expect(view.feed.lines.filter((line) => line.s === 'stdout')).toHaveLength(LINES);
    expect(text(view.feed.lines)).toEqual(stored);
  });
});
