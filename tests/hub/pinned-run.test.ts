import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { pickAgent, type Candidate } from '../../electron/hub/placement.js';
import { cleanup, createShellTask, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

type ErrorBody = { error: { code: string; field?: string } };

function candidate(id: string, overrides: Partial<Candidate> = {}): Candidate {
  return { id, online: true, draining: false, tags: [], slots: 2, running: 0, maxLoad: null, load: 0, cpu: null, cpus: 4, assignedSinceReport: 0, lastAssignedAt: 0, ...overrides };
}

describe('placement of a pinned run', () => {
  it.each([
    ['offline', { online: false }, 'waiting for the chosen agent: it is offline'],
    ['draining', { draining: true }, 'waiting for the chosen agent: it is draining'],
    ['full', { running: 2 }, 'waiting for the chosen agent: it has no free slot'],
    ['overloaded', { maxLoad: 0.5, load: 0.9 }, 'waiting for the chosen agent: it is above its maximum load'],
  ])('waits while the agent is %s', (_case, overrides, reason) => {
    const candidates = [candidate('idle', { load: 0 }), candidate('pinned', overrides)];

    const placement = pickAgent(candidates, { tags: [], avoid: [], pinned: 'pinned' });

    expect(placement).toEqual({ agentId: null, waitingReason: reason });
  });

  it('picks the pinned agent over idler ones', () => {
    const candidates = [candidate('idle', { load: 0 }), candidate('busy', { load: 0.9, running: 1 })];

    const placement = pickAgent(candidates, { tags: [], avoid: ['busy'], pinned: 'busy' });

    expect(placement).toEqual({ agentId: 'busy' });
  });

  it('waits for an unknown pinned agent', () => {
    const placement = pickAgent([candidate('a')], { tags: [], avoid: [], pinned: 'gone' });

    expect(placement).toEqual({ agentId: null, waitingReason: 'waiting for the chosen agent: it is not in the fleet' });
  });
});

function agentIdByName(hub: TestHub, name: string): string {
  const agent = hub.service.listAgents().find((entry) => entry.name === name);
  if (!agent) throw new Error(`no agent named ${name}`);
  return agent.id;
}

describe('test run pinned to an agent', { timeout: 60_000 }, () => {
  it('lands on the chosen agent', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'alpha' }, { name: 'beta' }, { name: 'gamma' }]);
    const task = await createShellTask(hub, 'sleep 0.5; echo done', 'pinned');
    const beta = agentIdByName(hub, 'beta');

    const started = [];
    for (let index = 0; index < 4; index += 1) started.push(await hub.api<Run>('POST', `/api/tasks/${task.id}/runs`, { agentId: beta }));
    const ids = started.map((response) => response.body.id);
    await waitFor(() => ids.every((id) => hub.service.getRun(id).status === 'succeeded'), 30_000, 'pinned runs succeeded');

    expect(started.map((response) => response.status)).toEqual([201, 201, 201, 201]);
    expect(ids.map((id) => hub.service.getRun(id).agentId)).toEqual([beta, beta, beta, beta]);
    expect(hub.service.getRun(ids[0] as string).pinnedAgentId).toBe(beta);
  });

  it('waits with a reason while its agent is offline', async () => {
    const hub = await startTestHub();
    const [, beta] = await startAgents(hub, [{ name: 'alpha' }, { name: 'beta' }]);
    const task = await createShellTask(hub, 'echo done', 'pinned');
    const betaId = agentIdByName(hub, 'beta');
    await beta?.stop();
    await waitFor(() => hub.service.getAgent(betaId).status === 'offline', 10_000, 'beta offline');

    const response = await hub.api<Run>('POST', `/api/tasks/${task.id}/runs`, { agentId: betaId });
    // Several dispatch passes and ticks go by while alpha stays online and idle.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const waiting = hub.service.getRun(response.body.id);
    await startAgent(hub, { name: 'beta', dataDir: beta?.dataDir, token: null });
    const done = await waitFor(() => {
      const run = hub.service.getRun(response.body.id);
      return run.status === 'succeeded' && run;
    }, 20_000, 'pinned run succeeded after beta came back');

    expect(waiting.status).toBe('queued');
    expect(waiting.agentId).toBeNull();
    expect(waiting.waitingReason).toBe('waiting for the chosen agent: it is offline');
    expect(done.agentId).toBe(betaId);
  });

  it('rejects an unknown agent id', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo done', 'pinned');

    const response = await hub.api<ErrorBody>('POST', `/api/tasks/${task.id}/runs`, { agentId: 'no-such-agent' });

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe('agentId');
    expect(hub.service.listRuns({})).toHaveLength(0);
  });
});
