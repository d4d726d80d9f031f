import { afterEach, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION } from 'farmboy-agent/protocol';
import { cleanup, createShellTask, startAgent, startAgents, startTestHub, rawAgentOptions, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

function rawAgent(hub: TestHub, auth: Record<string, unknown>): Socket {
  const socket = io(`${hub.agentUrl}${AGENT_NAMESPACE}`, { auth, ...rawAgentOptions(hub) });
  sockets.push(socket);
  return socket;
}

function connectError(socket: Socket): Promise<{ message: string; data?: { code: string; message: string } }> {
  return new Promise((resolve) => socket.on('connect_error', (error) => resolve(error as never)));
}

const validAuth = (hub: TestHub) => ({ protocolVersion: PROTOCOL_VERSION, agentId: 'raw-agent', name: 'raw', version: '0.0.0', token: hub.agentToken });

describe('agent handshake', () => {
  it('rejects a wrong token with a reason the agent prints', async () => {
    const hub = await startTestHub();

    const agent = await startAgent(hub, { token: 'not-the-token' });
    const code = await agent.exited;

    expect(code).toBe(1);
    expect(agent.output()).toContain('did not accept the enrollment token');
    expect(hub.service.listAgents()).toEqual([]);
  });

  it('rejects another protocol version', async () => {
    const hub = await startTestHub();

    const error = await connectError(rawAgent(hub, { ...validAuth(hub), protocolVersion: PROTOCOL_VERSION + 1 }));

    expect(error.data?.code).toBe('protocol_mismatch');
    expect(error.data?.message).toContain(`speaks protocol version ${PROTOCOL_VERSION + 1}`);
  });

  it.each([
    ['no auth at all', {}],
    ['a numeric agent id', { agentId: 42 }],
    ['an empty name', { name: '' }],
  ])('rejects a handshake with %s', async (_case, override) => {
    const hub = await startTestHub();
    const auth = Object.keys(override).length === 0 ? {} : { ...validAuth(hub), ...override };

    const error = await connectError(rawAgent(hub, auth));

    expect(error.data?.code).toBe('invalid_handshake');
  });

  it('keeps serving after malformed messages', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'good' }]);
    const bad = rawAgent(hub, validAuth(hub));
    await new Promise<void>((resolve) => bad.on('connect', () => resolve()));

    const garbage: unknown[] = [null, 42, 'text', [], { facts: 'x' }, { events: [{ type: 'finished' }] }, { events: [] }];
    for (const payload of garbage) {
      bad.emit('hello', payload, () => undefined);
      bad.emit('load', payload);
      bad.emit('events', payload, () => undefined);
      bad.emit('events', payload);
      bad.emit('no-such-event', payload);
    }
    bad.emit('events', { events: [{ runId: 'nope', attempt: 1, seq: 1, at: 1, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false }] }, () => undefined);
    const task = await createShellTask(hub, 'echo still serving');
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 15_000, 'run succeeded');

    expect(hub.runs.get(runId)?.agentId).toBe(hub.service.listAgents().find((agent) => agent.name === 'good')?.id);
    expect((await hub.api('GET', '/api/health')).status).toBe(200);
  });

  it('keeps the agent id across restarts', async () => {
    const hub = await startTestHub();
    const [first] = await startAgents(hub, [{ name: 'steady' }]);
    const id = hub.service.listAgents()[0]?.id;

    await first?.stop();
    await waitFor(() => hub.service.listAgents()[0]?.status === 'offline', 10_000, 'agent offline');
    await startAgent(hub, { name: 'steady', dataDir: first?.dataDir });
    await waitFor(() => hub.service.listAgents()[0]?.status === 'online', 10_000, 'agent online again');

    expect(hub.service.listAgents().map((agent) => agent.id)).toEqual([id]);
  });
});
