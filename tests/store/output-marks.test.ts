import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredLogLine } from '../../electron/hub/model.js';
import { openStore, type Store } from '../../electron/hub/store/index.js';
import { collect, makeRun, makeTempDir, segmentDataLines } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;
let store: Store;

beforeEach(async () => {
  ({ dir, remove } = await makeTempDir());
  store = await openStore(dir, { flushIntervalMs: 60_000 });
});

afterEach(async () => {
  await store.close();
  await remove();
});

function lines(...texts: string[]): StoredLogLine[] {
  return texts.map((text, index) => ({ t: index, s: 'stdout', m: text }));
}

describe('output lines marked with their event', () => {
  it('stores one line per event', async () => {
    store.logs.appendLog('run-1', lines('a', 'b'), { attempt: 1, seq: 2 });
    store.logs.appendLog('run-1', [{ t: 9, s: 'system', m: 'from the hub' }]);
    store.logs.appendRecords('run-1', [{ n: 1 }, { a: 1, q: 2, r: [] }], { attempt: 1, seq: 3 });
    await store.persist(['run-1']);

    const stored = await segmentDataLines(dir);
    const log = await collect(store.logs.readLog('run-1'));
    const records = await collect(store.logs.readRecords('run-1'));

    expect(stored).toEqual([
      JSON.stringify({ a: 1, q: 2, lines: lines('a', 'b') }),
      JSON.stringify({ t: 9, s: 'system', m: 'from the hub' }),
      JSON.stringify({ a: 1, q: 3, r: [{ n: 1 }, { a: 1, q: 2, r: [] }] }),
    ]);
    expect(log.map((line) => line.m)).toEqual(['a', 'b', 'from the hub']);
    expect(records).toEqual([{ n: 1 }, { a: 1, q: 2, r: [] }]);
  });

  it('scans the sequence of one attempt', async () => {
    store.logs.appendLog('run-1', lines('one'), { attempt: 1, seq: 4 });
    store.logs.appendLog('run-1', lines('two', 'three'), { attempt: 2, seq: 2 });
    store.logs.appendLog('run-1', [{ t: 1, s: 'system', m: 'retrying' }]);
    store.logs.appendRecords('run-1', [1, 2, 3], { attempt: 2, seq: 3 });
    await store.persist(['run-1']);

    const first = await store.logs.scanRun('run-1', 1);
    const second = await store.logs.scanRun('run-1', 2);

    expect(first.lastSeq).toBe(4);
    expect(second).toMatchObject({ lastSeq: 3, logLines: 3, logBytes: 11, recordCount: 3 });
  });

  it('writes output before run records', async () => {
    store.logs.appendLog('run-1', lines('before the record'), { attempt: 1, seq: 1 });
    store.runs.put(makeRun({ id: 'run-1', status: 'running', lastSeq: 1 }));

    await store.persist([]);

    expect(await segmentDataLines(dir)).toHaveLength(1);
  });
});
