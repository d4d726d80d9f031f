/** Choices of the test run's agent picker. */
import type { AgentView } from '../../../../electron/hub/model.js';

/** Value of the picker's first choice, which lets the hub place the run on any eligible agent. */
export const ANY_AGENT = 'any';

/** Returns any agent, then every online agent by name, plus the chosen one if it went offline or started draining since. */
export function agentChoices(agents: readonly AgentView[], chosen: string): { value: string; label: string }[] {
  const listed = agents.filter((agent) => agent.status === 'online' || agent.id === chosen);
  const sorted = [...listed].sort((a, b) => a.name.localeCompare(b.name));
  const choices = sorted.map((agent) => ({ value: agent.id, label: agent.status === 'online' ? agent.name : `${agent.name} (${agent.status})` }));
  return [{ value: ANY_AGENT, label: 'Any agent' }, ...choices];
}
