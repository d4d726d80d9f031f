import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunManager, type RunManagerOptions } from '../src/runs.js';
import { MemorySink, makeAssignment, makeSettings, makeTempDir, removeDir } from './helpers.js';

describe('RunManager', () => {
  let dataDir = '';
  let manager: RunManager | null = null;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    manager?.cancelAll('agent_stopping');
    await manager?.waitIdle(5_000);
    manager = null;
    await removeDir(dataDir);
  });

  function makeManager(options: Partial<RunManagerOptions> = {}): { manager: RunManager; sink: MemorySink } {
    const sink = new MemorySink();
    manager = new RunManager({
      slots: 2,
      maxLoad: null,
      readLoad: () => 0,
      sink,
      settings: makeSettings(dataDir),
      log: pino({ level: 'silent' }),
      ...options,
    });
    return { manager, sink };
  }

  it.each([
    { name: 'above max load', maxLoad: 0.5, load: 0.9, expected: { accepted: false, reason: 'no_free_slot' } },
    { name: 'below max load', maxLoad: 0.5, load: 0.2, expected: { accepted: true } },
    { name: 'unknown load', maxLoad: 0.5, load: null, expected: { accepted: true } },
  ])('admits runs $name', ({ maxLoad, load, expected }) => {
    const { manager } = makeManager({ maxLoad, readLoad: () => load });

    const reply = manager.assign(makeAssignment('shell', 'sleep 600'));

    expect(reply).toEqual(expected);
  });

  it('rejects older and repeated attempts', () => {
    const { manager } = makeManager();
    const second = makeAssignment('shell', 'sleep 600', { attempt: 2 });

    const replies = [manager.assign(second), manager.assign(second), manager.assign({ ...second, attempt: 1 })];

    expect(replies).toEqual([{ accepted: true }, { accepted: false, reason: 'duplicate' }, { accepted: false, reason: 'duplicate' }]);
  });

  it('stops an older attempt for a newer one', async () => {
    const { manager, sink } = makeManager();
    const first = makeAssignment('shell', 'sleep 600');
    manager.assign(first);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const reply = manager.assign({ ...first, attempt: 2 });
    for (let tries = 0; tries < 250 && !sink.events.some((event) => event.type === 'finished'); tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    expect(reply).toEqual({ accepted: true });
    const finished = sink.events.find((event) => event.type === 'finished');
    expect(finished).toMatchObject({ status: 'cancelled', error: 'cancelled because the hub moved the run to a newer attempt' });
    expect(manager.runningKeys()).toEqual([{ runId: first.runId, attempt: 2 }]);
  });

  it('refuses new runs while draining', () => {
    const { manager } = makeManager();

    manager.setDraining(true);
    const whileDraining = manager.assign(makeAssignment('shell', 'echo'));
    manager.setDraining(false);
    const afterDraining = manager.assign(makeAssignment('shell', 'echo'));

    expect(whileDraining).toEqual({ accepted: false, reason: 'draining' });
    expect(afterDraining).toEqual({ accepted: true });
  });
});
