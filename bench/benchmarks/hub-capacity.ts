/**
 * Hub capacity: 50 simulated agents speaking the real protocol finish every
 * run the moment it is assigned, so the hub alone limits the rate. Runs are
 * queued through the HTTP API; afterwards the run segments on disk are read
 * to check that every state change of every run was stored. Read against
 * acknowledged messages per second through a bare socket.io server.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { waitUntil, type Benchmark } from '../lib/context.js';
import { createTask, startHubProcess, type HubProcess } from '../lib/hub.js';
import { bareAckRate, connectBareClients, startBareServer } from '../lib/limits.js';
import { MB, ProcessWatch, cpuUsageMs, machineCpuMs, machineFigures } from '../lib/proc.js';
import { SimAgent, connectSimAgents } from '../lib/sim-agent.js';
import { listAllRuns, triggerRuns } from './throughput.js';

const AGENTS = 50;
const SLOTS = 16;
const TRIGGER_CONCURRENCY = 64;
/** The states every run passes through on its way to success. */
const EXPECTED_STATES = ['queued', 'assigned', 'running', 'succeeded'];

/** Reads the run segments and returns, per run id, the set of statuses stored for it. */
export async function storedStates(dataDir: string): Promise<Map<string, Set<string>>> {
  const states = new Map<string, Set<string>>();
  const dir = path.join(dataDir, 'runs');
  for (const name of (await readdir(dir)).filter((entry) => entry.endsWith('.jsonl'))) {
    for (const line of (await readFile(path.join(dir, name), 'utf8')).split('\n')) {
      if (!line) continue;
      const record = JSON.parse(line) as { id: string; status: string };
      const set = states.get(record.id) ?? new Set<string>();
      set.add(record.status);
      states.set(record.id, set);
    }
  }
  return states;
}

async function waitForFinalRuns(hub: HubProcess, count: number): Promise<void> {
  await waitUntil(
    async () => (await hub.api<{ runsActive: number }>('GET', '/api/health')).body.runsActive === 0,
    300_000,
    `${count} runs final`,
    50,
  );
}

export const hubCapacityBenchmark: Benchmark = {
  name: 'hub-capacity',
  title: 'hub capacity: 50 simulated agents that finish runs at once',
  async run(context) {
    const count = context.quick ? 500 : 20_000;
    const hub = await startHubProcess(context);
    const agents = await connectSimAgents(AGENTS, 10, (index) => new SimAgent({ url: hub.agentUrl, token: hub.agentToken, name: `sim-${index}`, slots: SLOTS, loadIntervalMs: 2_000, linesPerRun: 1 }));
    context.defer(() => agents.forEach((agent) => agent.close()));
    const taskId = await createTask(hub, 'shell', 'echo ok\n');

    const watch = new ProcessWatch(hub.pid);
    const machineBefore = machineCpuMs();
    const generatorBefore = process.cpuUsage();
    const firstTrigger = Date.now();
    const ids = await triggerRuns(hub, taskId, count, TRIGGER_CONCURRENCY);
    await waitForFinalRuns(hub, count);
    const hubEnd = watch.stop();
    const machineMs = machineCpuMs() - machineBefore;
    const generatorMs = cpuUsageMs(process.cpuUsage(generatorBefore));
    const idSet = new Set(ids);
    const stored = (await listAllRuns(hub)).filter((run) => idSet.has(run.id));
    const succeeded = stored.filter((run) => run.status === 'succeeded').length;
    const seconds = (Math.max(...stored.map((run) => run.finishedAt ?? 0)) - firstTrigger) / 1000;
    await hub.stop();
    const states = await storedStates(hub.dataDir);
    const complete = ids.filter((id) => EXPECTED_STATES.every((status) => states.get(id)?.has(status))).length;
    context.log(`${count} runs in ${seconds.toFixed(2)} s; ${succeeded} succeeded, ${complete} with every state change on disk`);
    if (succeeded !== count || complete !== count) throw new Error(`expected ${count} runs with all states stored, found ${succeeded} succeeded and ${complete} complete`);

    const bare = await startBareServer(context);
    const clients = await connectBareClients(bare.url, AGENTS);
    const ackRate = await bareAckRate(clients, context.quick ? 1_000 : 5_000);
    for (const client of clients) client.close();
    const rate = count / seconds;
    return {
      figures: [
        {
          key: 'runs-per-second',
          label: 'runs per second through the hub, first trigger to last final status',
          unit: 'runs/s',
          value: rate,
          budget: { op: '>=', value: 2000 },
          limit: { label: 'acknowledged socket.io messages per second, bare TLS server, 50 clients', value: ackRate },
          note: 'a run takes at least an HTTP request and two acknowledged messages on the agent socket (assign, events)',
        },
        { key: 'hub-cpu-per-run', label: 'hub CPU time per run', unit: 'ms', value: (hubEnd.cpuMs - watch.first.cpuMs) / count },
        { key: 'generator-cpu-per-run', label: 'load generator (this process: 50 simulated agents and the API calls) CPU time per run', unit: 'ms', value: generatorMs / count },
        ...machineFigures(machineMs, count, rate),
        { key: 'hub-peak-rss', label: 'hub peak resident memory', unit: 'MB', value: watch.peakRssBytes / MB },
      ],
      details: { runs: count, seconds, stateChangesChecked: EXPECTED_STATES, runsWithAllStates: complete },
    };
  },
};
