import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Json } from '../src/protocol/index.js';
import { RunManager } from '../src/runs.js';
import { WarmPool, taskHostKind, type WarmPoolOptions } from '../src/runner/warm-pool.js';
import { MemorySink, TASK_HOST, fixturePath, livingGroupMembers, makeAssignment, makeSettings, makeTempDir, readFixture, removeDir, runToEnd, waitFor } from './helpers.js';

interface IsolationResult {
  pid: number;
  uptimeMs: number;
  cwd: string;
  seen: { global: string | null; env: string | null };
  given: string | null;
}

async function isAlive(pid: number): Promise<boolean> {
  return (await livingGroupMembers(pid)).includes(pid);
}

describe('warm task host pool', () => {
  let dataDir = '';
  let pool: WarmPool | null = null;
  let manager: RunManager | null = null;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    manager?.cancelAll('agent_stopping');
    await manager?.waitIdle(5_000);
    manager = null;
    pool?.stop();
    pool = null;
    await removeDir(dataDir);
  });

  function makePool(options: Partial<WarmPoolOptions> = {}): WarmPool {
    pool = new WarmPool({
      kind: taskHostKind(TASK_HOST),
      idleCwd: dataDir,
      env: { ...process.env },
      maxProcesses: 8,
      readyTimeoutMs: 10_000,
      refillDelayMs: 0,
      log: pino({ level: 'silent' }),
      ...options,
    });
    return pool;
  }

  async function readyPool(size: number): Promise<WarmPool> {
    const warm = makePool();
    warm.resize(size);
    await waitFor(() => warm.readyCount === size, `${size} hosts ready`);
    return warm;
  }

  async function runIsolationTask(warm: WarmPool, config: Record<string, Json> = {}) {
    const assignment = makeAssignment('node', await readFixture('task-isolation.mjs'), { config });
    const { outcome } = await runToEnd(assignment, { ...makeSettings(dataDir), warmHosts: warm });
    expect(outcome.status).toBe('succeeded');
    return { assignment, result: outcome.result as unknown as IsolationResult };
  }

  function makeManager(warm: WarmPool, slots: number): { manager: RunManager; sink: MemorySink } {
    const sink = new MemorySink();
    manager = new RunManager({ slots, maxLoad: null, readLoad: () => 0, sink, settings: { ...makeSettings(dataDir), warmHosts: warm }, log: pino({ level: 'silent' }) });
    return { manager, sink };
  }

  /** Returns a manager that has run one node task, after which it keeps warm hosts. */
  async function managerAfterNodeRun(warm: WarmPool, slots: number): Promise<{ manager: RunManager; sink: MemorySink }> {
    const { manager: nodeReady, sink } = makeManager(warm, slots);
    nodeReady.assign(makeAssignment('node', await readFixture('task-isolation.mjs')));
    await waitFor(() => sink.events.some((event) => event.type === 'finished'), 'first node run finished');
    sink.events.length = 0;
    return { manager: nodeReady, sink };
  }

  it('hands a run a host started before it', async () => {
    const warm = await readyPool(1);
    const [pooled] = warm.hostPids();
    await sleep(300);

    const { result } = await runIsolationTask(warm);

    expect(result.pid).toBe(pooled);
    expect(result.uptimeMs).toBeGreaterThanOrEqual(300);
  });

  it('gives every run its own process', async () => {
    const warm = await readyPool(2);

    const first = await runIsolationTask(warm);
    const second = await runIsolationTask(warm);

    expect(second.result.pid).not.toBe(first.result.pid);
    expect(await isAlive(first.result.pid)).toBe(false);
    expect(await isAlive(second.result.pid)).toBe(false);
  });

  it('shares no globals or environment between runs', async () => {
    const warm = await readyPool(2);

    const first = await runIsolationTask(warm, { mark: 'first' });
    const second = await runIsolationTask(warm, { mark: 'second' });

    expect(first.result.seen).toEqual({ global: null, env: null });
    expect(second.result.seen).toEqual({ global: null, env: null });
    expect(second.result.given).toBe('second');
  });

  it('runs the task in its scratch directory', async () => {
    const warm = await readyPool(1);

    const { assignment, result } = await runIsolationTask(warm);

    expect(result.cwd).toBe(path.join(dataDir, 'runs', `${assignment.runId}-1`));
  });

  it('keeps no hosts before a node run', async () => {
    const warm = makePool();
    const { manager, sink } = makeManager(warm, 2);
    manager.assign(makeAssignment('shell', 'echo shell only'));
    await waitFor(() => sink.events.some((event) => event.type === 'finished'), 'shell run finished');
    await sleep(500);
    const beforeNode = warm.size;

    manager.assign(makeAssignment('node', await readFixture('task-isolation.mjs')));

    expect(beforeNode).toBe(0);
    await waitFor(() => warm.readyCount === 2, 'two hosts ready');
  });

  it('refills after a run took a host', async () => {
    const warm = makePool();
    const { manager, sink } = await managerAfterNodeRun(warm, 1);
    await waitFor(() => warm.readyCount === 1, 'first host ready');
    const [taken] = warm.hostPids();

    manager.assign(makeAssignment('node', await readFixture('task-isolation.mjs')));
    await waitFor(() => sink.events.some((event) => event.type === 'finished'), 'run finished');
    await waitFor(() => warm.readyCount === 1, 'pool refilled');

    expect(warm.hostPids()).not.toContain(taken);
  });

  it('replaces a host that dies', async () => {
    const warm = await readyPool(1);
    const [victim] = warm.hostPids();

    process.kill(victim as number, 'SIGKILL');
    await waitFor(() => warm.readyCount === 1 && !warm.hostPids().includes(victim as number), 'replacement ready');

    expect(warm.size).toBe(1);
  });

  it('shrinks as slots fill', async () => {
    const warm = makePool();
    const { manager } = await managerAfterNodeRun(warm, 2);
    await waitFor(() => warm.readyCount === 2, 'two hosts ready');
    const before = warm.hostPids();

    manager.assign(makeAssignment('shell', 'sleep 600'));
    await waitFor(() => warm.size === 1, 'pool of one');
    const ended = before.filter((pid) => !warm.hostPids().includes(pid));
    manager.assign(makeAssignment('shell', 'sleep 600'));
    await waitFor(() => warm.size === 0, 'empty pool');

    expect(ended).toHaveLength(1);
    await waitFor(async () => !(await isAlive(ended[0] as number)), 'surplus host ended');
  });

  it('ends its hosts on stop', async () => {
    const warm = await readyPool(2);
    const pids = warm.hostPids();

    warm.stop();
    warm.resize(2);

    expect(warm.size).toBe(0);
    for (const pid of pids) await waitFor(async () => !(await isAlive(pid)), `host ${pid} ended`);
  });

  it('ends its hosts when the agent stops', async () => {
    const warm = makePool();
    const { manager } = await managerAfterNodeRun(warm, 2);
    await waitFor(() => warm.readyCount === 2, 'two hosts ready');
    const pids = warm.hostPids();

    manager.beginStop();

    expect(warm.size).toBe(0);
    for (const pid of pids) await waitFor(async () => !(await isAlive(pid)), `host ${pid} ended`);
  });

  it('turns itself off after failed starts', async () => {
    const warm = makePool({ kind: taskHostKind(fixturePath('host-crashes.mjs')) });

    warm.resize(2);
    await sleep(1_500);

    expect(warm.size).toBe(0);
    expect(warm.readyCount).toBe(0);
  });
});
