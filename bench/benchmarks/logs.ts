/**
 * Log streaming, two ways. In the flood, one shell run writes 1,000,000
 * lines of 80 bytes as fast as awk can while a UI client watches it. The hub
 * must store every line, and the watcher must see the last one soon after.
 * In the steady load, 50 runs each write 1,000 lines per second. The hub's
 * CPU is sampled meanwhile, and a UI client watching one run counts pushes.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startAgentProcesses } from '../lib/agents.js';
import { sleep, waitUntil, type Benchmark, type BenchContext } from '../lib/context.js';
import { createTask, runTask, startHubProcess, type HubProcess } from '../lib/hub.js';
import { coreShare, sampleProcess } from '../lib/proc.js';
import type { Figure } from '../lib/report.js';
import { nowMs, wallMs } from '../lib/stats.js';
import { connectUi, maxPushesPerWindow, watchLog } from '../lib/ui-client.js';
import { RunEvents } from './dispatch.js';

const MARKER = 'last-line ';

/**
 * 80 bytes per line with its newline, then a marker with the time it was
 * written in ns. As the hub stores them (119 bytes a line), a million such
 * lines take 113 MiB, within the 128 MiB per-run cap.
 */
function floodScript(lines: number): string {
  return `awk 'BEGIN { for (i = 1; i <= ${lines}; i++) printf "%08d %070d\\n", i, 0 }'\necho "${MARKER}$(date +%s%N)"\n`;
}

/** Source of a node task that writes 100 lines to stdout every 100 ms, on a fixed clock, for `seconds`. */
const STEADY_SOURCE = `export default async (ctx: TaskContext) => {
  const seconds = Number(ctx.config.seconds);
  const batch = ('y'.repeat(79) + '\\n').repeat(100);
  const start = Date.now();
  for (let tick = 0; tick < seconds * 10; tick += 1) {
    process.stdout.write(batch);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + (tick + 1) * 100 - Date.now())));
  }
};
`;

/** Lines per second that this process reads from the same script through a pipe, doing nothing else with them. */
async function pipeLineRate(script: string): Promise<number> {
  const started = nowMs();
  let lines = 0;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/sh', [script], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (chunk: Buffer) => {
      for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) lines += 1;
    });
    child.once('error', reject);
    child.once('close', () => resolve());
  });
  return lines / ((nowMs() - started) / 1000);
}

/** Reads a run's whole log through the HTTP API and returns the lines and the time it took. */
async function readWholeLog(hub: HubProcess, runId: string): Promise<{ lines: number; ms: number }> {
  const started = nowMs();
  const response = await fetch(`${hub.uiUrl}/api/runs/${runId}/log?format=jsonl`, { headers: { authorization: `Bearer ${hub.adminToken}` } });
  let lines = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) lines += 1;
  }
  return { lines, ms: nowMs() - started };
}

export async function flood(context: BenchContext): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const lineCount = context.quick ? 20_000 : 1_000_000;
  const hub = await startHubProcess(context);
  await startAgentProcesses(context, hub, [{ name: 'flood', slots: 1, env: { FARMBOY_MAX_RUN_LOG_BYTES: String(256 * 1024 * 1024) } }]);
  const script = floodScript(lineCount);
  const taskId = await createTask(hub, 'shell', script);
  const events = new RunEvents(hub);
  await hub.watch({ statuses: ['running', 'succeeded', 'failed'], firstLine: false, lastLinePrefix: MARKER });
  const ui = await connectUi(context, hub);

  const runId = await runTask(hub, taskId);
  const watch = watchLog(ui, runId, MARKER, wallMs);
  await ui.request('runs.watch', { id: runId });
  const startedAt = await events.timeOf(runId, (message) => message.type === 'run' && message.status === 'running');
  const lastLineAt = await events.timeOf(runId, (message) => message.type === 'line' && message.kind === 'last', 600_000);
  const finishedAt = await events.timeOf(runId, (message) => message.type === 'run' && message.status === 'succeeded', 60_000);
  await waitUntil(() => watch.markerAt !== null, 60_000, 'the watcher to see the last line');
  watch.stop();
  const writtenAt = Number(BigInt(watch.markerLine?.slice(MARKER.length) ?? '0') / 1000n) / 1000;
  const run = await hub.api<{ logLines: number; logTruncated: boolean }>('GET', `/api/runs/${runId}`);
  const whole = await readWholeLog(hub, runId);
  if (run.body.logTruncated || whole.lines < lineCount + 1) throw new Error(`stored ${whole.lines} lines of ${lineCount + 1}, truncated: ${run.body.logTruncated}`);
  context.log(`flood: ${whole.lines} lines stored (${run.body.logLines} counted), watcher got ${watch.pushes.length} pushes`);

  const scratch = await context.tempDir('pipe');
  await writeFile(path.join(scratch, 'flood.sh'), script);
  const pipeRate = await pipeLineRate(path.join(scratch, 'flood.sh'));
  const ingestRate = (lineCount + 1) / (((lastLineAt ?? finishedAt) - startedAt) / 1000);
  return {
    figures: [
      {
        key: 'flood.lines-per-second',
        label: 'flood: lines per second from the run start until the hub applied the last line',
        unit: 'lines/s',
        value: ingestRate,
        budget: { op: '>=', value: 250_000 },
        limit: { label: 'lines per second read from the same script through a pipe', value: pipeRate },
      },
      {
        key: 'flood.watcher-after-end',
        label: 'flood: run final at the hub until a watching UI client received the last line',
        unit: 'ms',
        value: (watch.markerAt ?? Number.NaN) - finishedAt,
        budget: { op: '<=', value: 1_000 },
        note: 'negative: the line arrived before the final status',
      },
      { key: 'flood.watcher-after-write', label: 'flood: last line written by the task until the watcher received it', unit: 'ms', value: (watch.markerAt ?? Number.NaN) - writtenAt },
      { key: 'flood.watcher-pushes', label: 'flood: most log pushes to the watcher in one second', unit: 'pushes', value: maxPushesPerWindow(watch.pushes), budget: { op: '<=', value: 10 } },
      { key: 'flood.read-whole-log', label: 'flood: reading the whole log through the HTTP API', unit: 'ms', value: whole.ms },
    ],
    details: { lines: lineCount, storedLines: whole.lines, runSeconds: (finishedAt - startedAt) / 1000, finishedAfterLastLineMs: finishedAt - lastLineAt, watcherPushes: watch.pushes.length },
  };
}

