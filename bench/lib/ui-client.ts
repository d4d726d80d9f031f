/**
 * A UI client as the window or a browser is one: a socket.io connection to
 * the hub's /ui namespace with the admin token, requests with acks and the
 * hub's pushes.
 */
import { io, type Socket } from 'socket.io-client';
import type { StoredLogLine } from '../../electron/hub/model.js';
import { UI_NAMESPACE, type UiReply } from '../../electron/hub/ui-contract.js';
import type { BenchContext } from './context.js';
import type { HubProcess } from './hub.js';

export interface UiClient {
  socket: Socket;
  request<T>(method: string, params?: unknown): Promise<T>;
}

export async function connectUi(context: BenchContext, hub: HubProcess): Promise<UiClient> {
  const socket = io(`${hub.uiUrl}${UI_NAMESPACE}`, { auth: { token: hub.adminToken }, transports: ['websocket'], reconnection: false, forceNew: true });
  context.defer(() => void socket.close());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    socket,
    async request<T>(method: string, params?: unknown): Promise<T> {
      const reply = (await socket.timeout(30_000).emitWithAck('request', { method, params })) as UiReply<T>;
      if (!reply.ok) throw new Error(`${method}: ${reply.error.code}: ${reply.error.message}`);
      return reply.data;
    },
  };
}

/** Pushes that a watcher of one run's log received, with each one's arrival time and size. */
export interface LogWatch {
  pushes: Array<{ at: number; lines: number }>;
  /** Arrival time (wall ms) of the first line that starts with the marker, if one came. */
  markerAt: number | null;
  markerLine: string | null;
  stop(): void;
}

/** Counts the `log` pushes for `runId` and notes when a line starting with `marker` arrives. */
export function watchLog(client: UiClient, runId: string, marker: string, clock: () => number): LogWatch {
  const watch: LogWatch = { pushes: [], markerAt: null, markerLine: null, stop: () => client.socket.off('log', listener) };
  const listener = (payload: { runId: string; lines: StoredLogLine[] }): void => {
    if (payload.runId !== runId) return;
    const at = clock();
    watch.pushes.push({ at, lines: payload.lines.length });
    if (watch.markerAt !== null) return;
    const found = payload.lines.find((line) => line.m.startsWith(marker));
    if (found) {
      watch.markerAt = at;
      watch.markerLine = found.m;
    }
  };
  client.socket.on('log', listener);
  return watch;
}

/** Returns the maximum number of pushes that arrived within any window of `windowMs`. */
export function maxPushesPerWindow(pushes: ReadonlyArray<{ at: number }>, windowMs = 1_000): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < pushes.length; end += 1) {
    while ((pushes[end]?.at ?? 0) - (pushes[start]?.at ?? 0) >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
