import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startAgent, startAgents, startTestHub, tempDir, waitFor } from '../helpers/fleet.js';
import { startImpostorHub } from './helpers.js';

afterEach(cleanup);

const WRONG_FINGERPRINT = `sha256:${'0'.repeat(64)}`;

async function readTrustFile(dataDir: string): Promise<{ fingerprint: string | null; credential: string | null }> {
  return JSON.parse(await readFile(join(dataDir, 'hub-trust.json'), 'utf8')) as { fingerprint: string | null; credential: string | null };
}

describe('hub certificate pinning', () => {
  it('shows the fingerprint and serves TLS', async () => {
    const hub = await startTestHub();

    expect(hub.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hub.agentUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await stat(join(hub.dataDir, 'hub-key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('keeps the identity across restarts', async () => {
    const dataDir = await tempDir('hub');
    const first = await startTestHub({ dataDir });
    const fingerprint = first.fingerprint;
    await first.stop();

    const second = await startTestHub({ dataDir });

    expect(second.fingerprint).toBe(fingerprint);
  });

  it('refuses a hub with another certificate', async () => {
    const hub = await startTestHub();

    const agent = await startAgent(hub, { fingerprint: WRONG_FINGERPRINT });
    const code = await agent.exited;

    expect(code).toBe(1);
    expect(agent.output()).toContain(`its certificate fingerprint is ${hub.fingerprint}`);
    expect(agent.output()).toContain(`this agent expects ${WRONG_FINGERPRINT}`);
    expect(agent.output()).toContain('Check that --hub points at your Farmboy hub');
    expect(hub.service.listAgents()).toEqual([]);
  });

  it('sends an impostor nothing after the handshake', async () => {
    const hub = await startTestHub();
    const impostor = await startImpostorHub();

    const agent = await startAgent(hub, { hubUrl: impostor.url });
    const code = await agent.exited;

    expect(code).toBe(1);
    expect(impostor.connections).toBeGreaterThanOrEqual(1);
    expect(impostor.requests).toEqual([]);
    expect(agent.output()).toContain(`its certificate fingerprint is ${impostor.identity.fingerprint}`);
    expect(agent.output()).not.toContain(hub.agentToken as string);
  });

  it('stores the pin and the credential', async () => {
    const hub = await startTestHub();
    const [agent] = await startAgents(hub, [{ name: 'pinned' }]);
    const dataDir = agent?.dataDir as string;

    const trust = await waitFor(async () => (await readTrustFile(dataDir).catch(() => null))?.credential && readTrustFile(dataDir), 10_000, 'trust file');
    const mode = (await stat(join(dataDir, 'hub-trust.json'))).mode & 0o777;

    expect(trust.fingerprint).toBe(hub.fingerprint);
    expect(mode).toBe(0o600);
    const stored = JSON.stringify(hub.store.state.agentCredentials);
    expect(stored).not.toContain(trust.credential as string);
    expect(hub.store.state.agentCredentials).toHaveLength(1);
  });

  it('restarts with only the hub address', async () => {
    const hub = await startTestHub();
    const [first] = await startAgents(hub, [{ name: 'steady' }]);
    await waitFor(async () => (await readTrustFile(first?.dataDir as string).catch(() => null))?.credential, 10_000, 'trust file');
    await first?.stop();
    await waitFor(() => hub.service.listAgents()[0]?.status === 'offline', 10_000, 'agent offline');

    const second = await startAgent(hub, { name: 'steady', dataDir: first?.dataDir, token: null, fingerprint: null });
    await waitFor(() => hub.service.listAgents()[0]?.status === 'online', 10_000, 'agent online again');

    expect(second.process.spawnargs).not.toContain('--token');
    expect(second.process.spawnargs).not.toContain('--fingerprint');
    expect(hub.service.listAgents()).toHaveLength(1);
  });

  it('checks the stored pin on later starts', async () => {
    const hub = await startTestHub();
    const [first] = await startAgents(hub, [{ name: 'steady' }]);
    await waitFor(async () => (await readTrustFile(first?.dataDir as string).catch(() => null))?.credential, 10_000, 'trust file');
    await first?.stop();
    const impostor = await startImpostorHub();

    const second = await startAgent(hub, { dataDir: first?.dataDir, hubUrl: impostor.url, token: null, fingerprint: null });
    const code = await second.exited;

    expect(code).toBe(1);
    expect(second.output()).toContain(`this agent expects ${hub.fingerprint}`);
    expect(impostor.requests).toEqual([]);
  });

  it('needs a fingerprint on the first start', async () => {
    const hub = await startTestHub();

    const agent = await startAgent(hub, { fingerprint: null });
    const code = await agent.exited;

    expect(code).toBe(2);
    expect(agent.output()).toContain('Option --fingerprint is required on the first start');
  });
});

describe('insecure agent port', () => {
  it('connects when both sides opt in', async () => {
    const hub = await startTestHub({ insecure: true });

    const [agent] = await startAgents(hub, [{ name: 'plain' }]);

    expect(hub.agentUrl).toMatch(/^http:\/\//);
    expect(hub.fingerprint).toBeNull();
    expect(agent?.output()).toContain('WARNING: --insecure');
    expect(agent?.process.spawnargs).toContain('--insecure');
  });

  it('refuses http without the flag', async () => {
    const hub = await startTestHub({ insecure: true });

    const agent = await startAgent(hub, { insecure: false });
    const code = await agent.exited;

    expect(code).toBe(2);
    expect(agent.output()).toContain('Option --hub is a plain http:// address');
  });

  it('cannot reach a TLS hub over plain ws', async () => {
    const hub = await startTestHub();
    const plainUrl = hub.agentUrl.replace('https://', 'http://');

    const agent = await startAgent(hub, { hubUrl: plainUrl, insecure: true, env: { FARMBOY_CONNECT_TIMEOUT_MS: '1500' } });
    const code = await agent.exited;

    expect(code).toBe(1);
    expect(agent.output()).toContain('Cannot reach the hub');
    expect(hub.service.listAgents()).toEqual([]);
  });
});