export async function steady(context: BenchContext): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const runs = context.quick ? 4 : 50;
  const seconds = context.quick ? 6 : 25;
  const windowMs = context.quick ? 3_000 : 15_000;
  const hub = await startHubProcess(context);
  const slots = Math.ceil(runs / 2);
  // Cold task hosts: 50 warm ones would only add idle memory to a test of log traffic.
  await startAgentProcesses(context, hub, ['a', 'b'].map((name) => ({ name: `steady-${name}`, slots, env: { FARMBOY_WARM_HOSTS: '0' } })));
  const taskId = await createTask(hub, 'node', STEADY_SOURCE, { seconds });
  const events = new RunEvents(hub);
  await hub.watch({ statuses: ['running', 'succeeded', 'failed'], firstLine: false, lastLinePrefix: null });
  const ui = await connectUi(context, hub);

  const ids: string[] = [];
  for (let index = 0; index < runs; index += 1) ids.push(await runTask(hub, taskId));
  for (const id of ids) await events.timeOf(id, (message) => message.type === 'run' && message.status === 'running');
  const watched = ids[0] as string;
  const watch = watchLog(ui, watched, '\u0000', wallMs);
  await ui.request('runs.watch', { id: watched });
  await sleep(1_000);
  const before = sampleProcess(hub.pid);
  const windowStart = wallMs();
  await sleep(windowMs);
  const after = sampleProcess(hub.pid);
  const windowPushes = watch.pushes.filter((push) => push.at >= windowStart && push.at < windowStart + windowMs);
  for (const id of ids) await events.timeOf(id, (message) => message.type === 'run' && message.status !== 'running', 120_000);
  watch.stop();
  const stored = await Promise.all(ids.map(async (id) => (await hub.api<{ logLines: number }>('GET', `/api/runs/${id}`)).body.logLines));
  const expected = seconds * 1000;
  if (stored.some((count) => count < expected)) throw new Error(`runs stored fewer than ${expected} lines: ${stored.join(', ')}`);
  context.log(`steady: ${runs} runs of ${seconds} s, ${stored.reduce((sum, count) => sum + count, 0)} lines stored`);

  return {
    figures: [
      { key: 'steady.hub-cpu', label: `steady: hub CPU with ${runs} runs writing 1,000 lines per second each, share of one core`, unit: '%', value: coreShare(before, after) * 100, budget: { op: '<=', value: 50 } },
      { key: 'steady.watcher-pushes', label: 'steady: log pushes per second to a client watching one run (most in one second)', unit: 'pushes', value: maxPushesPerWindow(windowPushes), budget: { op: '<=', value: 10 } },
    ],
    details: { runs, seconds, windowMs, pushesInWindow: windowPushes.length, linesInWindowPushes: windowPushes.reduce((sum, push) => sum + push.lines, 0) },
  };
}

export const logsBenchmark: Benchmark = {
  name: 'logs',
  title: 'log streaming: a million-line flood with a watcher, and 50 runs at 1,000 lines per second',
  async run(context) {
    const flooded = await flood(context);
    const steadied = await steady(context);
    return { figures: [...flooded.figures, ...steadied.figures], details: { flood: flooded.details, steady: steadied.details } };
  },
};
