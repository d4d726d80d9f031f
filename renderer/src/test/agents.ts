import type { AgentView } from '../../../electron/hub/model.js';

/** Builds an online, idle agent as the hub lists it, with `overrides` applied. */
export function makeAgentView(overrides: Partial<AgentView> = {}): AgentView {
  return {
    id: 'a',
    name: 'box',
    tags: [],
    slots: 2,
    maxLoad: null,
    facts: null,
    version: '1.0.0',
    firstSeenAt: 0,
    lastSeenAt: 0,
    draining: false,
    status: 'online',
    running: 0,
    load: null,
    cpu: null,
    freeMemoryBytes: null,
    ...overrides,
  };
}
