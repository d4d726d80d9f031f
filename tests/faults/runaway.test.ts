import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, createShellTask, onCleanup, startAgent, startAgents, startTestHub, tempDir, waitFor } from '../helpers/fleet.js';
import { killProcessesWith, processesWith, uniqueDurations } from '../helpers/processes.js';
import { startHubProcess } from './helpers/hub-process.js';

afterEach(cleanup);

/** A sleep no other process on the machine runs, so the test can find it. */
function uniqueSleep(): string {
  const [duration] = uniqueDurations(1);
  const command = `sleep ${duration}`;
  onCleanup(() => killProcessesWith(command));
  return command;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe('runaway tasks', () => {
  it('caps a million-line flood', { timeout: 180_000 }, async () => {
    const hub = await startHubProcess(await tempDir('flood'));
    await startAgent(hub.asHub(''), {
      name: 'flooded',
      hubUrl: `${hub.fingerprint === null ? 'http' : 'https'}://127.0.0.1:${hub.agentPort}`,
      env: { FARMBOY_MAX_RUN_LOG_BYTES: String(50 * 1024 * 1024) },
    });
    await waitFor(async () => (await hub.api<{ status: string }[]>('GET', '/api/agents')).body.some((agent) => agent.status === 'online'), 15_000, 'agent online');
    // A million lines of 100 bytes, 138 bytes each as stored: 2.6 times the agent's cap, set to 50 MiB per run here.
    const source = `awk 'BEGIN { pad = sprintf("%85s", ""); for (i = 1; i <= 1000000; i++) printf "line %07d %s\\n", i, pad }'\n`;
    const { id: taskId } = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'flood', runtime: 'shell', source })).body;

    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    const latencies: number[] = [];
    let run: Run | null = null;
    while (run === null) {
      const started = performance.now();
      const health = await hub.api<{ ok: boolean }>('GET', '/api/health');
      latencies.push(performance.now() - started);
      expect(health.status).toBe(200);
      const current = (await hub.api<Run>('GET', `/api/runs/${runId}`)).body;
      if (current.status !== 'queued' && current.status !== 'assigned' && current.status !== 'running') run = current;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const log = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body.split('\n').filter(Boolean);
    const numbers = log.flatMap((line) => /line (\d{7})/.exec(line)?.[1] ?? []).map(Number);
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `flood: ${numbers.length} lines kept, /api/health p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms over ${latencies.length} requests\n`,
    );

    expect(run.status).toBe('succeeded');
    expect(run.logTruncated).toBe(true);
    expect(numbers.length).toBeGreaterThan(350_000);
    expect(numbers.length).toBeLessThan(1_000_000);
    expect(numbers).toEqual(numbers.map((_, index) => index + 1));
    expect(log.at(-1)).toContain('[log truncated: the run');
  });

  it('ends a task that never ends', { timeout: 30_000 }, async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'patient' }]);
    const sleeper = uniqueSleep();
    const { id: taskId } = await createShellTask(hub, `${sleeper} &\nwait\n`);
    const job = (await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'bounded', taskId, timeoutSec: 1 })).body;

    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'timed_out' && hub.runs.get(runId), 20_000, 'run timed out');

    expect(run.error).toBe('timed out after 1 s');
    expect(processesWith(sleeper)).toEqual([]);
  });

  it('times a run out when its agent hangs', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 120_000, timeoutMarginMs: 1_000 } });
    const [agent] = await startAgents(hub, [{ name: 'frozen' }]);
    const sleeper = uniqueSleep();
    const { id: taskId } = await createShellTask(hub, `${sleeper} &\nwait\n`);
    const job = (await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'bounded', taskId, timeoutSec: 2 })).body;
    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 30_000, 'run started');

    agent?.process.kill('SIGSTOP');
    onCleanup(() => void agent?.process.kill('SIGCONT'));
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'timed_out' && hub.runs.get(runId), 20_000, 'run timed out by the hub');
    agent?.process.kill('SIGCONT');
    await waitFor(() => processesWith(sleeper).length === 0, 15_000, 'the agent enforcing the timeout once resumed');

    expect(run.error).toBe('the agent did not report the end of the run after its timeout');
    expect(hub.runs.get(runId)?.status).toBe('timed_out');
  });
});
