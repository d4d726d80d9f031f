import { describe, expect, it } from 'vitest';
import type { AgentView } from '../../../../electron/hub/model.js';
import { makeAgentView } from '../../test/agents.js';
import { describeLastSeen } from './last-seen.js';

const NOW = Date.UTC(2026, 0, 1, 10, 30, 40);

function agent(status: AgentView['status'], silentMs: number): AgentView {
  return makeAgentView({ status, lastSeenAt: NOW - silentMs });
}

describe('agent last seen text', () => {
  it.each([
    ['an online agent that reports', 'online', 1_500, 'now'],
    ['an online agent gone silent', 'online', 15_000, '15 s ago'],
    ['a draining agent gone silent', 'draining', 8_000, '8 s ago'],
    ['an offline agent', 'offline', 1_500, '1 s ago'],
    ['an agent offline for minutes', 'offline', 180_000, '3 min ago'],
  ] as const)('shows %s', (_name, status, silentMs, expected) => {
    expect(describeLastSeen(agent(status, silentMs), NOW)).toBe(expected);
  });
});
