/**
 * History: a store with 100,000 runs against one with 1,000. Measured are
 * the cost of recording a state change, on the store itself, and a hub
 * restart on the large store until it is ready. Then come filtered pages
 * through the HTTP API and the store's size on disk.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Benchmark, BenchContext } from '../lib/context.js';
import { JOBS, buildHistory, makeRun, agentId } from '../lib/history.js';
import { startHubProcess } from '../lib/hub.js';
import { MB } from '../lib/proc.js';
import { median, nowMs, summarize, wallMs } from '../lib/stats.js';
import { openStore } from '../../electron/hub/store/index.js';
import type { Run } from '../../electron/hub/model.js';

/** State changes per measured round: new runs put as queued, running and succeeded. */
const RUNS_PER_ROUND = 500;

/**
 * Times rounds of state changes on the store in `dataDir`: in memory (put)
 * and with the write to disk that follows (put and flush), per state change.
 */
async function stateChangeCost(dataDir: string, rounds: number): Promise<{ putUs: number[]; storedUs: number[] }> {
  const store = await openStore(dataDir);
  const putUs: number[] = [];
  const storedUs: number[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      const runs = Array.from({ length: RUNS_PER_ROUND }, (_, index) => makeRun(index, Date.now()));
      const started = nowMs();
      for (const [index, run] of runs.entries()) {
        store.runs.put(run);
        const running: Run = { ...run, status: 'running', agentId: agentId(index), startedAt: Date.now() };
        store.runs.put(running);
        store.runs.put({ ...running, status: 'succeeded', exitCode: 0, finishedAt: Date.now() });
      }
      const put = nowMs();
      await store.persist([]);
      const changes = RUNS_PER_ROUND * 3;
      putUs.push(((put - started) * 1000) / changes);
      storedUs.push(((nowMs() - started) * 1000) / changes);
    }
  } finally {
    await store.close();
  }
  return { putUs, storedUs };
}

/** Reads every run segment and parses every line: the least work a restart must do. */
async function parseSegments(dataDir: string): Promise<number> {
  const started = nowMs();
  const dir = path.join(dataDir, 'runs');
  for (const name of await readdir(dir)) {
    for (const line of (await readFile(path.join(dir, name), 'utf8')).split('\n')) if (line) JSON.parse(line);
  }
  return nowMs() - started;
}

/** Bytes of the files under `dir` (`du -sb`), in MB. */
function diskMb(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]) / MB;
}

/** Space the file system allocated for them (`du -sk`), in MB: each small file takes at least one block. */
function allocatedMb(dir: string): number {
  return (Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024) / MB;
}

/** Starts a hub on the store and returns the time from spawn until it reported ready. */
async function restart(context: BenchContext, dataDir: string): Promise<number> {
  const spawnedAt = wallMs();
  const hub = await startHubProcess(context, { dataDir, readyTimeoutMs: 120_000 });
  const ready = hub.readyAt - spawnedAt;
  await hub.stop();
  return ready;
}

async function pageTimes(context: BenchContext, dataDir: string, repeat: number): Promise<Record<string, number[]>> {
  const hub = await startHubProcess(context, { dataDir, readyTimeoutMs: 120_000 });
  const first = await hub.api<Array<{ id: string }>>('GET', '/api/runs?jobId=job-7&limit=100');
  const cursor = first.body[Math.min(50, first.body.length - 1)]?.id ?? '';
  const queries: Record<string, string> = {
    'job and status': `/api/runs?jobId=job-${JOBS - 3}&status=failed&limit=100`,
    status: '/api/runs?status=timed_out&limit=100',
    agent: '/api/runs?agentId=agent-3&limit=100',
    'job, next page': `/api/runs?jobId=job-7&limit=100&before=${cursor}`,
    'no filter': '/api/runs?limit=100',
  };
  const times: Record<string, number[]> = {};
  for (const [name, route] of Object.entries(queries)) {
    times[name] = [];
    for (let index = 0; index < repeat; index += 1) {
      const started = nowMs();
      const response = await hub.api<unknown[]>('GET', route);
      if (response.status !== 200) throw new Error(`${route}: HTTP ${response.status}`);
      times[name].push(nowMs() - started);
    }
  }
  await hub.stop();
  return times;
}

