/**
 * Soak: a hub and 20 agents on loopback for several minutes, several runs a
 * second, while agents are killed with SIGKILL and restarted, connections are
 * cut through proxies, and some tasks fail. At the end every run must be
 * final, and every stored log must hold each line its task printed exactly
 * once.
 *
 * Usage: npx tsx bench/soak.ts [--minutes 10] [--agents 20] [--rate 4] [--seed 1]
 * Writes bench/results/soak.json and exits 1 when a check fails.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Run } from '../electron/hub/model.js';
import { buildForBench } from './lib/build.js';
import type { Benchmark, BenchContext, BenchOutput } from './lib/context.js';
import type { Figure } from './lib/report.js';
import { audit, listRuns, type AuditResult } from './soak/audit.js';
import { Chaos } from './soak/chaos.js';
import { residentBytes, SoakAgent, startHub, type SoakHub } from './soak/fleet.js';

export interface SoakOptions {
  minutes: number;
  agents: number;
  /** Runs triggered per second. */
  rate: number;
  seed: number;
}

/** One shell task for every job: the job's config sets how many lines, how fast, and whether it fails. */
const TASK_SOURCE = `num() { printf '%s' "$FARMBOY_CONFIG" | sed -n "s/.*\\"$1\\":\\([0-9.]*\\).*/\\1/p"; }
lines=$(num lines); burst=$(num burst); pause=$(num pause); fail=$(num fail)
i=1
while [ "$i" -le "$lines" ]; do
  echo "soak $FARMBOY_RUN_ID attempt $FARMBOY_ATTEMPT line $i"
  if [ $((i % burst)) -eq 0 ]; then sleep "$pause"; fi
  i=$((i + 1))
done
if [ "$fail" = 2 ]; then exit 3; fi
if [ "$fail" = 1 ] && [ "$FARMBOY_ATTEMPT" = 1 ]; then exit 1; fi
`;

/** Jobs and their share of the triggered runs; `fail` 1 fails the first attempt, 2 every attempt. */
const JOBS = [
  { name: 'short', share: 0.3, retries: 2, config: { lines: 20, burst: 10, pause: 0.05, fail: 0 } },
  { name: 'medium', share: 0.3, retries: 2, config: { lines: 200, burst: 10, pause: 0.05, fail: 0 } },
  { name: 'long', share: 0.15, retries: 2, config: { lines: 600, burst: 20, pause: 0.1, fail: 0 } },
  { name: 'flaky', share: 0.15, retries: 2, config: { lines: 100, burst: 10, pause: 0.05, fail: 1 } },
  { name: 'broken', share: 0.1, retries: 1, config: { lines: 50, burst: 10, pause: 0.05, fail: 2 } },
];

/** Hub grace period: agents killed for less come back to their runs, the others' runs are lost and retried. */
const GRACE_SEC = 5;

