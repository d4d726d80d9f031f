/**
 * What it costs the hub to acknowledge agent events only once they are on
 * disk (`Store.persist`). Twenty writers, one per simulated agent, each
 * append a batch of 50 log lines to their own run, put the run record every
 * 10th batch (as a started or finished event does), and wait for the
 * acknowledgement, in three modes:
 *
 * - `memory`: acknowledge at once, as the hub did before (no durability);
 * - `write`: acknowledge after the output and run records are written to the OS;
 * - `fsync`: acknowledge after they are also fdatasync'ed (the hub's default).
 *
 * Usage: npx tsx bench/ack-cost.ts [--seconds 5]
 * Prints one JSON object with batches per second and acknowledgement latency percentiles per mode.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Run, StoredLogLine } from '../electron/hub/model.js';
import { openStore } from '../electron/hub/store/index.js';

type Mode = 'memory' | 'write' | 'fsync';

const WRITERS = 20;
const LINES_PER_BATCH = 50;

function runRecord(id: string, lastSeq: number): Run {
  return {
    id, jobId: 'job', jobName: 'job', taskId: 'task', taskVersion: 1, trigger: 'manual', config: {}, tags: [], timeoutSec: null,
    retryDelaySec: 0, status: 'running', attempt: 1, maxAttempts: 1, agentId: 'agent', previousAgentIds: [], exitCode: null,
    signal: null, error: null, progress: null, result: null, waitingReason: null, notBefore: null, agentOfflineSince: null,
    cancelRequestedAt: null, queuedAt: 1, startedAt: 1, finishedAt: null, lastSeq, logLines: 0, logBytes: 0, logTruncated: false, recordCount: 0,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(mode: Mode, seconds: number): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(path.join(tmpdir(), `farmboy-ack-${mode}-`));
  const store = await openStore(dir, { syncOutput: mode === 'fsync' });
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const lines: StoredLogLine[] = Array.from({ length: LINES_PER_BATCH }, (_, i) => ({ t: Date.now(), s: 'stdout', m: `line ${i} of a batch, about sixty bytes long ....` }));

  const writer = async (index: number): Promise<void> => {
    const runId = `run-${index}`;
    for (let seq = 1; performance.now() < deadline; seq += 1) {
      const started = performance.now();
      store.logs.appendLog(runId, lines, { attempt: 1, seq });
      if (seq % 10 === 1) store.runs.put(runRecord(runId, seq));
      if (mode === 'memory') await new Promise((resolve) => setImmediate(resolve));
      else await store.persist([runId]);
      latencies.push(performance.now() - started);
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index)));
  const elapsed = (performance.now() - began) / 1000;
  await store.close();
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return {
    mode,
    batchesPerSecond: Math.round(latencies.length / elapsed),
    linesPerSecond: Math.round((latencies.length * LINES_PER_BATCH) / elapsed),
    ackP50Ms: Number(percentile(latencies, 50).toFixed(2)),
    ackP99Ms: Number(percentile(latencies, 99).toFixed(2)),
  };
}

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);
const results = [];
for (const mode of ['memory', 'write', 'fsync'] as const) results.push(await measure(mode, seconds));
process.stdout.write(`${JSON.stringify({ writers: WRITERS, linesPerBatch: LINES_PER_BATCH, seconds, results }, null, 2)}\n`);
