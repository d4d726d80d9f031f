import { describe, expect, it } from 'vitest';
import { runFilterSchema, type Run } from '../../electron/hub/model.js';
import { RunIndex } from '../../electron/hub/store/run-index.js';
import { makeRun } from '../store/helpers.js';

/** Runs r0..r9 queued at 1000..1009, alternating between two jobs. */
function sampleIndex(): RunIndex {
  const index = new RunIndex();
  for (let i = 0; i < 10; i += 1) index.set(makeRun({ id: `r${i}`, queuedAt: 1_000 + i, jobId: i % 2 === 0 ? 'a' : 'b', status: 'succeeded' }));
  return index;
}

const ids = (runs: Run[]) => runs.map((run) => run.id);

describe('run index time filter', () => {
  it.each([
    [{ from: 1_007 }, ['r9', 'r8', 'r7']],
    [{ to: 1_002 }, ['r1', 'r0']],
    [{ from: 1_003, to: 1_006 }, ['r5', 'r4', 'r3']],
    [{ from: 1_003, to: 1_006, jobId: 'a' }, ['r4']],
    [{ from: 1_000, to: 1_010, limit: 2 }, ['r9', 'r8']],
    [{ from: 1_000, before: 'r3' }, ['r2', 'r1', 'r0']],
    [{ from: 2_000 }, []],
    [{ to: 1_000 }, []],
  ])('lists %j', (filter, expected) => {
    const index = sampleIndex();

    const runs = index.list(runFilterSchema.parse(filter));

    expect(ids(runs)).toEqual(expected);
  });

  it('reads time bounds from query strings', () => {
    const filter = runFilterSchema.parse({ from: '1003', to: '1005' });

    expect(filter).toMatchObject({ from: 1_003, to: 1_005 });
  });
});