/** A small deterministic generator (mulberry32), so a seed replays the same faults in the same order. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface MemorySample {
  hubBytes: number | null;
  agentsBytes: number[];
}

function sampleMemory(hub: SoakHub, agents: SoakAgent[]): MemorySample {
  const agentsBytes = agents.map((agent) => residentBytes(agent.pid)).filter((bytes): bytes is number => bytes !== null);
  return { hubBytes: residentBytes(hub.process.pid), agentsBytes };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

async function setUp(context: BenchContext, options: SoakOptions): Promise<{ hub: SoakHub; agents: SoakAgent[]; jobIds: string[] }> {
  const root = await context.tempDir('soak');
  const hub = await startHub(path.join(root, 'hub'), path.join(root, 'hub.log'));
  context.defer(() => hub.stop());
  await hub.api('PATCH', '/api/settings', { agentGraceSec: GRACE_SEC });
  const agents: SoakAgent[] = [];
  for (let index = 0; index < options.agents; index += 1) {
    const name = `soak-${String(index + 1).padStart(2, '0')}`;
    const agent = await SoakAgent.create(name, path.join(root, name), hub, path.join(root, `${name}.log`));
    context.defer(() => agent.close());
    agent.start();
    agents.push(agent);
  }
  const online = await waitUntil(async () => (await hub.api<{ status: string }[]>('GET', '/api/agents')).body.filter((agent) => agent.status === 'online').length === options.agents, 60_000);
  if (!online) throw new Error(`not every agent came online; their logs are in ${root}`);
  const task = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'soak', runtime: 'shell', source: TASK_SOURCE })).body;
  const jobIds: string[] = [];
  for (const job of JOBS) {
    const body = { name: job.name, taskId: task.id, config: job.config, retries: job.retries, retryDelaySec: 0, overlap: 'parallel', maxParallel: 1000, timeoutSec: 120 };
    jobIds.push((await hub.api<{ id: string }>('POST', '/api/jobs', body)).body.id);
  }
  context.log(`hub and ${options.agents} agents up; data and logs in ${root}`);
  return { hub, agents, jobIds };
}

/** Triggers runs at the given rate until `until`, picking jobs by their share. */
async function trigger(hub: SoakHub, jobIds: string[], options: SoakOptions, random: () => number, until: number): Promise<number> {
  let triggered = 0;
  const interval = 1000 / options.rate;
  let next = Date.now();
  while (Date.now() < until) {
    let pick = random();
    const index = JOBS.findIndex((job) => (pick -= job.share) < 0);
    const jobId = jobIds[index === -1 ? 0 : index] as string;
    const response = await hub.api('POST', `/api/jobs/${jobId}/runs`);
    if (response.status === 201) triggered += 1;
    next += interval;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  return triggered;
}

export async function runSoak(context: BenchContext, options: SoakOptions): Promise<BenchOutput> {
  const random = seededRandom(options.seed);
  const { hub, agents, jobIds } = await setUp(context, options);
  const memoryStart = sampleMemory(hub, agents);
  const busyAgents = async () => (await hub.api<{ name: string; running: number }[]>('GET', '/api/agents')).body.filter((agent) => agent.running > 0).map((agent) => agent.name);
  const chaos = new Chaos(agents, {
    killEveryMs: 15_000,
    cutEveryMs: 10_000,
    downMs: [500, 2 * GRACE_SEC * 1000],
    cutMs: [1_000, 8_000],
    random,
    log: context.log,
    busyAgents,
  });

  const started = Date.now();
  chaos.start();
  const triggered = await trigger(hub, jobIds, options, random, started + options.minutes * 60_000);
  await chaos.stop();
  context.log(`triggered ${triggered} runs; faults: ${JSON.stringify(chaos.counts)}; waiting for every run to end`);
  const settled = await waitUntil(async () => {
    const active = (await hub.api<Run[]>('GET', '/api/runs?limit=1000')).body.filter((run) => !['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'].includes(run.status));
    return active.length === 0;
  }, 180_000);
  const memoryEnd = sampleMemory(hub, agents);
  const runs = await listRuns(hub);
  const result = await audit(hub, runs);
  return report(options, { triggered, settled, result, chaos: chaos.counts, memoryStart, memoryEnd, seconds: (Date.now() - started) / 1000 });
}

interface SoakFacts {
  triggered: number;
  settled: boolean;
  result: AuditResult;
  chaos: Chaos['counts'];
  memoryStart: MemorySample;
  memoryEnd: MemorySample;
  seconds: number;
}

function megabytes(bytes: number | null | undefined): number {
  return bytes === null || bytes === undefined ? Number.NaN : bytes / (1024 * 1024);
}

function report(options: SoakOptions, facts: SoakFacts): BenchOutput {
  const { result } = facts;
  const agentMean = (sample: MemorySample) => sample.agentsBytes.reduce((sum, bytes) => sum + bytes, 0) / Math.max(1, sample.agentsBytes.length);
  const figures: Figure[] = [
    { key: 'runs-started', label: 'runs triggered', unit: 'runs', value: facts.triggered },
    { key: 'runs-finished', label: 'runs with a final status', unit: 'runs', value: Object.entries(result.byStatus).filter(([status]) => ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'].includes(status)).reduce((sum, [, count]) => sum + count, 0) },
    { key: 'attempts-lost', label: 'attempts lost with their agent', unit: 'attempts', value: result.lostAttempts },
    { key: 'runs-lost', label: 'runs lost for good (retries used up)', unit: 'runs', value: result.lostRuns },
    { key: 'retries', label: 'retries (attempts after the first)', unit: 'attempts', value: result.retries },
    { key: 'duplicated-lines', label: 'log lines stored twice', unit: 'lines', value: result.duplicatedLines, budget: { op: '<=', value: 0 } },
    { key: 'lines-expected', label: 'log lines printed by final attempts', unit: 'lines', value: result.expectedLines },
    { key: 'lines-stored', label: 'log lines stored for final attempts', unit: 'lines', value: result.storedLines, budget: { op: '>=', value: result.expectedLines } },
    { key: 'incomplete-runs', label: 'finished runs with a missing or misplaced line', unit: 'runs', value: result.incompleteRuns.length, budget: { op: '<=', value: 0 } },
    { key: 'hub-rss-start', label: 'hub resident memory at start', unit: 'MiB', value: megabytes(facts.memoryStart.hubBytes) },
    { key: 'hub-rss-end', label: 'hub resident memory at end', unit: 'MiB', value: megabytes(facts.memoryEnd.hubBytes) },
    { key: 'agent-rss-start', label: 'agent resident memory at start, mean', unit: 'MiB', value: megabytes(agentMean(facts.memoryStart)) },
    { key: 'agent-rss-end', label: 'agent resident memory at end, mean', unit: 'MiB', value: megabytes(agentMean(facts.memoryEnd)) },
  ];
  const details = {
    options,
    seconds: facts.seconds,
    allFinal: facts.settled,
    runsStored: result.runsStored,
    byStatus: result.byStatus,
    faults: facts.chaos,
    foreignLines: result.foreignLines,
    incompleteRuns: result.incompleteRuns.slice(0, 20),
    agentRssMaxStartMiB: megabytes(Math.max(...facts.memoryStart.agentsBytes)),
    agentRssMaxEndMiB: megabytes(Math.max(...facts.memoryEnd.agentsBytes)),
  };
  return { figures, details };
}

/** The soak as a benchmark of `npm run bench`: ten minutes, or one in quick mode. */
export const soakBenchmark: Benchmark = {
  name: 'soak',
  title: 'soak: 20 agents, 4 runs/s, agent kills, connection cuts and failing tasks',
  run: (context) => runSoak(context, { minutes: context.quick ? 1 : 10, agents: 20, rate: 4, seed: 1 }),
};

/** Returns whether the soak passed its checks: no duplicate, no missing line, every run final. */
export function soakPassed(output: BenchOutput): boolean {
  const value = (key: string) => output.figures.find((figure) => figure.key === key)?.value;
  return value('duplicated-lines') === 0 && value('incomplete-runs') === 0 && value('lines-expected') === value('lines-stored') && output.details?.allFinal === true;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      agents: { type: 'string', default: '20' },
      rate: { type: 'string', default: '4' },
      seed: { type: 'string', default: '1' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const options: SoakOptions = { minutes: Number(values.minutes), agents: Number(values.agents), rate: Number(values.rate), seed: Number(values.seed) };
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a number above 0, got ${String(value)}`);
  }
  await buildForBench({ skipProductBuild: values['no-build'] || process.env.FARMBOY_SKIP_BUILD === '1' });
  const { runBenchmark, RESULTS_DIR } = await import('./run.js');
  const { formatResult } = await import('./lib/report.js');
  process.stdout.write(`soak: ${options.minutes} min, ${options.agents} agents, ${options.rate} runs/s, ${os.availableParallelism()} CPUs\n`);
  let output: BenchOutput | null = null;
  const benchmark: Benchmark = { ...soakBenchmark, run: async (context) => (output = await runSoak(context, options)) };
  const result = await runBenchmark(benchmark, { quick: options.minutes < 10, resultsDir: RESULTS_DIR });
  process.stdout.write(`${formatResult(result)}\n${JSON.stringify(result.details, null, 2)}\n`);
  return output !== null && soakPassed(output) ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = await main();
}
