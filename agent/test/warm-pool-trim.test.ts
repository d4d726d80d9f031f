import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WarmPool, taskHostKind } from '../src/runner/warm-pool.js';
import { TASK_HOST, makeTempDir, removeDir, waitFor } from './helpers.js';

describe('warm pool trim delay', () => {
  let pool: WarmPool | null = null;
  let dataDir = '';

  afterEach(async () => {
    pool?.stop();
    pool = null;
    await removeDir(dataDir);
  });

  async function readyPool(trimDelayMs: number): Promise<WarmPool> {
    dataDir = await makeTempDir();
    const warm = new WarmPool({
      kind: taskHostKind(TASK_HOST),
      idleCwd: dataDir,
      env: { ...process.env },
      maxProcesses: 8,
      readyTimeoutMs: 10_000,
      refillDelayMs: 0,
      trimDelayMs,
      log: pino({ level: 'silent' }),
    });
    pool = warm;
    warm.resize(2);
    await waitFor(() => warm.readyCount === 2, 'two hosts ready');
    return warm;
  }

  it('keeps hosts through a brief fill', async () => {
    const warm = await readyPool(300);
    const before = warm.hostPids();

    warm.resize(1);
    await sleep(50);
    warm.resize(2);
    await sleep(500);

    expect(warm.hostPids()).toEqual(before);
  });

  it('ends hosts surplus for the delay', async () => {
    const warm = await readyPool(300);

    warm.resize(0);
    const sizeAtOnce = warm.size;
    await waitFor(() => warm.size === 0, 'empty pool');

    expect(sizeAtOnce).toBe(2);
  });

  it('ends hosts at once when asked', async () => {
    const warm = await readyPool(60_000);

    warm.resize(0, true);

    expect(warm.size).toBe(0);
  });
});
