import type { AgentView } from '../../../../electron/hub/model.js';
import { formatRelative } from '../../lib/format.js';

/**
 * How long a connected agent may stay silent and still show as seen "now":
 * a little over two of its load reports, which come every 2 s by default.
 */
export const SEEN_NOW_MS = 5_000;

/**
 * Describes when the hub last received a message from the agent. A connection
 * that failed silently still shows as online for up to about 20 s, so an
 * online agent that stopped reporting shows its real age too.
 */
export function describeLastSeen(agent: AgentView, now: number): string {
  if (agent.status !== 'offline' && now - agent.lastSeenAt < SEEN_NOW_MS) return 'now';
  return formatRelative(agent.lastSeenAt, now);
}
