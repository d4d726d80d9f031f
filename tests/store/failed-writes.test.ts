/**
 * Output writes that fail and are retried. A file in place of the output
 * folder makes every new segment fail to open with ENOTDIR, on any file
 * system and for any user, until the test puts the folder back.
 */
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredLogLine } from '../../electron/hub/model.js';
import { openStore, type Store } from '../../electron/hub/store/index.js';
import { makeRun, makeTempDir, segmentDataLines } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;
let store: Store;

beforeEach(async () => {
  ({ dir, remove } = await makeTempDir());
  store = await openStore(dir, { flushIntervalMs: 60_000 });
});

afterEach(async () => {
  await store.close().catch(() => undefined);
  await remove();
});

function lines(...texts: string[]): StoredLogLine[] {
  return texts.map((text, index) => ({ t: index, s: 'stdout', m: text }));
}

/** Reads the texts of the stored log lines from disk. */
async function storedTexts(): Promise<string[]> {
  const lines = await segmentDataLines(dir);
  return lines.flatMap((line) => (JSON.parse(line) as { lines: StoredLogLine[] }).lines.map((stored) => stored.m));
}

/** Makes every output write fail until the returned function is called; the store must not have written output yet. */
async function blockOutput(): Promise<() => Promise<void>> {
  const path = join(dir, 'output');
  await rmdir(path);
  await writeFile(path, '');
  return async () => {
    await rm(path);
    await mkdir(path);
  };
}

/** Settles a promise to 'resolved' or 'rejected', for asserting on how it ended. */
function outcome(promise: Promise<unknown>): Promise<'resolved' | 'rejected'> {
  return promise.then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );
}

// Each case starts a second output write while the first one fails, as the flush timer or another
// agent's batch can. A later persist must then fail while the output is blocked, and write the
// buffered event lines once it is not.
const overlaps: Array<{ name: string; second: (store: Store) => Promise<unknown> }> = [
  { name: 'a flush of the whole store', second: (current) => current.flush() },
  { name: 'another persist', second: (current) => current.persist(['run-1']) },
];

describe('failed output writes', () => {
  it.each(overlaps)('persist never skips lines after $name', async ({ second }) => {
    const unblock = await blockOutput();
    store.logs.appendLog('run-1', lines('first'), { attempt: 1, seq: 1 });
    store.runs.put(makeRun({ id: 'run-1', status: 'running', lastSeq: 1 }));

    const first = outcome(store.persist(['run-1']));
    const overlapping = outcome(second(store));
    const results = [await first, await overlapping];
    const whileBlocked = await outcome(store.persist(['run-1']));
    await unblock();
    await store.persist(['run-1']);

    expect(results[0]).toBe('rejected');
    expect(whileBlocked).toBe('rejected');
    expect(await storedTexts()).toEqual(['first']);
  });

  it('persist writes lines a failure kept', async () => {
    const unblock = await blockOutput();
    store.logs.appendLog('run-1', lines('one'), { attempt: 1, seq: 1 });
    const failed = await outcome(store.persist(['run-1']));
    store.logs.appendLog('run-1', lines('two'), { attempt: 1, seq: 2 });

    await unblock();
    await store.persist(['run-1']);

    expect(failed).toBe('rejected');
    expect(await storedTexts()).toEqual(['one', 'two']);
  });

  it('run record waits for its output', async () => {
    const unblock = await blockOutput();
    store.logs.appendLog('run-1', lines('one'), { attempt: 1, seq: 1 });
    store.runs.put(makeRun({ id: 'run-1', status: 'running', lastSeq: 1 }));
    const first = outcome(store.persist(['run-1']));
    const flushed = outcome(store.flush());
    await Promise.all([first, flushed]);

    await store.close().catch(() => undefined);
    await unblock();
    const reopened = await openStore(dir, { flushIntervalMs: 60_000 });
    const stored = reopened.runs.get('run-1');
    await reopened.close();

    expect(stored?.lastSeq ?? 0).toBe(0);
  });
});
