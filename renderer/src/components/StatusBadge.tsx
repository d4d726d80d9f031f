/**
 * A run's or an agent's status as a coloured badge; `data-status` carries the raw value for tests.
 */
import { Badge, Loader } from '@mantine/core';
import type { AgentStatus, RunStatus } from '../../../electron/hub/model.js';
import { AGENT_STATUS, RUN_STATUS } from '../lib/status.js';

export function RunStatusBadge({ status, size = 'sm' }: { status: RunStatus; size?: 'xs' | 'sm' | 'md' | 'lg' }) {
  const { label, color } = RUN_STATUS[status];
  const live = status === 'running' || status === 'assigned';
  return (
    <Badge color={color} variant="light" size={size} data-status={status} leftSection={live ? <Loader size={8} color={color} /> : null}>
      {label}
    </Badge>
  );
}

export function AgentStatusBadge({ status }: { status: AgentStatus }) {
  const { label, color } = AGENT_STATUS[status];
  return (
    <Badge color={color} variant="dot" size="sm" data-status={status}>
      {label}
    </Badge>
  );
}
