import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError } from '../../electron/hub/store/index.js';
import { captureLogger, makeTempDir } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;
const children: ChildProcess[] = [];

beforeEach(async () => {
  ({ dir, remove } = await makeTempDir());
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await remove();
});

async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  const error: unknown = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(error instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(error)}`);
  return error;
}

describe('store lock', () => {
  it('rejects a lock held by a live process', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    await once(sleeper, 'spawn');
    const lockPath = join(dir, 'farmboy.lock');
    await writeFile(lockPath, `${sleeper.pid}\n`);

    const error = await rejection(openStore(dir));

    expect(error.code).toBe('store_locked');
    expect(error.file).toBe(lockPath);
    expect(error.message).toContain(`process ${sleeper.pid}`);
    expect(await readFile(lockPath, 'utf8')).toBe(`${sleeper.pid}\n`);
  });

  it('takes over a stale lock', async () => {
    const finished = spawn('true', { stdio: 'ignore' });
    await once(finished, 'exit');
    await writeFile(join(dir, 'farmboy.lock'), `${finished.pid}\n`);
    const { logger, records } = captureLogger();

    const store = await openStore(dir, { logger });
    const owner = await readFile(join(dir, 'farmboy.lock'), 'utf8');
    await store.close();

    expect(owner).toBe(`${process.pid}\n`);
    expect(records.some((record) => record.msg === 'stale store lock taken over' && record.pid === finished.pid)).toBe(true);
  });

  it('takes over an empty lock file', async () => {
    await writeFile(join(dir, 'farmboy.lock'), '');

    const store = await openStore(dir);
    await store.close();

    await expect(stat(join(dir, 'farmboy.lock'))).rejects.toThrow();
  });

  it('rejects a second open in-process', async () => {
    const first = await openStore(dir);

    const error = await rejection(openStore(dir));
    await first.close();
    const again = await openStore(dir);
    await again.close();

    expect(error.code).toBe('store_locked');
    expect(error.message).toContain(`process ${process.pid}`);
  });

  it('releases the lock on close', async () => {
    const store = await openStore(dir);
    const held = await readFile(join(dir, 'farmboy.lock'), 'utf8');

    await store.close();

    expect(held).toBe(`${process.pid}\n`);
    await expect(stat(join(dir, 'farmboy.lock'))).rejects.toThrow();
  });
});
