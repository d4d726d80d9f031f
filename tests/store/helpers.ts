import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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

/** Lists the names in the data directory's `output` folder, sorted; [] when it does not exist. */
export async function outputFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'output')).catch(() => [])).sort();
}

/** Reads the lines of every output segment's data file, oldest segment first. */
export async function segmentDataLines(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const name of await outputFiles(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    lines.push(...(await readFile(join(dir, 'output', name), 'utf8')).split('\n').filter(Boolean));
  }
  return lines;
}

/** Sums the bytes a run's output of one kind takes in the segments, from their index lines. */
export async function storedOutputBytes(dir: string, runId: string, kind: 'l' | 'r'): Promise<number> {
  let bytes = 0;
  for (const name of await outputFiles(dir)) {
    if (!name.endsWith('.idx')) continue;
    for (const line of (await readFile(join(dir, 'output', name), 'utf8')).split('\n')) {
      const [id, code, , length] = line.split(' ');
      if (id === runId && code === kind) bytes += Number(length);
    }
  }
  return bytes;
}
