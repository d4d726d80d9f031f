/**
 * Node task start: "run now" until the first line of a TypeScript task's
 * code runs, on an agent that keeps warm task hosts (the default) and on
 * one that starts a host per run (FARMBOY_WARM_HOSTS=0). Read against a
 * bare `node -e 0`.
 */
import { startAgentProcesses } from '../lib/agents.js';
import { sleep, type Benchmark, type BenchContext } from '../lib/context.js';
import { createTask, runTask, startHubProcess, type HubProcess } from '../lib/hub.js';
import { nodeStarts } from '../lib/limits.js';
import { median, summarize, wallMs, type Summary } from '../lib/stats.js';
import { RunEvents } from './dispatch.js';

/** The task's first statement reads a clock comparable with the benchmark's own (wallMs). */
const SOURCE = `export default async () => ({ userCodeAt: performance.timeOrigin + performance.now() });\n`;

interface Timings {
  /** "run now" until the task's code runs. */
  fromRunNow: number[];
  /** The hub assigned the run until the task's code runs: the agent's part. */
  fromAssigned: number[];
}

async function measure(context: BenchContext, hub: HubProcess, events: RunEvents, taskId: string, tag: string, count: number): Promise<Timings> {
  const timings: Timings = { fromRunNow: [], fromAssigned: [] };
  for (let index = 0; index < count; index += 1) {
    const triggeredAt = wallMs();
    const runId = await runTask(hub, taskId, [tag]);
    const assignedAt = await events.timeOf(runId, (message) => message.type === 'run' && message.status === 'assigned');
    await events.timeOf(runId, (message) => message.type === 'run' && (message.status === 'succeeded' || message.status === 'failed'));
    const run = await hub.api<{ status: string; error: string | null; result: { userCodeAt?: number } | null }>('GET', `/api/runs/${runId}`);
    const userCodeAt = run.body.result?.userCodeAt;
    if (run.body.status !== 'succeeded' || typeof userCodeAt !== 'number') throw new Error(`node run ${runId} ${run.body.status}: ${run.body.error ?? 'no result'}`);
    timings.fromRunNow.push(userCodeAt - triggeredAt);
    timings.fromAssigned.push(userCodeAt - assignedAt);
    events.forget(runId);
    // Past the pool's refill delay (200 ms), so each run meets an agent with its warm hosts back, as runs spaced in time do.
    await sleep(context.quick ? 50 : 300);
  }
  return timings;
}

export const nodeStartBenchmark: Benchmark = {
  name: 'node-start',
  title: 'node task start: run now until TypeScript task code runs, warm host pool against a cold start',
  async run(context) {
    const count = context.quick ? 5 : 100;
    const hub = await startHubProcess(context);
    await startAgentProcesses(context, hub, [
      { name: 'warm', slots: 4, tags: ['warm'] },
      { name: 'cold', slots: 4, tags: ['cold'], env: { FARMBOY_WARM_HOSTS: '0' } },
    ]);
    const taskId = await createTask(hub, 'node', SOURCE);
    const events = new RunEvents(hub);
    await hub.watch({ statuses: ['assigned', 'succeeded', 'failed'], firstLine: false, lastLinePrefix: null });
    // An agent keeps warm hosts once it has run a node task; it then starts them one at a time.
    await measure(context, hub, events, taskId, 'warm', 1);
    await sleep(2_000);

    const warm = await measure(context, hub, events, taskId, 'warm', count);
    const cold = await measure(context, hub, events, taskId, 'cold', count);
    const nodeLimit = median(await nodeStarts(context.quick ? 5 : 30));
    context.log(`${count} warm and ${count} cold node runs`);

    const warmSummary = summarize(warm.fromRunNow);
    const coldSummary = summarize(cold.fromRunNow);
    const limit = { label: 'node -e 0, start to exit (p50)', value: nodeLimit };
    const agentPart = (summary: Summary) => `agent's part (assigned to user code): p50 ${summary.p50.toFixed(2)} ms, p95 ${summary.p95.toFixed(2)} ms`;
    return {
      figures: [
        {
          key: 'warm.p50',
          label: 'run now to task code, warm host, p50',
          unit: 'ms',
          value: warmSummary.p50,
          budget: { op: '<=', value: 15 },
          limit,
          summary: warmSummary,
          note: agentPart(summarize(warm.fromAssigned)),
        },
        { key: 'cold.p50', label: 'run now to task code, cold host, p50', unit: 'ms', value: coldSummary.p50, limit, summary: coldSummary, note: agentPart(summarize(cold.fromAssigned)) },
        { key: 'cold-over-warm', label: 'cold start over warm start, p50', unit: 'x', value: coldSummary.p50 / warmSummary.p50 },
      ],
      details: { warmFromAssignedMs: summarize(warm.fromAssigned), coldFromAssignedMs: summarize(cold.fromAssigned), nodeStartMs: nodeLimit },
    };
  },
};
