import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_NAMESPACE, PROTOCOL_VERSION } from 'farmboy-agent/protocol';
import { cleanup, onCleanup, rawAgentOptions, startAgent, startAgents, startTestHub, waitFor, type TestAgent, type TestHub } from '../helpers/fleet.js';
import { captureLog } from './helpers.js';

afterEach(cleanup);

interface ConnectOutcome {
  connected: boolean;
  code?: string;
  message?: string;
}

/** Opens a hand-made agent connection and reports whether the hub accepted it. */
function connectRaw(hub: TestHub, auth: Record<string, unknown>): Promise<ConnectOutcome & { socket: Socket }> {
  const socket = io(`${hub.agentUrl}${AGENT_NAMESPACE}`, { auth, ...rawAgentOptions(hub) });
  onCleanup(() => void socket.close());
  return new Promise((resolve) => {
    socket.on('connect', () => resolve({ connected: true, socket }));
    socket.on('connect_error', (error: Error & { data?: { code: string; message: string } }) =>
      resolve({ connected: false, code: error.data?.code, message: error.data?.message, socket }),
    );
  });
}

async function enrolledAgent(hub: TestHub, name = 'enrolled'): Promise<{ agent: TestAgent; agentId: string; credential: string }> {
  const [agent] = await startAgents(hub, [{ name }]);
  const agentId = hub.service.listAgents().find((view) => view.name === name)?.id as string;
  await waitFor(() => hub.store.state.agentCredentials?.find((entry) => entry.agentId === agentId)?.confirmedAt, 10_000, 'credential confirmed');
  const trust = JSON.parse(await readFile(join(agent?.dataDir as string, 'hub-trust.json'), 'utf8')) as { credential: string };
  return { agent: agent as TestAgent, agentId, credential: trust.credential };
}

const baseAuth = (agentId: string) => ({ protocolVersion: PROTOCOL_VERSION, agentId, name: 'raw', version: '0.0.0' });

describe('agent credentials', () => {
  it('disconnects a forgotten agent at once', async () => {
    const hub = await startTestHub();
    const { agent, agentId } = await enrolledAgent(hub);

    const response = await hub.api('DELETE', `/api/agents/${agentId}`);
    const code = await agent.exited;

    expect(response.status).toBe(204);
    expect(code).toBe(1);
    expect(agent.output()).toContain('removed from the fleet');
    expect(hub.store.state.agentCredentials).toEqual([]);
  });

  it('keeps a revoked agent out', async () => {
    const hub = await startTestHub();
    const { agent, agentId } = await enrolledAgent(hub);
    await hub.api('DELETE', `/api/agents/${agentId}`);
    await agent.exited;

    const again = await startAgent(hub, { dataDir: agent.dataDir });
    const code = await again.exited;

    expect(code).toBe(1);
    expect(again.output()).toContain("does not accept this agent's credential");
    expect(hub.service.listAgents()).toEqual([]);
  });

  it.each([
    ['the enrollment token only', (_credential: string, hub: TestHub) => ({ token: hub.agentToken }), 'bad_credential'],
    ['a wrong credential', () => ({ credential: 'not-the-credential' }), 'bad_credential'],
    ['a wrong credential and the token', (_credential: string, hub: TestHub) => ({ credential: 'nope', token: hub.agentToken }), 'bad_credential'],
  ])('refuses a second connection with %s', async (_case, authOf, expected) => {
    const hub = await startTestHub();
    const { agent, agentId, credential } = await enrolledAgent(hub);

    const outcome = await connectRaw(hub, { ...baseAuth(agentId), ...authOf(credential, hub) });

    expect(outcome.connected).toBe(false);
    expect(outcome.code).toBe(expected);
    expect(agent.process.exitCode).toBeNull();
    expect(hub.service.getAgent(agentId).status).toBe('online');
  });

  it('lets the credential replace a connection', async () => {
    const log = captureLog();
    const hub = await startTestHub({ logger: log.logger });
    const { agent, agentId, credential } = await enrolledAgent(hub);

    const outcome = await connectRaw(hub, { ...baseAuth(agentId), credential });
    const code = await agent.exited;

    expect(outcome.connected).toBe(true);
    expect(code).toBe(1);
    expect(agent.output()).toContain('Another connection with the same agent id took over');
    const replaced = log.entries('agent connection replaced by a newer one with a valid credential');
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).toMatchObject({ agentId, address: expect.any(String), previousAddress: expect.any(String) });
    expect(log.text()).not.toContain(credential);
  });

  it('refuses a token for a connected id', async () => {
    const hub = await startTestHub();
    const first = await connectRaw(hub, { ...baseAuth('twin'), token: hub.agentToken });

    const second = await connectRaw(hub, { ...baseAuth('twin'), token: hub.agentToken });

    expect(first.connected).toBe(true);
    expect(second.connected).toBe(false);
    expect(second.code).toBe('agent_id_in_use');
  });
});

describe('enrollment tokens', () => {
  async function createToken(hub: TestHub, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const response = await hub.api<{ token: string; enrollmentToken: { id: string } }>('POST', '/api/enrollment-tokens', body);
    if (response.status !== 201) throw new Error(`token not created: ${JSON.stringify(response.body)}`);
    return { id: response.body.enrollmentToken.id, token: response.body.token };
  }

  it('enrolls no more than its use count', async () => {
    const hub = await startTestHub();
    const { id, token } = await createToken(hub, { name: 'one use', maxUses: 1 });
    await startAgents(hub, [{ name: 'first', token }]);

    const second = await startAgent(hub, { name: 'second', token });
    const code = await second.exited;

    expect(code).toBe(1);
    expect(second.output()).toContain('did not accept the enrollment token');
    const listed = await hub.api<Array<{ id: string; uses: number; maxUses: number | null }>>('GET', '/api/enrollment-tokens');
    expect(listed.body.find((entry) => entry.id === id)).toMatchObject({ uses: 1, maxUses: 1 });
  });

  it('enrolls nothing after it expires', async () => {
    const hub = await startTestHub();
    const { token } = await createToken(hub, { name: 'short', expiresAt: Date.now() + 500 });
    await new Promise((resolve) => setTimeout(resolve, 600));

    const outcome = await connectRaw(hub, { ...baseAuth('late'), token });

    expect(outcome.code).toBe('bad_token');
  });

  it('enrolls nothing once revoked', async () => {
    const hub = await startTestHub();
    const { id, token } = await createToken(hub, { name: 'revoked' });

    const revoked = await hub.api<{ revokedAt: number | null }>('POST', `/api/enrollment-tokens/${id}/revoke`);
    const outcome = await connectRaw(hub, { ...baseAuth('after-revoke'), token });

    expect(revoked.body.revokedAt).toEqual(expect.any(Number));
    expect(outcome.code).toBe('bad_token');
  });

  it('keeps only hashes of tokens', async () => {
    const hub = await startTestHub();
    const { token } = await createToken(hub, { name: 'hashed' });

    const listed = await hub.api('GET', '/api/enrollment-tokens');
    await hub.store.flush();
    const file = await readFile(join(hub.dataDir, 'farmboy.json'), 'utf8');

    expect(token.length).toBeGreaterThanOrEqual(22);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    expect(file).not.toContain(token);
  });
});