export const historyBenchmark: Benchmark = {
  name: 'history',
  title: 'history: state changes, restart, filtered pages and disk size with 100,000 runs stored',
  async run(context) {
    const large = context.quick ? 3_000 : 100_000;
    const small = context.quick ? 300 : 1_000;
    const smallDir = path.join(await context.tempDir('history-small'), 'data');
    const largeDir = path.join(await context.tempDir('history-large'), 'data');
    await buildHistory(smallDir, small, () => undefined);
    const buildStart = nowMs();
    await buildHistory(largeDir, large, (done) => done % 20_000 === 0 && context.log(`${done} runs written`));
    context.log(`history of ${large} runs built in ${((nowMs() - buildStart) / 1000).toFixed(0)} s`);

    const rounds = context.quick ? 3 : 11;
    const smallCost = await stateChangeCost(smallDir, rounds);
    const largeCost = await stateChangeCost(largeDir, rounds);
    const restarts = context.quick ? 1 : 5;
    const restartMs: number[] = [];
    for (let index = 0; index < restarts; index += 1) restartMs.push(await restart(context, largeDir));
    const smallRestart = await restart(context, smallDir);
    const parseMs = await parseSegments(largeDir);
    const pages = await pageTimes(context, largeDir, context.quick ? 5 : 30);
    const slowest = Math.max(...Object.values(pages).map((times) => median(times)));
    const allPages = summarize(Object.values(pages).flat());

    const storedRatio = median(largeCost.storedUs) / median(smallCost.storedUs);
    return {
      figures: [
        {
          key: 'state-change.ratio',
          label: `cost of a stored state change with ${large.toLocaleString('en-US')} runs over ${small.toLocaleString('en-US')} runs (put and write, median)`,
          unit: 'x',
          value: storedRatio,
          budget: { op: '<=', value: 1.5 },
          note: `per state change: ${median(smallCost.storedUs).toFixed(1)} µs with ${small} runs, ${median(largeCost.storedUs).toFixed(1)} µs with ${large}; in memory alone ${median(smallCost.putUs).toFixed(1)} and ${median(largeCost.putUs).toFixed(1)} µs`,
        },
        {
          key: 'restart',
          label: `hub restart on ${large.toLocaleString('en-US')} runs, process start until ready (median)`,
          unit: 'ms',
          value: median(restartMs),
          budget: { op: '<=', value: 2_000 },
          limit: { label: 'reading the run segments and parsing every line', value: parseMs },
          summary: summarize(restartMs),
          note: `with ${small} runs: ${smallRestart.toFixed(0)} ms`,
        },
        { key: 'page.slowest-p50', label: 'filtered page of 100 runs through the HTTP API, slowest filter (median)', unit: 'ms', value: slowest, budget: { op: '<=', value: 50 }, summary: allPages },
        {
          key: 'disk.total',
          label: `store size on disk with ${large.toLocaleString('en-US')} runs (file contents)`,
          unit: 'MB',
          value: diskMb(largeDir),
          note: `run records ${diskMb(path.join(largeDir, 'runs')).toFixed(1)} MB, output segments ${diskMb(path.join(largeDir, 'output')).toFixed(1)} MB; blocks allocated ${allocatedMb(largeDir).toFixed(0)} MB`,
        },
      ],
      details: {
        stateChangeUs: { small: { put: summarize(smallCost.putUs), stored: summarize(smallCost.storedUs) }, large: { put: summarize(largeCost.putUs), stored: summarize(largeCost.storedUs) } },
        restartMs,
        pagesMs: Object.fromEntries(Object.entries(pages).map(([name, times]) => [name, summarize(times)])),
      },
    };
  },
};
