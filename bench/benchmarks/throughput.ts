/**
 * Throughput with real processes: 4 agents of 8 slots on loopback run 5,000
 * trivial shell runs queued through the HTTP API as fast as it takes them.
 * Read against the rate at which this machine can spawn the same script.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startAgentProcesses } from '../lib/agents.js';
import { waitUntil, type Benchmark } from '../lib/context.js';
import { createTask, runTask, type HubProcess, startHubProcess } from '../lib/hub.js';
import { spawnRate } from '../lib/limits.js';
import { cpuUsageMs, machineCpuMs, machineFigures, sampleProcess } from '../lib/proc.js';

const SCRIPT = 'echo ok\n';
const TRIGGER_CONCURRENCY = 16;

interface RunRecord {
  id: string;
  status: string;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** Queues `count` runs of a task with `concurrency` requests in flight and returns their ids. */
export async function triggerRuns(hub: HubProcess, taskId: string, count: number, concurrency: number): Promise<string[]> {
  const ids: string[] = [];
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < count) {
      issued += 1;
      ids.push(await runTask(hub, taskId));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/** Reads every stored run through the paginated API, newest first. */
export async function listAllRuns(hub: HubProcess): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let before: string | null = null;
  for (;;) {
    const query: string = before === null ? '' : `&before=${before}`;
    const page = await hub.api<RunRecord[]>('GET', `/api/runs?limit=1000${query}`);
    runs.push(...page.body);
    if (page.body.length < 1000) return runs;
    before = page.body.at(-1)?.id ?? null;
  }
}

async function activeRuns(hub: HubProcess): Promise<number> {
  const health = await hub.api<{ runsActive: number }>('GET', '/api/health');
  return health.body.runsActive;
}

export const throughputBenchmark: Benchmark = {
  name: 'throughput',
  title: 'throughput: 5,000 trivial shell runs on 4 real agents of 8 slots',
  async run(context) {
    const count = context.quick ? 200 : 5000;
    const hub = await startHubProcess(context);
    const agents = await startAgentProcesses(
      context,
      hub,
      [1, 2, 3, 4].map((index) => ({ name: `agent-${index}`, slots: 8 })),
    );
    const taskId = await createTask(hub, 'shell', SCRIPT);

    const hubBefore = sampleProcess(hub.pid);
    const agentsBefore = agents.map((agent) => sampleProcess(agent.pid));
    const machineBefore = machineCpuMs();
    const generatorBefore = process.cpuUsage();
    const firstTrigger = Date.now();
    const ids = await triggerRuns(hub, taskId, count, TRIGGER_CONCURRENCY);
    const triggersDone = Date.now();
    await waitUntil(async () => (await activeRuns(hub)) === 0, 300_000, `${count} runs final`, 50);
    const hubAfter = sampleProcess(hub.pid);
    const machineMs = machineCpuMs() - machineBefore;
    const generatorMs = cpuUsageMs(process.cpuUsage(generatorBefore));
    const agentsCpuMs = agents.reduce((sum, agent, index) => sum + sampleProcess(agent.pid).cpuMs - (agentsBefore[index]?.cpuMs ?? 0), 0);

    const stored = (await listAllRuns(hub)).filter((run) => ids.includes(run.id));
    const succeeded = stored.filter((run) => run.status === 'succeeded').length;
    const lastFinished = Math.max(...stored.map((run) => run.finishedAt ?? 0));
    const seconds = (lastFinished - firstTrigger) / 1000;
    context.log(`${count} runs in ${seconds.toFixed(2)} s, ${succeeded} succeeded, ${stored.length} stored`);
    if (stored.length !== count || succeeded !== count) throw new Error(`expected ${count} succeeded runs, found ${succeeded} of ${stored.length} stored`);

    const scratch = await context.tempDir('spawn');
    const script = path.join(scratch, 'task.sh');
    await writeFile(script, SCRIPT, { mode: 0o700 });
    const spawnLimit = await spawnRate(count, 32, '/bin/sh', [script], scratch);
    const rate = count / seconds;
    const hubCpuPerRun = (hubAfter.cpuMs - hubBefore.cpuMs) / count;
    return {
      figures: [
        {
          key: 'runs-per-second',
          label: 'runs per second, first trigger to last final status',
          unit: 'runs/s',
          value: rate,
          budget: { op: '>=', value: 300 },
          limit: { label: 'bare spawns of /bin/sh task.sh per second, 32 at a time', value: spawnLimit },
        },
        { key: 'hub-cpu-per-run', label: 'hub CPU time per run', unit: 'ms', value: hubCpuPerRun },
        { key: 'agent-cpu-per-run', label: 'agent CPU time per run (4 agents together, task processes excluded)', unit: 'ms', value: agentsCpuMs / count },
        { key: 'generator-cpu-per-run', label: 'load generator (this process) CPU time per run', unit: 'ms', value: generatorMs / count },
        ...machineFigures(machineMs, count, rate),
      ],
      details: { runs: count, seconds, triggerSeconds: (triggersDone - firstTrigger) / 1000, stored: stored.length, succeeded },
    };
  },
};
