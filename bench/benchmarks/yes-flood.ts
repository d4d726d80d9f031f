/**
 * The cost of one run of `timeout N yes`. It measures the bytes the hub
 * stores and how long the run stays `running` after the task ended, while
 * the agent's backlog drains. It also samples the agent's peak resident
 * memory, and times `/api/health` while a client downloads the whole log.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LIMITS } from 'farmboy-agent/protocol';
import { storedOutputBytes } from '../../tests/store/helpers.js';
import { startAgentProcesses } from '../lib/agents.js';
import { sleep, waitUntil, type Benchmark } from '../lib/context.js';
import { createTask, runTask, type HubProcess, startHubProcess } from '../lib/hub.js';
import { MB, sampleProcess } from '../lib/proc.js';
import type { Figure } from '../lib/report.js';
import { nowMs, summarize, wallMs, type Summary } from '../lib/stats.js';

interface RunView {
  status: string;
  finishedAt: number | null;
  logBytes: number;
  logLines: number;
}

/** Times `/api/health` every `intervalMs` until `done` resolves. */
async function healthLatencies(hub: HubProcess, done: Promise<unknown>, intervalMs: number): Promise<number[]> {
  let finished = false;
  void done.finally(() => (finished = true));
  const samples: number[] = [];
  while (!finished) {
    const started = nowMs();
    await hub.api('GET', '/api/health');
    samples.push(nowMs() - started);
    await sleep(intervalMs);
  }
  return samples;
}

/** Reads a run's whole log as text and returns its size in bytes. */
async function downloadLog(hub: HubProcess, runId: string): Promise<number> {
  const response = await fetch(`${hub.uiUrl}/api/runs/${runId}/log`, { headers: { authorization: `Bearer ${hub.adminToken}` } });
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) bytes += chunk.length;
  return bytes;
}

function latencyFigure(key: string, label: string, summary: Summary): Figure {
  return { key, label, unit: 'ms', value: summary.p99, summary };
}

export const yesFloodBenchmark: Benchmark = {
  name: 'yes-flood',
  title: 'yes flood: stored bytes, drain time, agent memory and hub latency of one flooding run',
  async run(context) {
    const seconds = context.quick ? 5 : 60;
    const dir = await context.tempDir('yes-flood');
    const endedFile = path.join(dir, 'ended');
    const hub = await startHubProcess(context);
    const [agent] = await startAgentProcesses(context, hub, [{ name: 'yes', slots: 1 }]);
    if (agent === undefined) throw new Error('agent did not start');
    const baseline = await healthLatencies(hub, sleep(2_000), 50);
    // The task notes when `yes` ended, so the drain is measured from the task's end, not the agent's report.
    const taskId = await createTask(hub, 'shell', `timeout ${seconds} yes\nnode -e 'process.stdout.write(String(Date.now()))' > ${endedFile}\n`);

    const runId = await runTask(hub, taskId);
    let peakRss = 0;
    let run: RunView | null = null;
    await waitUntil(async () => {
      peakRss = Math.max(peakRss, sampleProcess(agent.pid).rssBytes);
      run = (await hub.api<RunView>('GET', `/api/runs/${runId}`)).body;
      return run.finishedAt !== null;
    }, (seconds + 600) * 1000, 'run finished', 250);
    const final = run as unknown as RunView;
    const endedAt = Number(await readFile(endedFile, 'utf8'));
    const storedBytes = await storedOutputBytes(hub.dataDir, runId, 'l');

    const started = wallMs();
    const download = downloadLog(hub, runId);
    const during = await healthLatencies(hub, download, 50);
    const downloadedBytes = await download;
    const downloadMs = wallMs() - started;
    context.log(`stored ${(storedBytes / MB).toFixed(1)} MB for ${final.logLines} lines; drain ${((final.finishedAt ?? 0) - endedAt).toFixed(0)} ms`);
    return {
      figures: [
        // The per-run cap counts what the hub stores, and the hub's own lines may pass it by a few hundred bytes.
        { key: 'stored-bytes', label: `bytes stored by the hub for ${seconds} s of yes (the per-run cap)`, unit: 'MB', value: storedBytes / MB, budget: { op: '<=', value: LIMITS.maxRunLogBytes / MB + 0.1 } },
        { key: 'log-bytes', label: 'the run\'s logBytes (message bytes only)', unit: 'MB', value: final.logBytes / MB },
        { key: 'drain-ms', label: 'run still running after its task ended', unit: 'ms', value: (final.finishedAt ?? 0) - endedAt },
        { key: 'agent-peak-rss', label: 'agent peak resident memory during the run', unit: 'MB', value: peakRss / MB, budget: { op: '<=', value: 150 } },
        latencyFigure('health-idle', '/api/health latency, idle hub (p99)', summarize(baseline)),
        latencyFigure('health-download', '/api/health latency during the whole log download (p99)', summarize(during)),
        { key: 'download-rate', label: 'log download rate (text format)', unit: 'MB/s', value: downloadedBytes / MB / (downloadMs / 1000) },
      ],
      details: { seconds, logLines: final.logLines, status: final.status, downloadedBytes, downloadMs, healthDuring: during.length },
    };
  },
};
