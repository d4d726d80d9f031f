/**
 * The context a benchmark runs in: quick mode, progress output and a stack
 * of cleanup steps that the runner unwinds after the benchmark, whether it
 * finished or threw.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Figure } from './report.js';

export interface BenchContext {
  /** A tiny version of every measurement, to check that the benchmark still runs. */
  readonly quick: boolean;
  /** Prints a progress line. */
  log(message: string): void;
  /** Registers a cleanup step; steps run in reverse order of registration. */
  defer(step: () => Promise<void> | void): void;
  /** Creates a directory under the system temp folder, removed at cleanup. */
  tempDir(prefix: string): Promise<string>;
}

export interface BenchOutput {
  figures: Figure[];
  details?: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  title: string;
  run(context: BenchContext): Promise<BenchOutput>;
}

export class CleanupStack {
  private readonly steps: Array<() => Promise<void> | void> = [];

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  /** Runs every step, newest first; a failing step is reported and the others still run. */
  async unwind(report: (error: unknown) => void): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      try {
        await step?.();
      } catch (error: unknown) {
        report(error);
      }
    }
  }
}

export function createContext(quick: boolean, cleanup: CleanupStack, log: (message: string) => void): BenchContext {
  return {
    quick,
    log,
    defer: (step) => cleanup.push(step),
    async tempDir(prefix: string): Promise<string> {
      const dir = await mkdtemp(path.join(os.tmpdir(), `farmboy-bench-${prefix}-`));
      // FARMBOY_BENCH_KEEP=1 keeps the data directories and logs, to look into a failed run.
      if (process.env.FARMBOY_BENCH_KEEP === '1') log(`keeping ${dir}`);
      else cleanup.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`, naming `what`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
