import { describe, expect, it } from 'vitest';
import type { AgentView } from '../../../../electron/hub/model.js';
import { formatTime } from '../../lib/format.js';
import { makeAgentView } from '../../test/agents.js';
import { currentBackoff, describeBackoff } from './unhealthy.js';

const NOW = Date.UTC(2026, 0, 1, 10, 30, 40);
const REASON = '3 runs failed to start: could not start the task: ENOSPC: no space left on device';

function agent(unhealthy: AgentView['unhealthy']): AgentView {
  return makeAgentView({ lastSeenAt: NOW, unhealthy });
}

describe('agent back-off display', () => {
  it.each([
    ['no back-off', undefined, null],
    ['a healthy agent', null, null],
    ['a back-off that ended', { reason: REASON, until: NOW - 1 }, null],
    ['a running back-off', { reason: REASON, until: NOW + 25_000 }, { reason: REASON, until: NOW + 25_000 }],
  ])('shows %s', (_name, unhealthy, expected) => {
    expect(currentBackoff(agent(unhealthy), NOW)).toEqual(expected);
  });

  it('names the reason and the end', () => {
    const until = NOW + 25_000;

    const text = describeBackoff({ reason: REASON, until }, NOW);

    expect(text).toBe(`unhealthy: ${REASON} (until ${formatTime(until)}, in 25 s)`);
  });
});
