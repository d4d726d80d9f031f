import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOG_EVENT_OVERHEAD_BYTES, storedLineBytes } from '../src/protocol/index.js';
import { Run } from '../src/runner/run.js';
import { agentEnvironment } from '../src/runner/run.js';
import type { RunSettings } from '../src/runner/types.js';
import type { WarmPool } from '../src/runner/warm-pool.js';
import { MemorySink, makeAssignment, makeSettings as coldSettings, makeTempDir, readFixture, readyShellPool, removeDir, runToEnd } from './helpers.js';

// Every shell run behaves the same whether its process was spawned for it or taken from the warm shells.
describe.each(['cold', 'warm'] as const)('shell runs (%s start)', (start) => {
  let dataDir = '';
  let pool: WarmPool | null = null;

  beforeEach(async () => {
    dataDir = await makeTempDir();
    if (start === 'warm') pool = await readyShellPool(dataDir, 2);
  });

  afterEach(async () => {
    pool?.stop();
    pool = null;
    await removeDir(dataDir);
  });

  function makeSettings(dir: string, overrides: Partial<RunSettings> = {}): RunSettings {
    return coldSettings(dir, pool === null ? overrides : { warmShells: pool, baseEnv: agentEnvironment(), ...overrides });
  }

  it('runs in a process of the expected kind', async () => {
    const pooled = pool?.hostPids() ?? [];

    const { sink } = await runToEnd(makeAssignment('shell', 'echo one'), makeSettings(dataDir));

    const started = sink.events.find((event) => event.type === 'started');
    expect(started).toMatchObject({ pid: expect.any(Number) });
    expect(pooled.includes((started as { pid: number }).pid)).toBe(start === 'warm');
  });

  it('passes config and run facts', async () => {
    const assignment = makeAssignment('shell', await readFixture('config.sh'), {
      config: { city: 'Oslo', days: 3 },
      env: { GREETING: 'hi' },
    });
    process.env.FARMBOY_AGENT_TOKEN = 'agent-secret-token';

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir)).finally(() => {
      delete process.env.FARMBOY_AGENT_TOKEN;
    });

    expect(outcome.status).toBe('succeeded');
    expect(sink.messages('stdout')).toEqual([
      'env: {"city":"Oslo","days":3}',
      'file: {"city":"Oslo","days":3}',
      `run: ${assignment.runId} 1 collect job-1 agent-1`,
      'job env: hi',
      'token: unset',
    ]);
  });

  it('reads the line protocol', async () => {
    const assignment = makeAssignment('shell', await readFixture('protocol.sh'));

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('succeeded');
    expect(outcome.result).toEqual({ count: 2 });
    expect(sink.records).toEqual([{ city: 'Oslo', temp: 3 }, { city: 'Rome', temp: 17 }]);
    expect(sink.progress()).toEqual([{ percent: 40, message: 'fetching page 2' }, { percent: 100, message: null }]);
    expect(sink.messages('stdout')).toEqual(['before', '::other words stay a log line']);
    expect(sink.messages('stderr')).toEqual(['to stderr']);
    const system = sink.messages('system');
    expect(system).toHaveLength(2);
    expect(system[0]).toMatch(/^ignored ::record line: invalid JSON/);
    expect(system[1]).toMatch(/^ignored ::progress line: the percentage must be a number from 0 to 100, got "lots"/);
  });

  it('orders started, output and finished', async () => {
    const assignment = makeAssignment('shell', 'echo one');

    const { sink } = await runToEnd(assignment, makeSettings(dataDir));

    expect(sink.events.map((event) => event.type)).toEqual(['started', 'finished']);
    expect(sink.events[0]).toMatchObject({ type: 'started', pid: expect.any(Number) });
  });

  it.each([
    { name: 'exit code 3', script: 'exit 3', exitCode: 3, signal: null, error: 'exited with code 3' },
    { name: 'missing command', script: 'no-such-command-here', exitCode: 127, signal: null, error: 'exited with code 127 (command not found)' },
    { name: 'killed by a signal', script: 'kill -KILL $$', exitCode: null, signal: 'SIGKILL', error: 'killed by SIGKILL' },
  ])('fails on $name', async ({ script, exitCode, signal, error }) => {
    const assignment = makeAssignment('shell', script);

    const { outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(exitCode);
    expect(outcome.signal).toBe(signal);
    expect(outcome.error).toBe(error);
  });

  it('caps the run log with one marker', async () => {
    const assignment = makeAssignment('shell', await readFixture('flood.sh'));

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir, { maxRunLogBytes: 20_000 }));

    const kept = sink.messages('stdout');
    // A sink that does not batch lines makes each line count as an event of its own; the marker comes past the cap.
    const storedBytes = sink.lines.filter((line) => line.s !== 'system').reduce((sum, line) => sum + storedLineBytes(line) + LOG_EVENT_OVERHEAD_BYTES, 0);
    expect(kept.length).toBeGreaterThan(50);
    expect(kept.length).toBeLessThan(2000);
    expect(storedBytes).toBeLessThanOrEqual(20_000);
    expect(sink.messages('system')).toEqual(["[log truncated: the run's output passed 20000 bytes as stored, later lines are not kept]"]);
    expect(outcome.logTruncated).toBe(true);
    expect(outcome.result).toEqual({ done: true });
    expect(outcome.status).toBe('succeeded');
  });

  it('masks secret values everywhere', async () => {
    const assignment = makeAssignment('shell', await readFixture('secret.sh'), {
      env: { API_KEY: 's3cr3t-value', PLAIN: 'visible' },
      secretEnv: ['API_KEY'],
    });

    const { sink } = await runToEnd(assignment, makeSettings(dataDir));

    expect(sink.messages('stdout')).toEqual(['key is *** and again ***']);
    expect(sink.messages('stderr')).toEqual(['***']);
    expect(sink.records).toEqual([{ auth: '***' }]);
    expect(JSON.stringify(sink.lines)).not.toContain('s3cr3t');
  });

  it('finishes when a background process holds the output', async () => {
    const assignment = makeAssignment('shell', await readFixture('background-holds-output.sh'));

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir, { stdioGraceMs: 300 }));

    expect(outcome.status).toBe('succeeded');
    expect(sink.messages('stdout')).toEqual(['leaving a background process behind']);
    expect(sink.messages('system')[0]).toMatch(/^the task exited but its output was still open 0.3 s later/);
  });

  it('fails when the task cannot start', async () => {
    const assignment = makeAssignment('shell', 'echo never');

    const { sink, outcome } = await runToEnd(assignment, makeSettings('/dev/null/not-a-directory'));

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/^could not start the task: ENOTDIR/);
    expect(sink.events.map((event) => event.type)).toEqual(['finished']);
  });

  it('stops reading output under pressure', async () => {
    const assignment = makeAssignment('shell', await readFixture('flood.sh'));
    const sink = new MemorySink();
    sink.isUnderPressure = true;
    const run = new Run(assignment, sink, makeSettings(dataDir));

    await run.start();
    await sleep(300);
    const linesWhilePaused = sink.lines.length;
    const doneWhilePaused = run.isDone;
    sink.relieve();
    const outcome = await run.finished;

    expect(doneWhilePaused).toBe(false);
    expect(linesWhilePaused).toBeLessThan(2000);
    expect(sink.messages('stdout')).toHaveLength(2000);
    expect(outcome.status).toBe('succeeded');
  });
});
