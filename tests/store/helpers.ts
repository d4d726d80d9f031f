import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { Run } from '../../electron/hub/model.js';
import { createRun } from '../../electron/hub/run-state.js';

/** Creates a fresh directory under the OS temp dir; `remove` deletes it. */
export async function makeTempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'farmboy-store-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Builds a run as the run manager creates it, with the fields a test names overridden. */
export function makeRun(overrides: Partial<Run> & { id: string }): Run {
  const run = createRun({
    id: overrides.id,
    jobId: 'job-a',
    jobName: 'Job A',
    taskId: 'task-1',
    taskVersion: 1,
    trigger: 'schedule',
    config: {},
    tags: [],
    timeoutSec: null,
    retries: 0,
    retryDelaySec: 10,
    now: 1_000,
  });
  return { ...run, ...overrides };
}

/** Creates a pino logger that keeps its records in memory, for asserting on warnings. */
export function captureLogger(): { logger: Logger; records: Array<{ level: number; msg: string } & Record<string, unknown>> } {
  const records: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) records.push(JSON.parse(line) as { level: number; msg: string });
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
