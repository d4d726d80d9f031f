/**
 * Colours and words for run and agent statuses, one table for every page.
 */
import type { AgentStatus, RunStatus } from '../../../electron/hub/model.js';

export const RUN_STATUS: Record<RunStatus, { label: string; color: string }> = {
  queued: { label: 'Queued', color: 'gray' },
  assigned: { label: 'Assigned', color: 'cyan' },
  running: { label: 'Running', color: 'blue' },
  succeeded: { label: 'Succeeded', color: 'farm' },
  failed: { label: 'Failed', color: 'red' },
  timed_out: { label: 'Timed out', color: 'orange' },
  cancelled: { label: 'Cancelled', color: 'yellow' },
  lost: { label: 'Lost', color: 'grape' },
  missed: { label: 'Missed', color: 'dark' },
  skipped: { label: 'Skipped', color: 'indigo' },
};

export const AGENT_STATUS: Record<AgentStatus, { label: string; color: string }> = {
  online: { label: 'Online', color: 'farm' },
  draining: { label: 'Draining', color: 'yellow' },
  offline: { label: 'Offline', color: 'gray' },
};
