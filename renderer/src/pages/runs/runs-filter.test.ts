import { describe, expect, it } from 'vitest';
import type { Run } from '../../../../electron/hub/model.js';
import { applyRunChanges, type RunsFilter } from './runs-filter.js';

const NONE: RunsFilter = { jobId: null, status: null, agentId: null, withinMs: null };

function run(id: string, queuedAt: number, patch: Partial<Run> = {}): Run {
  // Only the fields the list logic reads; the rest of a run does not matter here.
  return { id, queuedAt, jobId: 'j', status: 'running', agentId: 'a', ...patch } as Run;
}

const ids = (runs: Run[]) => runs.map((entry) => entry.id);

describe('run list updates', () => {
  it.each<[string, Run[], RunsFilter, string[]]>([
    ['replaces a listed run', [run('b', 2, { status: 'succeeded' })], NONE, ['b', 'a']],
    ['adds a newer run on top', [run('c', 3)], NONE, ['c', 'b', 'a']],
    ['ignores an older unlisted run', [run('z', 0)], NONE, ['b', 'a']],
    ['drops a run leaving the filter', [run('b', 2, { status: 'failed' })], { ...NONE, status: 'running' }, ['a']],
    ['skips a new run outside the filter', [run('c', 3, { jobId: 'other' })], { ...NONE, jobId: 'j' }, ['b', 'a']],
  ])('%s', (_name, changed, filter, expected) => {
    const list = [run('b', 2), run('a', 1)];

    const next = applyRunChanges(list, changed, filter, 10);

    expect(ids(next)).toEqual(expected);
  });
});
