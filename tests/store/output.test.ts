import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredLogLine } from '../../electron/hub/model.js';
import { openStore, type Store } from '../../electron/hub/store/index.js';
import { FileRunOutputStore } from '../../electron/hub/store/run-output.js';
import { collect, makeTempDir } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await makeTempDir());
});

afterEach(async () => {
  await remove();
});

function logLines(from: number, to: number): StoredLogLine[] {
  const lines: StoredLogLine[] = [];
  for (let index = from; index < to; index += 1) lines.push({ t: index, s: index % 2 ? 'stderr' : 'stdout', m: `line ${index} é` });
  return lines;
}

async function fileLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean);
}

describe('run output', () => {
  let store: Store;

  beforeEach(async () => {
    store = await openStore(dir, { flushIntervalMs: 60_000 });
  });

  afterEach(async () => {
    await store.close();
  });

  it('reads log lines including unflushed ones', async () => {
    store.logs.appendLog('run-1', logLines(0, 3));
    await store.flush();
    store.logs.appendLog('run-1', logLines(3, 5));

    const onDisk = await fileLines(join(dir, 'logs', 'run-1.jsonl'));
    const read = await collect(store.logs.readLog('run-1'));

    expect(onDisk).toHaveLength(3);
    expect(read).toEqual(logLines(0, 5));
  });

  it('reads records in append order', async () => {
    store.logs.appendRecords('run-1', [{ n: 1 }, 'two']);
    await store.flush();
    store.logs.appendRecords('run-1', [[3], null]);

    const read = await collect(store.logs.readRecords('run-1'));

    expect(read).toEqual([{ n: 1 }, 'two', [3], null]);
  });

  it('reads nothing for an unknown run', async () => {
    const read = await collect(store.logs.readLog('never'));

    expect(read).toEqual([]);
  });

  it('writes the buffer when a run closes', async () => {
    store.logs.appendLog('run-1', logLines(0, 2));
    store.logs.appendRecords('run-1', [1]);

    store.logs.closeRun('run-1');
    await store.flush();

    expect(await fileLines(join(dir, 'logs', 'run-1.jsonl'))).toHaveLength(2);
    expect(await fileLines(join(dir, 'records', 'run-1.jsonl'))).toEqual(['1']);
  });

  it('writes everything on close', async () => {
    store.logs.appendLog('run-2', logLines(0, 4));

    await store.close();
    store = await openStore(dir);
    const read = await collect(store.logs.readLog('run-2'));

    expect(read).toEqual(logLines(0, 4));
  });

  it('rejects run ids unsafe as file names', () => {
    const unsafe = ['../escape', 'a/b', '', '.hidden', 'a\\b'];

    for (const runId of unsafe) expect(() => store.logs.appendLog(runId, logLines(0, 1))).toThrow(RangeError);
  });
});

describe('run output files', () => {
  it('skips a line cut by a crash', async () => {
    await mkdir(join(dir, 'logs'));
    const path = join(dir, 'logs', 'run-1.jsonl');
    await writeFile(path, `${JSON.stringify(logLines(0, 1)[0])}\n{"t":1,"s":"std`);
    const store = await openStore(dir, { flushIntervalMs: 60_000 });

    store.logs.appendLog('run-1', logLines(1, 3));
    await store.flush();
    const read = await collect(store.logs.readLog('run-1'));
    await store.close();

    expect(read).toEqual(logLines(0, 3));
  });

  it('holds unmarked lines until their delay', async () => {
    await mkdir(join(dir, 'logs'));
    const path = join(dir, 'logs', 'run-1.jsonl');
    const output = new FileRunOutputStore(dir, pino({ level: 'silent' }), { flushIntervalMs: 10, unmarkedFlushMs: 60_000 });

    output.appendLog('run-1', logLines(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const afterUnmarked = await fileLines(path).catch(() => []);
    output.appendLog('run-1', logLines(1, 2), { attempt: 1, seq: 1 });
    let afterMarked: string[] = [];
    for (let tries = 0; tries < 100 && afterMarked.length < 2; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      afterMarked = await fileLines(path).catch(() => []);
    }
    await output.close();

    expect(afterUnmarked).toEqual([]);
    expect(afterMarked).toHaveLength(2);
  });

  it('keeps open handles under the cap', async () => {
    await mkdir(join(dir, 'logs'));
    await mkdir(join(dir, 'records'));
    const output = new FileRunOutputStore(dir, pino({ level: 'silent' }), { flushIntervalMs: 60_000, maxOpenFiles: 4 });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, output.openFiles)), 1);

    for (let round = 0; round < 3; round += 1) {
      for (let run = 0; run < 20; run += 1) output.appendLog(`run-${run}`, logLines(round, round + 1));
      await output.flush();
      peak = Math.max(peak, output.openFiles);
    }
    clearInterval(sampler);
    const first = await collect(output.readLog('run-0'));
    const last = await collect(output.readLog('run-19'));
    await output.close();

    expect(peak).toBeLessThanOrEqual(4);
    expect(first).toEqual(logLines(0, 3));
    expect(last).toEqual(logLines(0, 3));
    expect(output.openFiles).toBe(0);
  });
});
