/**
 * Fleet size: 1,000 simulated agents connect at once, then report their
 * load every 2 s. Measured: the time until the hub lists all of them
 * online, the hub's CPU and resident memory at steady state, and how long
 * the hub takes to place a run among them. Read against a bare socket.io
 * server over TLS under the same connections and messages.
 */
import type { Socket as ClientSocket } from 'socket.io-client';
import { sleep, waitUntil, type Benchmark, type BenchContext } from '../lib/context.js';
import { createTask, runTask, startHubProcess, type HubProcess } from '../lib/hub.js';
import { connectBareClients, startBareServer } from '../lib/limits.js';
import { MB, coreShare, sampleProcess, type ProcessSample } from '../lib/proc.js';
import { SimAgent } from '../lib/sim-agent.js';
import { nowMs, summarize } from '../lib/stats.js';
import { RunEvents } from './dispatch.js';

const LOAD_INTERVAL_MS = 2_000;

async function onlineCount(hub: HubProcess): Promise<number> {
  return (await hub.api<{ agentsOnline: number }>('GET', '/api/health')).body.agentsOnline;
}

/** CPU share and resident memory of `pid` over `windowMs`. */
async function steadyState(pid: number, windowMs: number): Promise<{ cpu: number; rssBytes: number }> {
  const first: ProcessSample = sampleProcess(pid);
  await sleep(windowMs);
  const last = sampleProcess(pid);
  return { cpu: coreShare(first, last), rssBytes: last.rssBytes };
}

/** Places `count` runs one at a time on the simulated fleet; returns the hub's decision times and whole passes, in ms. */
async function placements(hub: HubProcess, count: number): Promise<{ decisions: number[]; passes: number[] }> {
  const taskId = await createTask(hub, 'shell', 'echo placed\n');
  const events = new RunEvents(hub);
  await hub.watch({ statuses: ['succeeded', 'failed'], firstLine: false, lastLinePrefix: null });
  await hub.dispatchTimings();
  await hub.placementTimings();
  for (let index = 0; index < count; index += 1) {
    const runId = await runTask(hub, taskId);
    await events.timeOf(runId, () => true);
    events.forget(runId);
  }
  return { decisions: await hub.placementTimings(), passes: await hub.dispatchTimings() };
}

/** Puts the same connections and load reports on a bare socket.io server, for the limit. */
async function bareFleet(context: BenchContext, agents: number, windowMs: number): Promise<{ connectMs: number; cpu: number; rssBytes: number }> {
  const bare = await startBareServer(context);
  const started = nowMs();
  const clients: ClientSocket[] = await connectBareClients(bare.url, agents, agents);
  const connectMs = nowMs() - started;
  const timers = clients.map((client) => setInterval(() => client.volatile.emit('load', { load: 0.1, cpu: 0.1, freeMemoryBytes: 4 * 1024 ** 3, running: 0 }), LOAD_INTERVAL_MS));
  try {
    await sleep(LOAD_INTERVAL_MS * 2);
    return { connectMs, ...(await steadyState(bare.pid, windowMs)) };
  } finally {
    for (const timer of timers) clearInterval(timer);
    for (const client of clients) client.close();
  }
}

export const fleetSizeBenchmark: Benchmark = {
  name: 'fleet-size',
  title: 'fleet size: 1,000 simulated agents reporting load every 2 s',
  async run(context) {
    const count = context.quick ? 50 : 1000;
    const windowMs = context.quick ? 4_000 : 30_000;
    const hub = await startHubProcess(context);
    const agents = Array.from({ length: count }, (_, index) => new SimAgent({ url: hub.agentUrl, token: hub.agentToken, name: `fleet-${index}`, slots: 4, loadIntervalMs: LOAD_INTERVAL_MS, linesPerRun: 0 }));
    context.defer(() => agents.forEach((agent) => agent.close()));

    const stormStart = nowMs();
    await Promise.all(agents.map((agent) => agent.connect(60_000)));
    await waitUntil(async () => (await onlineCount(hub)) === count, 60_000, `${count} agents online`, 100);
    const stormMs = nowMs() - stormStart;
    context.log(`${count} agents online after ${stormMs.toFixed(0)} ms`);
    await sleep(context.quick ? 2_000 : 10_000);
    const steady = await steadyState(hub.pid, windowMs);
    const placed = await placements(hub, context.quick ? 20 : 1000);
    const placing = summarize(placed.decisions);
    const passes = summarize(placed.passes);
    const bare = await bareFleet(context, count, windowMs);

    return {
      figures: [
        { key: 'connect-storm', label: `${count} agents connecting at once until all are online`, unit: 'ms', value: stormMs, budget: { op: '<=', value: 10_000 }, limit: { label: 'the same connections to a bare socket.io server', value: bare.connectMs } },
        { key: 'hub-cpu', label: 'hub CPU at steady state, share of one core', unit: '%', value: steady.cpu * 100, budget: { op: '<=', value: 10 }, limit: { label: 'bare socket.io server under the same load reports', value: bare.cpu * 100 } },
        { key: 'hub-rss', label: 'hub resident memory at steady state', unit: 'MB', value: steady.rssBytes / MB, budget: { op: '<=', value: 300 }, limit: { label: 'bare socket.io server with the same connections', value: bare.rssBytes / MB } },
        {
          key: 'placement.p99',
          label: 'placement decision among the fleet, p99',
          unit: 'ms',
          value: placing.p99,
          budget: { op: '<=', value: 1 },
          summary: placing,
          note: `fleet snapshot and choice of agent, timed inside the hub; the whole dispatch pass with the assignment sent: p50 ${passes.p50.toFixed(2)} ms, p99 ${passes.p99.toFixed(2)} ms`,
        },
      ],
      details: { agents: count, windowMs, bare, dispatchPassMs: passes },
    };
  },
};
