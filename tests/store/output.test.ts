import { appendFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredLogLine } from '../../electron/hub/model.js';
import { openStore, type Store } from '../../electron/hub/store/index.js';
import { SegmentOutputStore } from '../../electron/hub/store/run-output.js';
import { captureLogger, collect, makeRun, makeTempDir, outputFiles, segmentDataLines } from './helpers.js';

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

const silent = pino({ level: 'silent' });

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

    const onDisk = await segmentDataLines(dir);
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

  it('writes everything on close', async () => {
    store.runs.put(makeRun({ id: 'run-2' }));
    store.logs.appendLog('run-2', logLines(0, 4));

    await store.close();
    store = await openStore(dir);
    const read = await collect(store.logs.readLog('run-2'));

    expect(read).toEqual(logLines(0, 4));
  });

  it('drops unrecorded runs at open', async () => {
    store.runs.put(makeRun({ id: 'kept' }));
    store.logs.appendLog('kept', logLines(0, 1));
    store.logs.appendLog('gone', logLines(0, 1));

    await store.close();
    store = await openStore(dir);

    expect(await collect(store.logs.readLog('kept'))).toEqual(logLines(0, 1));
    expect(await collect(store.logs.readLog('gone'))).toEqual([]);
  });

  it('rejects unsafe run ids', () => {
    const unsafe = ['../escape', 'a/b', '', '.hidden', 'a\\b', 'a b', 'a\nb'];

    for (const runId of unsafe) expect(() => store.logs.appendLog(runId, logLines(0, 1))).toThrow(RangeError);
  });
});

