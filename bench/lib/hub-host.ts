/**
 * A hub in its own process for benchmarks: the real `startHub`, bound to
 * 127.0.0.1, with the production logger, started by `startHubProcess` and
 * driven over the IPC channel. Keeping the hub alone in its process makes
 * its CPU time and memory readable from /proc without the load generator's
 * share, and the few hooks below report run transitions with this
 * process's clock.
 *
 * Bundled by bench/lib/build.ts into out/bench/hub-host.js.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { PlacementDecision } from '../../electron/hub/dispatch-queue.js';
import { startHub, type Hub } from '../../electron/hub/index.js';
import { createLogger } from '../../electron/hub/logger.js';
import type { Run } from '../../electron/hub/model.js';
import { hubHostOptionsSchema, hubHostRequestSchema, watchSchema, type HubHostMessage, type WatchRequest } from './hub-host-protocol.js';
import { wallMs } from './stats.js';

function send(message: HubHostMessage): void {
  process.send?.(message);
}

/** Times every dispatch pass that placed at least one run, in ms per run placed. */
function timeDispatch(hub: Hub, samples: number[]): void {
  const runs = hub.runs;
  const dispatch = runs.dispatch.bind(runs);
  let placed = 0;
  runs.on('run', (run) => {
    if (run.status === 'assigned') placed += 1;
  });
  runs.dispatch = (now: number) => {
    placed = 0;
    const started = performance.now();
    dispatch(now);
    const elapsed = performance.now() - started;
    if (placed > 0) samples.push(elapsed / placed);
  };
}

function watch(hub: Hub, request: WatchRequest): void {
  const statuses = new Set(request.statuses);
  hub.runs.on('run', (run: Run) => {
    if (statuses.has(run.status)) send({ type: 'run', runId: run.id, status: run.status, at: wallMs() });
  });
  const seen = new Set<string>();
  hub.runs.on('log', (runId, lines) => {
    const at = wallMs();
    for (const line of lines) {
      if (line.s === 'system') continue;
      if (request.firstLine && !seen.has(runId)) {
        seen.add(runId);
        send({ type: 'line', runId, kind: 'first', at, message: line.m });
      }
      if (request.lastLinePrefix !== null && line.m.startsWith(request.lastLinePrefix)) {
        send({ type: 'line', runId, kind: 'last', at, message: line.m });
      }
    }
  });
}

async function main(): Promise<void> {
  const options = hubHostOptionsSchema.parse(JSON.parse(process.env.FARMBOY_BENCH_HUB ?? '{}'));
  const hub = await startHub({
    dataDir: options.dataDir,
    agentHost: '127.0.0.1',
    agentPort: 0,
    uiHost: '127.0.0.1',
    uiPort: 0,
    adminToken: options.adminToken,
    agentToken: options.agentToken,
    logger: createLogger({ level: options.logLevel, pretty: false }),
    rendererDir: options.rendererDir ?? null,
    ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
  });
  const dispatchSamples: number[] = [];
  timeDispatch(hub, dispatchSamples);
  const placementSamples: number[] = [];
  diagnostics_channel.subscribe('farmboy:placement', (message) => {
    const decision = message as PlacementDecision;
    if (decision.agentId !== null) placementSamples.push(decision.decisionMs);
  });

  process.on('message', (raw) => {
    const parsed = hubHostRequestSchema.safeParse(raw);
    if (!parsed.success) return;
    const { id, method, params } = parsed.data;
    if (method === 'usage') {
      send({ type: 'reply', id, result: { cpu: process.cpuUsage(), memory: process.memoryUsage() } });
    } else if (method === 'watch') {
      watch(hub, watchSchema.parse(params));
      send({ type: 'reply', id, result: null });
    } else if (method === 'dispatchTimings') {
      send({ type: 'reply', id, result: dispatchSamples.splice(0) });
    } else if (method === 'placementTimings') {
      send({ type: 'reply', id, result: placementSamples.splice(0) });
    } else {
      void hub.stop().then(() => {
        send({ type: 'reply', id, result: null });
        process.exit(0);
      });
    }
  });
  // The parent is gone: stop cleanly so the store is flushed and its lock released.
  process.on('disconnect', () => void hub.stop().finally(() => process.exit(0)));
  send({ type: 'ready', uiUrl: hub.uiUrl, agentUrl: hub.agentUrl, fingerprint: hub.fingerprint, pid: process.pid, readyAt: wallMs() });
}

main().catch((error: unknown) => {
  process.stderr.write(`hub host failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
