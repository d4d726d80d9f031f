import type { AgentUnhealthy, AgentView } from '../../../../electron/hub/model.js';
import { formatRelative, formatTime } from '../../lib/format.js';

/** Returns the agent's start-failure back-off while it lasts at `now`, or null. */
export function currentBackoff(agent: AgentView, now: number): AgentUnhealthy | null {
  const unhealthy = agent.unhealthy ?? null;
  return unhealthy !== null && unhealthy.until > now ? unhealthy : null;
}

/** Describes a back-off for the Fleet view, such as "unhealthy: 3 runs failed to start: ... (until 10:31:05, in 25 s)". */
export function describeBackoff(unhealthy: AgentUnhealthy, now: number): string {
  return `unhealthy: ${unhealthy.reason} (until ${formatTime(unhealthy.until)}, ${formatRelative(unhealthy.until, now)})`;
}
