/**
 * Dispatch latency: "run now" through the HTTP API until the hub has the
 * agent's report that the shell task's process started, one run at a time
 * on an idle agent. Read against a bare spawn of the same script.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startAgentProcesses } from '../lib/agents.js';
import { sleep, type Benchmark } from '../lib/context.js';
import { createTask, runTask, startHubProcess, type HubProcess } from '../lib/hub.js';
import type { HubHostMessage } from '../lib/hub-host-protocol.js';
import { socketIoRoundTrips, spawnSamples, tcpRoundTrips } from '../lib/limits.js';
import { median, summarize, wallMs } from '../lib/stats.js';

const SCRIPT = 'echo dispatched\n';

/** Collects the hub's messages per run, so a run's events are found even when they arrive before the API's reply. */
export class RunEvents {
  private readonly events = new Map<string, HubHostMessage[]>();
  private readonly waiters = new Set<() => void>();

  constructor(hub: HubProcess) {
    hub.onMessage((message) => {
      if (message.type !== 'run' && message.type !== 'line') return;
      const list = this.events.get(message.runId) ?? [];
      list.push(message);
      this.events.set(message.runId, list);
      for (const wake of this.waiters) wake();
    });
  }

  /** Resolves with the time of the first message of `runId` that matches, waiting up to `timeoutMs`. */
  async timeOf(runId: string, matches: (message: HubHostMessage) => boolean, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.get(runId)?.find(matches);
      if (found && (found.type === 'run' || found.type === 'line')) return found.at;
      if (Date.now() > deadline) throw new Error(`run ${runId}: no matching hub event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 100);
        this.waiters.add(wake);
      });
    }
  }

  forget(runId: string): void {
    this.events.delete(runId);
  }
}

const isStatus = (status: string) => (message: HubHostMessage) => message.type === 'run' && message.status === status;
const isFirstLine = (message: HubHostMessage) => message.type === 'line' && message.kind === 'first';

export const dispatchBenchmark: Benchmark = {
  name: 'dispatch',
  title: 'dispatch latency: run now through the HTTP API until the agent reports the shell task started',
  async run(context) {
    const count = context.quick ? 10 : 300;
    const hub = await startHubProcess(context);
    await startAgentProcesses(context, hub, [{ name: 'idle', slots: 4 }]);
    const taskId = await createTask(hub, 'shell', SCRIPT);
    const events = new RunEvents(hub);
    await hub.watch({ statuses: ['queued', 'assigned', 'running', 'succeeded', 'failed'], firstLine: true, lastLinePrefix: null });

    const started: number[] = [];
    const firstLine: number[] = [];
    const stages: Record<'queued' | 'assigned' | 'started', number[]> = { queued: [], assigned: [], started: [] };
    for (let index = 0; index < count; index += 1) {
      const triggeredAt = wallMs();
      const runId = await runTask(hub, taskId);
      const queuedAt = await events.timeOf(runId, isStatus('queued'));
      const assignedAt = await events.timeOf(runId, isStatus('assigned'));
      const startedAt = await events.timeOf(runId, isStatus('running'));
      started.push(startedAt - triggeredAt);
      stages.queued.push(queuedAt - triggeredAt);
      stages.assigned.push(assignedAt - queuedAt);
      stages.started.push(startedAt - assignedAt);
      firstLine.push((await events.timeOf(runId, isFirstLine)) - triggeredAt);
      await events.timeOf(runId, isStatus('succeeded'));
      events.forget(runId);
      // Let the agent settle, so each run meets an idle agent.
      await sleep(20);
    }
    context.log(`${count} runs dispatched`);

    const scratch = await context.tempDir('spawn');
    const script = path.join(scratch, 'task.sh');
    await writeFile(script, SCRIPT, { mode: 0o700 });
    const bare = await spawnSamples(count, '/bin/sh', [script], scratch);
    const bareReap = bare.map((sample) => sample.reapMs);
    const bareStart = bare.map((sample) => sample.startMs);
    const tcp = await tcpRoundTrips(context.quick ? 20 : 1000);
    const socketIo = await socketIoRoundTrips(context.quick ? 20 : 1000);

    const startedSummary = summarize(started);
    const limit = { label: 'bare spawn of /bin/sh task.sh, start and reap (p50)', value: median(bareReap) };
    return {
      figures: [
        { key: 'started.p50', label: 'run now to task started, p50', unit: 'ms', value: startedSummary.p50, budget: { op: '<=', value: 5 }, limit, summary: startedSummary },
        { key: 'started.p99', label: 'run now to task started, p99', unit: 'ms', value: startedSummary.p99, budget: { op: '<=', value: 20 }, limit },
        {
          key: 'started.vs-spawn',
          label: 'run now to task started, p50, in bare spawns',
          unit: 'x',
          value: startedSummary.p50 / limit.value,
          budget: { op: '<=', value: 3 },
        },
        { key: 'first-line.p50', label: 'run now to first output line at the hub, p50', unit: 'ms', value: median(firstLine), summary: summarize(firstLine) },
      ],
      details: {
        // Where the time goes, p50 of each step: API request until queued, queued until assigned (placement), assigned until the agent's started report is applied.
        stagesMs: { requestToQueued: summarize(stages.queued), queuedToAssigned: summarize(stages.assigned), assignedToStarted: summarize(stages.started) },
        bareSpawnReapMs: summarize(bareReap),
        bareSpawnStartMs: summarize(bareStart),
        tcpRoundTripMs: summarize(tcp),
        socketIoRoundTripMs: summarize(socketIo),
      },
    };
  },
};
