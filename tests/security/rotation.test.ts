import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintOfDer, verifyRotation } from '../../agent/src/pinning.js';
import { createTlsIdentity, signRotation } from '../../electron/hub/tls.js';
import { cleanup, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

/** Returns the fingerprint of the certificate a new TLS connection to the agent port gets. */
function servedFingerprint(hub: TestHub): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: hub.agentPort, rejectUnauthorized: false }, () => {
      resolve(fingerprintOfDer(socket.getPeerCertificate().raw));
      socket.end();
    });
    socket.once('error', reject);
  });
}

async function storedPin(dataDir: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(join(dataDir, 'hub-trust.json'), 'utf8')) as { fingerprint: string }).fingerprint;
  } catch {
    return null;
  }
}

describe('certificate rotation', () => {
  it('moves connected agents to the new certificate', async () => {
    const hub = await startTestHub();
    const [agent] = await startAgents(hub, [{ name: 'follower' }]);
    const old = hub.fingerprint;
    await waitFor(async () => (await storedPin(agent?.dataDir as string)) === old, 10_000, 'pin stored');

    const response = await hub.api<{ fingerprint: string; agents: number; accepted: number }>('POST', '/api/certificate/rotate');
    const served = await servedFingerprint(hub);
    await waitFor(async () => (await storedPin(agent?.dataDir as string)) === response.body.fingerprint, 10_000, 'new pin stored');

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ agents: 1, accepted: 1 });
    expect(response.body.fingerprint).not.toBe(old);
    expect(hub.fingerprint).toBe(response.body.fingerprint);
    expect(served).toBe(response.body.fingerprint);
    const join = await hub.api<{ command: string }>('GET', '/api/agents/join');
    expect(join.body.command).toContain(`--fingerprint ${response.body.fingerprint}`);
  });

  it('lets a rotated agent restart with only --hub', async () => {
    const hub = await startTestHub();
    const [first] = await startAgents(hub, [{ name: 'follower' }]);
    await waitFor(async () => (await storedPin(first?.dataDir as string)) === hub.fingerprint, 10_000, 'pin stored');
    const rotated = (await hub.api<{ fingerprint: string }>('POST', '/api/certificate/rotate')).body.fingerprint;
    await waitFor(async () => (await storedPin(first?.dataDir as string)) === rotated, 10_000, 'new pin stored');
    await first?.stop();
    await waitFor(() => hub.service.listAgents()[0]?.status === 'offline', 10_000, 'agent offline');

    await startAgent(hub, { name: 'follower', dataDir: first?.dataDir, token: null, fingerprint: null });
    await waitFor(() => hub.service.listAgents()[0]?.status === 'online', 10_000, 'agent online with the new pin');

    expect(hub.service.listAgents()).toHaveLength(1);
  });

  it('keeps the new identity across a restart', async () => {
    const hub = await startTestHub();
    const rotated = (await hub.api<{ fingerprint: string }>('POST', '/api/certificate/rotate')).body.fingerprint;
    await hub.stop();

    const again = await startTestHub({ dataDir: hub.dataDir });

    expect(again.fingerprint).toBe(rotated);
  });

  it('refuses rotation on an insecure hub', async () => {
    const hub = await startTestHub({ insecure: true });

    const response = await hub.api<{ error: { code: string } }>('POST', '/api/certificate/rotate');

    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('conflict');
  });
});

describe('rotation signature', () => {
  it.each([
    ['the current key over the new fingerprint', 'current', 'next', true],
    ['another key', 'other', 'next', false],
    ['the current key over another fingerprint', 'current', 'other', false],
  ])('accepts a signature by %s: %s', async (_case, signer, signed, expected) => {
    const current = await createTlsIdentity();
    const next = await createTlsIdentity();
    const other = await createTlsIdentity();
    const keys = { current: current.key, other: other.key };
    const fingerprints = { next: next.fingerprint, other: other.fingerprint };
    const signature = signRotation(keys[signer as 'current' | 'other'], fingerprints[signed as 'next' | 'other']);

    const valid = verifyRotation(Buffer.from(current.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64'), next.fingerprint, signature);

    expect(valid).toBe(expected);
  });
});
