import { describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { selectExpiredRuns } from '../../electron/hub/store/index.js';
import { makeRun } from './helpers.js';

const DAY = 24 * 3600 * 1000;
const NOW = 100 * DAY;

function run(id: string, fields: Partial<Run>): Run {
  return makeRun({ id, status: 'succeeded', finishedAt: NOW - DAY, ...fields });
}

describe('selectExpiredRuns', () => {
  const cases: Array<{ name: string; runs: Run[]; settings: { retentionDays: number; retentionPerJob: number }; expected: string[] }> = [
    {
      name: 'final run past the age',
      runs: [run('old', { finishedAt: NOW - 31 * DAY }), run('new', {})],
      settings: { retentionDays: 30, retentionPerJob: 10 },
      expected: ['old'],
    },
    {
      name: 'queue time without finish time',
      runs: [run('old', { finishedAt: null, queuedAt: NOW - 31 * DAY })],
      settings: { retentionDays: 30, retentionPerJob: 10 },
      expected: ['old'],
    },
    {
      name: 'non-final run past the age',
      runs: [run('running', { status: 'running', finishedAt: null, queuedAt: NOW - 90 * DAY })],
      settings: { retentionDays: 30, retentionPerJob: 10 },
      expected: [],
    },
    {
      name: 'runs beyond the per-job count',
      runs: [run('a1', { queuedAt: 1 }), run('a2', { queuedAt: 2 }), run('a3', { queuedAt: 3 }), run('b1', { jobId: 'job-b', queuedAt: 4 })],
      settings: { retentionDays: 30, retentionPerJob: 2 },
      expected: ['a1'],
    },
    {
      name: 'non-final runs counting towards the newest',
      runs: [run('a1', { queuedAt: 1 }), run('a2', { queuedAt: 2 }), run('a3', { queuedAt: 3, status: 'queued', finishedAt: null })],
      settings: { retentionDays: 30, retentionPerJob: 2 },
      expected: ['a1'],
    },
    {
      name: 'ad-hoc runs by age only',
      runs: [run('x1', { jobId: null, queuedAt: 1 }), run('x2', { jobId: null, queuedAt: 2 })],
      settings: { retentionDays: 30, retentionPerJob: 1 },
      expected: [],
    },
  ];

  for (const { name, runs, settings, expected } of cases) {
    it(`selects ${name}`, () => {
      const expired = selectExpiredRuns(runs, settings, NOW);

      expect([...expired].sort()).toEqual(expected);
    });
  }
});
