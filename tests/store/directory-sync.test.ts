import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { syncDirectory } from '../../electron/hub/store/fs-util.js';

// FileHandle is not exported; its prototype comes from a real handle. The spy counts the
// directory syncs and lets the real fsync run.
async function spyOnSync() {
  const handle = await open(tmpdir(), 'r');
  const proto = Object.getPrototypeOf(handle) as { sync: () => Promise<void> };
  await handle.close();
  const started: number[] = [];
  const finished: number[] = [];
  const original = proto.sync;
  const spy = vi.spyOn(proto, 'sync').mockImplementation(async function (this: unknown) {
    started.push(performance.now());
    try {
      await original.call(this);
    } finally {
      finished.push(performance.now());
    }
  });
  return { spy, started, finished };
}

describe.skipIf(process.platform === 'win32')('syncDirectory', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'farmboy-dirsync-'));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets calls that arrive during a sync share the next one', async () => {
    const { spy } = await spyOnSync();
    await Promise.all(Array.from({ length: 20 }, () => syncDirectory(dir)));
    // The first call starts a sync; the other 19 arrive while it runs and share the one after it.
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('resolves each call only after a sync that started after the call', async () => {
    const { started, finished } = await spyOnSync();
    const calls: Array<Promise<{ calledAt: number; resolvedAt: number }>> = [];
    for (let index = 0; index < 12; index += 1) {
      const calledAt = performance.now();
      calls.push(syncDirectory(dir).then(() => ({ calledAt, resolvedAt: performance.now() })));
      // Spread the calls over several syncs.
      if (index % 3 === 2) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const { calledAt, resolvedAt } of await Promise.all(calls)) {
      const covering = started.some((at, index) => at >= calledAt && (finished[index] ?? Infinity) <= resolvedAt);
      expect(covering).toBe(true);
    }
  });

  it('rejects every caller of a failed sync, and a later call tries again', async () => {
    const missing = join(dir, 'not-yet');
    const results = await Promise.allSettled([syncDirectory(missing), syncDirectory(missing), syncDirectory(missing)]);
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    await mkdir(missing);
    await expect(syncDirectory(missing)).resolves.toBeUndefined();
  });

  it('keeps directories apart', async () => {
    const { spy } = await spyOnSync();
    const other = join(dir, 'other');
    await mkdir(other);
    await Promise.all([syncDirectory(dir), syncDirectory(other)]);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});
