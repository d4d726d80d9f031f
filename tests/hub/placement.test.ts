import { describe, expect, it } from 'vitest';
import { pickAgent, type Candidate } from '../../electron/hub/placement.js';

function agent(id: string, overrides: Partial<Candidate> = {}): Candidate {
  return {
    id,
    online: true,
    draining: false,
    tags: [],
    slots: 4,
    running: 0,
    maxLoad: null,
    load: 0.1,
    cpu: null,
    cpus: 4,
    assignedSinceReport: 0,
    lastAssignedAt: 0,
    ...overrides,
  };
}

const anyAgent = { tags: [], avoid: [] };

describe('pickAgent', () => {
  it('prefers the lowest reported load', () => {
    const placement = pickAgent([agent('a', { load: 0.9 }), agent('b', { load: 0.2 }), agent('c', { load: 0.5 })], anyAgent);

    expect(placement.agentId).toBe('b');
  });

  it('counts runs assigned since the last report', () => {
    const placement = pickAgent([agent('a', { load: 0.1, assignedSinceReport: 2 }), agent('b', { load: 0.3 })], anyAgent);

    expect(placement.agentId).toBe('b');
  });

  it('breaks ties by least recent assignment', () => {
    const placement = pickAgent([agent('a', { lastAssignedAt: 20 }), agent('b', { lastAssignedAt: 10 })], anyAgent);

    expect(placement.agentId).toBe('b');
  });

  it('spreads a burst evenly over equal agents', () => {
    const fleet = [agent('a'), agent('b'), agent('c')].map((entry) => ({ ...entry, slots: 20 }));
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };

    for (let i = 0; i < 30; i += 1) {
      const placement = pickAgent(fleet, anyAgent);
      const chosen = fleet.find((entry) => entry.id === placement.agentId);
      if (!chosen) throw new Error('no agent chosen');
      chosen.running += 1;
      chosen.assignedSinceReport += 1;
      chosen.lastAssignedAt = i + 1;
      counts[chosen.id] = (counts[chosen.id] ?? 0) + 1;
    }

    expect(counts).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('counts held runs after a report', () => {
    const justReported = agent('a', { slots: 8, load: 0.1, running: 6, assignedSinceReport: 0 });
    const quiet = agent('b', { slots: 8, load: 0.3, running: 1, assignedSinceReport: 0 });

    const placement = pickAgent([justReported, quiet], anyAgent);

    expect(placement.agentId).toBe('b');
  });

  it.each([
    ['a third into the burst', 9],
    ['two thirds into the burst', 20],
    ['near the end of the burst', 26],
  ])('spreads a burst across a report %s', (_name, reportAfter) => {
    const fleet = [agent('a'), agent('b'), agent('c')].map((entry) => ({ ...entry, slots: 20 }));
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };

    for (let i = 0; i < 30; i += 1) {
      // Agent a reports mid-burst, and its load average has not caught up with the runs it was given.
      if (i === reportAfter) (fleet[0] as Candidate).assignedSinceReport = 0;
      const placement = pickAgent(fleet, anyAgent);
      const chosen = fleet.find((entry) => entry.id === placement.agentId);
      if (!chosen) throw new Error('no agent chosen');
      chosen.running += 1;
      chosen.assignedSinceReport += 1;
      chosen.lastAssignedAt = i + 1;
      counts[chosen.id] = (counts[chosen.id] ?? 0) + 1;
    }

    expect(counts).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('treats an unknown load as busy', () => {
    const placement = pickAgent([agent('windows', { load: null, cpu: null }), agent('linux', { load: 0.6 })], anyAgent);

    expect(placement.agentId).toBe('linux');
  });

  it('uses cpu utilisation where load is unknown', () => {
    const placement = pickAgent([agent('windows', { load: null, cpu: 0.05 }), agent('linux', { load: 0.6 })], anyAgent);

    expect(placement.agentId).toBe('windows');
  });

  it('avoids earlier agents when another is eligible', () => {
    const fleet = [agent('a', { load: 0 }), agent('b', { load: 0.8 })];

    expect(pickAgent(fleet, { tags: [], avoid: ['a'] }).agentId).toBe('b');
    expect(pickAgent([agent('a')], { tags: [], avoid: ['a'] }).agentId).toBe('a');
  });

  it.each([
    ['no agents at all', [], [], 'no agent has joined'],
    ['every agent offline', [agent('a', { online: false })], [], 'offline'],
    ['missing tags', [agent('a', { tags: ['cpu'] })], ['gpu'], 'with tags gpu: no online agent carries them'],
    ['every agent draining', [agent('a', { draining: true })], [], 'draining'],
    ['the tagged agent draining', [agent('a', { tags: ['gpu'], draining: true }), agent('b')], ['gpu'], 'with tags gpu: every online agent that could take it is draining'],
    ['no free slot', [agent('a', { slots: 1, running: 1 })], [], '1 with no free slot'],
    ['over maximum load', [agent('a', { maxLoad: 0.5, load: 0.7 })], [], 'above their maximum load'],
  ])('explains the wait: %s', (_name, fleet, tags, expected) => {
    const placement = pickAgent(fleet, { tags, avoid: [] });

    expect(placement.agentId).toBeNull();
    expect('waitingReason' in placement ? placement.waitingReason : '').toContain(expected);
  });

  it('requires every targeted tag', () => {
    const fleet = [agent('a', { tags: ['gpu'] }), agent('b', { tags: ['gpu', 'eu'], load: 0.9 })];

    expect(pickAgent(fleet, { tags: ['gpu', 'eu'], avoid: [] }).agentId).toBe('b');
  });
});
