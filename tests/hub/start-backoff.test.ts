import { describe, expect, it } from 'vitest';
import type { Hello } from 'farmboy-agent/protocol';
import { Fleet, START_BACKOFF_BASE_MS, START_BACKOFF_MAX_MS } from '../../electron/hub/fleet.js';
import { pickAgent, type Candidate } from '../../electron/hub/placement.js';

const ENOSPC = 'could not start the task: ENOSPC: no space left on device';

const HELLO: Hello = {
  facts: { hostname: 'box', platform: 'linux', arch: 'x64', cpus: 2, memoryBytes: 2 ** 30, nodeVersion: 'v20.0.0' },
  tags: [],
  slots: 2,
  maxLoad: null,
  runs: [],
};

function connectedFleet(): Fleet {
  const fleet = new Fleet([]);
  fleet.connect('a', 'box', '1.0.0', HELLO, 0);
  return fleet;
}

/** Fails `count` starts on agent a, one second apart from `from`, and returns the time after the last. */
function failStarts(fleet: Fleet, count: number, from: number): number {
  let now = from;
  for (let i = 0; i < count; i += 1) {
    fleet.noteStartFailure('a', ENOSPC, now);
    now += 1_000;
  }
  return now;
}

function candidate(id: string, overrides: Partial<Candidate> = {}): Candidate {
  return { id, online: true, draining: false, tags: [], slots: 4, running: 0, maxLoad: null, load: 0.1, cpu: null, cpus: 4, assignedSinceReport: 0, lastAssignedAt: 0, ...overrides };
}

describe('start failure back-off', () => {
  it('begins at the third failure', () => {
    const fleet = connectedFleet();

    const afterTwo = failStarts(fleet, 2, 1_000);
    const healthyAfterTwo = fleet.get('a')?.unhealthy;
    failStarts(fleet, 1, afterTwo);
    const unhealthy = fleet.get('a')?.unhealthy;

    expect(healthyAfterTwo).toBeNull();
    expect(unhealthy?.reason).toBe(`3 runs failed to start: ${ENOSPC}`);
    expect(unhealthy?.until).toBe(afterTwo + START_BACKOFF_BASE_MS);
  });

  it('doubles up to ten minutes', () => {
    const fleet = connectedFleet();
    const lengths: number[] = [];

    let now = failStarts(fleet, 2, 0);
    for (let round = 0; round < 8; round += 1) {
      fleet.noteStartFailure('a', ENOSPC, now);
      const until = fleet.get('a')?.unhealthy?.until ?? now;
      lengths.push(until - now);
      now = until;
    }

    expect(lengths).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, START_BACKOFF_MAX_MS, START_BACKOFF_MAX_MS, START_BACKOFF_MAX_MS]);
  });

  it('does not grow during a back-off', () => {
    const fleet = connectedFleet();
    const now = failStarts(fleet, 3, 0);
    const until = fleet.get('a')?.unhealthy?.until;

    failStarts(fleet, 2, now);

    expect(fleet.get('a')?.unhealthy?.until).toBe(until);
  });

  it.each([
    ['a run that starts', (fleet: Fleet) => fleet.noteStarted('a')],
    ['the user', (fleet: Fleet) => fleet.clearUnhealthy('a')],
  ])('is reset by %s', (_name, reset) => {
    const fleet = connectedFleet();
    failStarts(fleet, 3, 0);

    reset(fleet);
    failStarts(fleet, 2, 100_000);

    expect(fleet.get('a')?.unhealthy).toBeNull();
    expect(fleet.view('a')?.unhealthy).toBeNull();
  });
});

describe('placement with unhealthy agents', () => {
  const until = Date.UTC(2026, 0, 1, 10, 31, 5);
  const sick = { reason: `3 runs failed to start: ${ENOSPC}`, until };

  it('skips an unhealthy agent', () => {
    const placement = pickAgent([candidate('a', { unhealthy: sick, load: 0 }), candidate('b', { load: 0.9 })], { tags: [], avoid: [] });

    expect(placement.agentId).toBe('b');
  });

  it.each([
    ['names the only agent', { tags: [], avoid: [] }, 'waiting for a free agent: 1 matching online, agent box is unhealthy until 10:31:05 UTC (3 runs failed to start: could not start the task: ENOSPC: no space left on device)'],
    ['names a pinned agent', { tags: [], avoid: [], pinned: 'a' }, 'waiting for the chosen agent: it is unhealthy until 10:31:05 UTC (3 runs failed to start: could not start the task: ENOSPC: no space left on device)'],
  ])('%s in the waiting reason', (_name, requirement, expected) => {
    const placement = pickAgent([candidate('a', { name: 'box', unhealthy: sick })], requirement);

    expect(placement).toEqual({ agentId: null, waitingReason: expected });
  });

  it('lists several unhealthy agents', () => {
    const fleet = ['a', 'b', 'c', 'd'].map((id) => candidate(id, { name: `box-${id}`, unhealthy: sick }));

    const placement = pickAgent(fleet, { tags: [], avoid: [] });

    expect(placement.agentId).toBeNull();
    expect(placement).toMatchObject({ waitingReason: 'waiting for a free agent: 4 matching online, 4 unhealthy after failing to start runs (box-a, box-b, box-c and 1 more)' });
  });

  it('keeps an excluded agent out', () => {
    const placement = pickAgent([candidate('a', { load: 0 }), candidate('b', { load: 0.5 })], { tags: [], avoid: [], exclude: ['a'] });
    const alone = pickAgent([candidate('a')], { tags: [], avoid: [], exclude: ['a'] });

    expect(placement.agentId).toBe('b');
    expect(alone).toEqual({ agentId: null, waitingReason: 'waiting for a free agent: 1 matching online, 1 still reporting the end of the previous attempt' });
  });
});