describe('output segments', () => {
  it('writes many runs in one segment', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000 });

    for (let run = 0; run < 20; run += 1) {
      output.appendLog(`run-${run}`, logLines(run, run + 1), { attempt: 1, seq: 1 });
      output.appendRecords(`run-${run}`, [run]);
    }
    await output.flush();
    const files = await outputFiles(dir);
    const index = (await readFile(join(dir, 'output', '00000001.idx'), 'utf8')).split('\n').filter(Boolean);
    const last = await collect(output.readLog('run-19'));
    const records = await collect(output.readRecords('run-7'));
    await output.close();

    expect(files).toEqual(['00000001.idx', '00000001.jsonl']);
    expect(index).toHaveLength(40);
    expect(last).toEqual(logLines(19, 20));
    expect(records).toEqual([7]);
  });

  it('reads a run across segments', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000, segmentBytes: 1 });
    for (let round = 0; round < 5; round += 1) {
      output.appendLog('long', logLines(round, round + 1), { attempt: 1, seq: round + 1 });
      output.appendLog('other', logLines(round, round + 1));
      await output.flush();
    }
    const live = await collect(output.readLog('long'));
    await output.close();
    const reopened = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000 });
    const afterRestart = await collect(reopened.readLog('long'));
    const scan = await reopened.scanRun('long', 1);
    await reopened.close();

    expect((await outputFiles(dir)).filter((name) => name.endsWith('.jsonl'))).toHaveLength(5);
    expect(live).toEqual(logLines(0, 5));
    expect(afterRestart).toEqual(logLines(0, 5));
    expect(scan).toMatchObject({ lastSeq: 5, logLines: 5, totalLogLines: 5 });
  });

  it('skips index lines past the data', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000 });
    output.appendLog('run-1', logLines(0, 2), { attempt: 1, seq: 1 });
    await output.flush();
    await output.close();
    const dataSize = (await stat(join(dir, 'output', '00000001.jsonl'))).size;
    // An index line synced before the data it names, and one cut short.
    await appendFile(join(dir, 'output', '00000001.idx'), `run-1 l ${dataSize} 80\nrun-1 l 0 1`);
    const { logger, records } = captureLogger();

    const reopened = await SegmentOutputStore.open(dir, logger, { flushIntervalMs: 60_000 });
    reopened.appendLog('run-1', logLines(2, 3), { attempt: 1, seq: 2 });
    await reopened.flush();
    const read = await collect(reopened.readLog('run-1'));
    await reopened.close();

    expect(read).toEqual(logLines(0, 3));
    expect(await outputFiles(dir)).toEqual(['00000001.idx', '00000001.jsonl', '00000002.idx', '00000002.jsonl']);
    expect(records.find((record) => record.msg.startsWith('output index lines skipped'))).toMatchObject({ lines: 2 });
  });

  it('keeps a segment whose index is missing', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000 });
    output.appendLog('run-1', logLines(0, 2), { attempt: 1, seq: 1 });
    await output.flush();
    await output.close();
    await rm(join(dir, 'output', '00000001.idx'));
    const { logger, records } = captureLogger();

    const reopened = await SegmentOutputStore.open(dir, logger, { flushIntervalMs: 60_000 });
    const read = await collect(reopened.readLog('run-1'));
    await reopened.close();

    expect(read).toEqual([]);
    expect(await outputFiles(dir)).toEqual(['00000001.jsonl']);
    expect(records.some((record) => record.msg.startsWith('output segment has no index file'))).toBe(true);
  });

  it('holds unmarked lines until their delay', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 10, unmarkedFlushMs: 60_000 });

    output.appendLog('run-1', logLines(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const afterUnmarked = await segmentDataLines(dir);
    output.appendLog('run-1', logLines(1, 2), { attempt: 1, seq: 1 });
    let afterMarked: string[] = [];
    for (let tries = 0; tries < 100 && afterMarked.length < 2; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      afterMarked = await segmentDataLines(dir);
    }
    await output.close();

    expect(afterUnmarked).toEqual([]);
    expect(afterMarked).toHaveLength(2);
  });

  it('deletes a segment with its last run', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000, segmentBytes: 1 });
    output.appendLog('a', logLines(0, 1));
    output.appendLog('b', logLines(0, 1));
    await output.flush();
    output.appendLog('c', logLines(0, 1));
    await output.flush();
    output.appendLog('d', logLines(0, 1));
    await output.flush();

    await output.deleteRun('a');
    const afterOne = await outputFiles(dir);
    await output.deleteRun('b');
    const afterBoth = await outputFiles(dir);
    await output.deleteRun('d');
    const currentKept = await outputFiles(dir);
    await output.close();

    expect(afterOne).toContain('00000001.jsonl');
    expect(afterBoth).toEqual(['00000002.idx', '00000002.jsonl', '00000003.idx', '00000003.jsonl']);
    // The segment that takes writes stays until it is closed.
    expect(currentKept).toEqual(afterBoth);
    expect(await outputFiles(dir)).toEqual(['00000002.idx', '00000002.jsonl']);
  });

  it('drops the buffered output of a deleted run', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000 });
    output.appendLog('gone', logLines(0, 1), { attempt: 1, seq: 1 });
    output.appendLog('kept', logLines(0, 1), { attempt: 1, seq: 1 });

    await output.deleteRun('gone');
    await output.flushRuns(['gone', 'kept']);
    const stored = await segmentDataLines(dir);
    await output.close();

    expect(stored).toEqual([JSON.stringify({ a: 1, q: 1, lines: logLines(0, 1) })]);
  });

  it('drops output of a run deleted mid-write', async () => {
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000 });
    output.appendLog('gone', logLines(0, 1), { attempt: 1, seq: 1 });
    output.appendLog('kept', logLines(0, 1), { attempt: 1, seq: 1 });

    const writing = output.flush();
    // A few turns of the microtask queue start the write; opening the new segment keeps it under way.
    for (let turn = 0; turn < 5; turn += 1) await Promise.resolve();
    await output.deleteRun('gone');
    await writing;
    const gone = await collect(output.readLog('gone'));
    const kept = await collect(output.readLog('kept'));
    await output.close();

    expect(gone).toEqual([]);
    expect(kept).toEqual(logLines(0, 1));
  });
});

describe('output files of one run each, from earlier versions', () => {
  it('reads a legacy file first', async () => {
    const earlier = await openStore(dir);
    earlier.runs.put(makeRun({ id: 'run-1' }));
    await earlier.close();
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'logs', 'run-1.jsonl'), `${JSON.stringify(logLines(0, 1)[0])}\n{"t":1,"s":"std`);
    const store = await openStore(dir, { flushIntervalMs: 60_000 });

    store.logs.appendLog('run-1', logLines(1, 3));
    await store.flush();
    const read = await collect(store.logs.readLog('run-1'));
    await store.close();

    expect(read).toEqual(logLines(0, 3));
  });

  it('deletes a legacy file with its run', async () => {
    await mkdir(join(dir, 'records'));
    await writeFile(join(dir, 'records', 'run-1.jsonl'), '1\n');
    const output = await SegmentOutputStore.open(dir, silent, { flushIntervalMs: 60_000 });

    const before = await collect(output.readRecords('run-1'));
    await output.deleteRun('run-1');
    const after = await collect(output.readRecords('run-1'));
    await output.close();

    expect(before).toEqual([1]);
    expect(after).toEqual([]);
    await expect(stat(join(dir, 'records', 'run-1.jsonl'))).rejects.toThrow();
  });
});
