import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatchBenchmark } from '../../bench/benchmarks/dispatch.js';
import { BENCHMARKS } from '../../bench/benchmarks/index.js';
import { buildForBench } from '../../bench/lib/build.js';
import type { BenchResult } from '../../bench/lib/report.js';
import { runBenchmark } from '../../bench/run.js';

// Timings are machine-dependent: these tests check that the benchmarks run and report, never how fast.
describe('benchmark harness', () => {
  let resultsDir = '';

  afterEach(async () => {
    if (resultsDir) await rm(resultsDir, { recursive: true, force: true });
  });

  it('names every benchmark once', () => {
    const names = BENCHMARKS.map((benchmark) => benchmark.name);

    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('dispatch');
  });

  it('runs the dispatch benchmark quickly', { timeout: 120_000 }, async () => {
    resultsDir = await mkdtemp(join(tmpdir(), 'farmboy-bench-results-'));
    await buildForBench({ skipProductBuild: true });

    const result = await runBenchmark(dispatchBenchmark, { quick: true, resultsDir, log: () => undefined });
    const written = JSON.parse(await readFile(join(resultsDir, 'dispatch.json'), 'utf8')) as BenchResult;

    expect(result.figures.map((figure) => figure.key)).toContain('started.p50');
    for (const figure of result.figures) expect(Number.isFinite(figure.value), figure.key).toBe(true);
    expect(written.name).toBe('dispatch');
    expect(written.quick).toBe(true);
    expect(written.figures).toHaveLength(result.figures.length);
  });
});
