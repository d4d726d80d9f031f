import { describe, expect, it } from 'vitest';
import type { AgentView } from '../../../../electron/hub/model.js';
import { makeAgentView } from '../../test/agents.js';
import { agentChoices } from './agent-choices.js';

function agent(id: string, name: string, status: AgentView['status']): AgentView {
  return makeAgentView({ id, name, status, slots: 1, draining: status === 'draining' });
}

const FLEET = [agent('b', 'beta', 'online'), agent('a', 'alpha', 'online'), agent('c', 'gamma', 'offline'), agent('d', 'delta', 'draining')];

describe('test run agent choices', () => {
  it('lists any then online agents', () => {
    expect(agentChoices(FLEET, 'any')).toEqual([
      { value: 'any', label: 'Any agent' },
      { value: 'a', label: 'alpha' },
      { value: 'b', label: 'beta' },
    ]);
  });

  it('keeps a chosen agent gone offline', () => {
    expect(agentChoices(FLEET, 'c').map((choice) => choice.label)).toEqual(['Any agent', 'alpha', 'beta', 'gamma (offline)']);
  });
});
