import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Run } from '../src/runner/run.js';
import { MemorySink, fixturePath, makeAssignment, makeSettings, makeTempDir, readFixture, removeDir, runToEnd } from './helpers.js';

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; tries < 500; tries += 1) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error('condition not met within 5 s');
}

describe('node runs', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  it('gives the task its context', async () => {
    const assignment = makeAssignment('node', await readFixture('task-ctx.mjs'), {
      config: { name: 'Oslo', a: 2, b: 3 },
      env: { GREETING: 'hi' },
    });

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('succeeded');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.result).toEqual({ sum: 5, run: assignment.runId, agent: 'agent-1', aborted: false, env: 'hi' });
    expect(sink.records).toEqual([{ n: 1 }, { n: 2 }]);
    expect(sink.progress()).toEqual([{ percent: 50, message: 'half way' }]);
    expect(sink.messages('stdout')).toEqual(['hello Oslo { n: 1 }', 'from console.log']);
    expect(sink.messages('stderr')).toEqual(['careful']);
  });

  it('caches the module by hash', async () => {
    const assignment = makeAssignment('node', await readFixture('task-ctx.mjs'), { config: { name: 'x', a: 1, b: 1 } });

    await runToEnd(assignment, makeSettings(dataDir));

    expect(await readdir(path.join(dataDir, 'tasks'))).toEqual([`${assignment.hash}.mjs`]);
  });

  it('fails with the thrown message', async () => {
    const assignment = makeAssignment('node', await readFixture('task-throws.mjs'));

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe('the API said no');
    expect(outcome.exitCode).toBe(1);
    const stderr = sink.messages('stderr');
    expect(stderr[0]).toBe('Error: the API said no');
    expect(stderr.some((line) => line.includes('task-throws') || line.includes('.mjs'))).toBe(true);
  });

  it('fails without a default export', async () => {
    const assignment = makeAssignment('node', await readFixture('task-no-default.mjs'));

    const { outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatch(/^the task module must have a default export that is a function/);
  });

  it('reports a host crash before ready', async () => {
    const assignment = makeAssignment('node', await readFixture('task-ctx.mjs'));
    const settings = makeSettings(dataDir, { taskHostPath: fixturePath('host-crashes.mjs') });

    const { sink, outcome } = await runToEnd(assignment, settings);

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe('the task host ended before it was ready: exited with code 3');
    expect(sink.messages('stderr')).toEqual(['host exploded during start']);
  });

  it('reports a host that never gets ready', async () => {
    const assignment = makeAssignment('node', await readFixture('task-ctx.mjs'));
    const settings = makeSettings(dataDir, { taskHostPath: fixturePath('split-chars.mjs'), readyTimeoutMs: 200 });

    const { outcome } = await runToEnd(assignment, settings);

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe('the task host did not report ready within 200 ms');
  });

  it('aborts ctx.signal on cancel', async () => {
    const assignment = makeAssignment('node', await readFixture('task-waits-for-abort.mjs'));

    const sink = new MemorySink();
    const run = new Run(assignment, sink, makeSettings(dataDir));

    await run.start();
    await until(() => sink.messages('stdout').includes('waiting'));
    run.cancel('user');
    const outcome = await run.finished;

    expect(outcome.status).toBe('cancelled');
    expect(outcome.result).toBe('stopped politely');
    expect(sink.messages('stdout')).toEqual(['waiting', 'aborted: the run was stopped: user']);
    expect(sink.messages('system')).toEqual([]);
  });

  it('aborts ctx.signal on timeout', async () => {
    // Long enough for the task host to start on a busy machine, so the task is waiting when the timeout fires.
    const assignment = makeAssignment('node', await readFixture('task-waits-for-abort.mjs'), { timeoutSec: 1.5 });

    const { outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('timed_out');
    expect(outcome.result).toBe('stopped politely');
  });

  it('masks secrets in logs and results', async () => {
    const code = 'export default (ctx) => { ctx.log.info(process.env.TOKEN); ctx.emit({ t: process.env.TOKEN }); return process.env.TOKEN; };';
    const assignment = makeAssignment('node', code, { env: { TOKEN: 'tok-123456' }, secretEnv: ['TOKEN'] });

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(sink.messages('stdout')).toEqual(['***']);
    expect(sink.records).toEqual([{ t: '***' }]);
    expect(outcome.result).toBe('***');
  });

  it.each([
    { name: 'a non-JSON record', code: 'export default (ctx) => { ctx.emit(10n); };', error: 'emit() record must be JSON: Do not know how to serialize a BigInt' },
    { name: 'a bad progress value', code: 'export default (ctx) => { ctx.progress(150); };', error: 'progress() takes a percentage from 0 to 100, got 150' },
    { name: 'a non-JSON result', code: 'export default () => () => 1;', error: 'the task result must be JSON, got function' },
  ])('fails on $name', async ({ code, error }) => {
    const assignment = makeAssignment('node', code);

    const { outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe(error);
  });
});
