import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UI_NAMESPACE } from '../../electron/hub/ui-contract.js';
import { cleanup, createShellTask, onCleanup, startTestHub, type TestHub } from '../helpers/fleet.js';
import { captureLog } from './helpers.js';

afterEach(cleanup);

const LIMITS = { maxFailures: 3, windowMs: 60_000, blockMs: 1_500 };

async function call(hub: TestHub, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${hub.uiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

function connectUi(hub: TestHub, token: string): Promise<{ connected: boolean; code?: string; retryAfterSec?: number }> {
  const socket = io(`${hub.uiUrl}${UI_NAMESPACE}`, { auth: { token }, transports: ['websocket'], reconnection: false });
  onCleanup(() => void socket.close());
  return new Promise((resolve) => {
    socket.on('connect', () => resolve({ connected: true }));
    socket.on('connect_error', (error: Error & { data?: { code: string; retryAfterSec: number } }) =>
      resolve({ connected: false, code: error.data?.code, retryAfterSec: error.data?.retryAfterSec }),
    );
  });
}

describe('admin token', () => {
  it('rate-limits repeated wrong tokens', async () => {
    const log = captureLog();
    const hub = await startTestHub({ accessLimits: LIMITS, logger: log.logger });

    const wrong = [];
    for (let i = 0; i < LIMITS.maxFailures; i += 1) wrong.push((await call(hub, `guess-${i}`, 'GET', '/api/agents')).status);
    const blocked = await call(hub, 'one-more-guess', 'GET', '/api/agents');
    const ui = await connectUi(hub, 'one-more-guess');

    expect(wrong).toEqual([401, 401, 401]);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(blocked.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(ui).toMatchObject({ connected: false, code: 'rate_limited' });
    expect(log.entries('address blocked after repeated failed admin logins')[0]).toMatchObject({ address: expect.stringContaining('127.0.0.1') });
    expect(log.entries('admin access refused: wrong token')[0]).toMatchObject({ address: expect.stringContaining('127.0.0.1') });
    expect(log.text()).not.toContain('guess-0');
  });

  it('never refuses a valid token', async () => {
    const hub = await startTestHub({ accessLimits: LIMITS });
    for (let i = 0; i < LIMITS.maxFailures; i += 1) await call(hub, 'wrong', 'GET', '/api/agents');

    const guess = await call(hub, 'wrong', 'GET', '/api/agents');
    const response = await call(hub, hub.adminToken, 'GET', '/api/agents');
    const ui = await connectUi(hub, hub.adminToken);
    const guessAfter = await call(hub, 'wrong', 'GET', '/api/agents');

    expect(guess.status).toBe(429);
    expect(response.status).toBe(200);
    expect(ui.connected).toBe(true);
    expect(guessAfter.status).toBe(429);
  });

  it('lets the address in after the block', async () => {
    const hub = await startTestHub({ accessLimits: LIMITS });
    for (let i = 0; i < LIMITS.maxFailures; i += 1) await call(hub, 'wrong', 'GET', '/api/agents');

    await new Promise((resolve) => setTimeout(resolve, LIMITS.blockMs + 200));
    const response = await call(hub, 'wrong', 'GET', '/api/agents');

    expect(response.status).toBe(401);
  });

  it('refuses a wrong token on the UI socket', async () => {
    const hub = await startTestHub({ accessLimits: LIMITS });

    const ui = await connectUi(hub, 'not-the-token');

    expect(ui).toMatchObject({ connected: false, code: 'unauthorized' });
  });

  it('does not count missing tokens', async () => {
    const hub = await startTestHub({ accessLimits: LIMITS });

    for (let i = 0; i < LIMITS.maxFailures + 2; i += 1) await call(hub, '', 'GET', '/api/agents');
    const response = await call(hub, hub.adminToken, 'GET', '/api/agents');

    expect(response.status).toBe(200);
  });
});

describe('API keys', () => {
  async function createKey(hub: TestHub, scope: string): Promise<{ key: string; id: string }> {
    const response = await call(hub, hub.adminToken, 'POST', '/api/keys', { name: `${scope} script`, scope });
    const body = response.body as { key: string; apiKey: { id: string } };
    return { key: body.key, id: body.apiKey.id };
  }

  it.each([
    ['read', 'GET', '/api/agents', 200],
    ['read', 'GET', '/api/runs', 200],
    ['read', 'POST', '/api/tasks/:task/runs', 403],
    ['read', 'POST', '/api/tasks', 403],
    ['read', 'GET', '/api/agents/join', 403],
    ['read', 'GET', '/api/keys', 403],
    ['run', 'POST', '/api/tasks/:task/runs', 201],
    ['run', 'POST', '/api/tasks', 403],
    ['run', 'DELETE', '/api/tasks/:task', 403],
    ['run', 'GET', '/api/enrollment-tokens', 403],
    ['admin', 'POST', '/api/tasks', 201],
    ['admin', 'GET', '/api/agents/join', 200],
  ])('key of scope %s: %s %s gives %i', async (scope, method, path, expected) => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo hi');
    const { key } = await createKey(hub, scope);
    let body: unknown;
    if (method === 'POST') body = path === '/api/tasks' ? { name: 'new', runtime: 'shell', source: 'true' } : {};

    const response = await call(hub, key, method, path.replace(':task', task.id), body);

    expect(response.status).toBe(expected);
    if (expected === 403) expect(response.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('stops working once revoked', async () => {
    const hub = await startTestHub();
    const { key, id } = await createKey(hub, 'admin');

    const before = await call(hub, key, 'GET', '/api/agents');
    const revoked = await call(hub, hub.adminToken, 'POST', `/api/keys/${id}/revoke`);
    const after = await call(hub, key, 'GET', '/api/agents');

    expect(before.status).toBe(200);
    expect(revoked.body).toMatchObject({ id, revokedAt: expect.any(Number) });
    expect(after.status).toBe(401);
  });

  it('lists keys without their secret', async () => {
    const hub = await startTestHub();
    const { key } = await createKey(hub, 'read');

    const listed = await call(hub, hub.adminToken, 'GET', '/api/keys');
    await hub.store.flush();

    expect(key).toMatch(/^fbk_/);
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(JSON.stringify(hub.store.state.apiKeys)).not.toContain(key);
  });
});

describe('join command route', () => {
  it('returns the command and its parts', async () => {
    const hub = await startTestHub();

    const response = await call(hub, hub.adminToken, 'GET', '/api/agents/join');

    const join = response.body as { command: string; url: string; token: string; fingerprint: string };
    expect(join.fingerprint).toBe(hub.fingerprint);
    expect(join.token).toBe(hub.agentToken);
    expect(join.url).toMatch(/^https:\/\/[^/]+:\d+$/);
    expect(join.command).toBe(`npx farmboy-agent --hub ${join.url} --token ${join.token} --fingerprint ${join.fingerprint}`);
  });
});
