/**
 * Runs Farmboy's benchmarks: `npm run bench` for all of them, `npm run
 * bench -- NAME...` for some. Each prints its figures with their budgets
 * and physical limits and writes bench/results/NAME.json.
 *
 * Options: --quick (a tiny version of each measurement, to check that it
 * runs), --no-build (use the agent and hub as last built), --list.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCHMARKS } from './benchmarks/index.js';
import { buildForBench } from './lib/build.js';
import { CleanupStack, createContext, type Benchmark } from './lib/context.js';
import { formatResult, readMachine, writeResult, type BenchResult } from './lib/report.js';

export const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));

/** Cleanup of the benchmark in progress, unwound by the signal handler when the runner is interrupted. */
let activeCleanup: CleanupStack | null = null;

export interface RunOptions {
  quick: boolean;
  resultsDir: string;
  log?: (message: string) => void;
}

/** Runs one benchmark with its own cleanup stack, writes its result file and returns the result. */
export async function runBenchmark(benchmark: Benchmark, options: RunOptions): Promise<BenchResult> {
  const log = options.log ?? ((message: string) => process.stdout.write(`  . ${message}\n`));
  const cleanup = new CleanupStack();
  activeCleanup = cleanup;
  const startedAt = new Date();
  const loadBefore = os.loadavg()[0] ?? 0;
  const started = performance.now();
  let output;
  try {
    output = await benchmark.run(createContext(options.quick, cleanup, log));
  } finally {
    await cleanup.unwind((error) => log(`cleanup step failed: ${error instanceof Error ? error.message : String(error)}`));
    activeCleanup = null;
  }
  const result: BenchResult = {
    name: benchmark.name,
    title: benchmark.title,
    quick: options.quick,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - started,
    machine: readMachine(),
    load: { before: loadBefore, after: os.loadavg()[0] ?? 0 },
    figures: output.figures,
    details: output.details ?? {},
  };
  await writeResult(options.resultsDir, result);
  return result;
}

function selectBenchmarks(names: string[]): Benchmark[] {
  if (names.length === 0 || (names.length === 1 && names[0] === 'all')) return BENCHMARKS;
  return names.map((name) => {
    const benchmark = BENCHMARKS.find((entry) => entry.name === name);
    if (!benchmark) throw new Error(`unknown benchmark "${name}"; known: ${BENCHMARKS.map((entry) => entry.name).join(', ')}`);
    return benchmark;
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { quick: { type: 'boolean', default: false }, 'no-build': { type: 'boolean', default: false }, list: { type: 'boolean', default: false } },
  });
  if (values.list) {
    for (const benchmark of BENCHMARKS) process.stdout.write(`${benchmark.name.padEnd(16)} ${benchmark.title}\n`);
    return 0;
  }
  const selected = selectBenchmarks(positionals);
  await buildForBench({ skipProductBuild: values['no-build'] || process.env.FARMBOY_SKIP_BUILD === '1' });
  const machine = readMachine();
  process.stdout.write(`machine: ${machine.cpus} CPUs, ${machine.cpuModel}, Node ${machine.node}, load average ${os.loadavg()[0]?.toFixed(2)}\n\n`);

  let failed = 0;
  for (const benchmark of selected) {
    process.stdout.write(`${benchmark.name}: running\n`);
    try {
      const result = await runBenchmark(benchmark, { quick: values.quick, resultsDir: RESULTS_DIR });
      process.stdout.write(`${formatResult(result)}\n  written to ${path.relative(process.cwd(), path.join(RESULTS_DIR, `${benchmark.name}.json`))}\n\n`);
    } catch (error: unknown) {
      failed += 1;
      process.stdout.write(`${benchmark.name}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    process.stdout.write(`\n${signal}: stopping the processes of the benchmark in progress\n`);
    const unwound = activeCleanup?.unwind(() => undefined) ?? Promise.resolve();
    void unwound.finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  process.exitCode = await main();
}
