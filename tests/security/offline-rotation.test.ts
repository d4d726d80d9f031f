import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintOfDer, verifyRotationProof } from '../../agent/src/pinning.js';
import {
  KEPT_ROTATIONS,
  ROTATIONS_FILE,
  ROTATION_MAX_AGE_MS,
  createTlsIdentity,
  encodeRotationProof,
  keptRotations,
  prepareRotation,
  signRotation,
  type HubTlsIdentity,
  type RotationEndorsement,
} from '../../electron/hub/tls.js';
import { cleanup, startAgent, startAgents, startTestHub, tempDir, waitFor, type TestHub } from '../helpers/fleet.js';
import { startImpostorHub } from './helpers.js';

afterEach(cleanup);

const DAY_MS = 24 * 3600 * 1000;

async function storedPin(dataDir: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(join(dataDir, 'hub-trust.json'), 'utf8')) as { fingerprint: string }).fingerprint;
  } catch {
    return null;
  }
}

/** Returns the rotation proof the agent port staples to a handshake, or null when it staples none. */
function stapledProof(hub: TestHub): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port: hub.agentPort, rejectUnauthorized: false, requestOCSP: true };
    let staple: Buffer | null = null;
    const socket = connect(options, () => {
      resolve(staple);
      socket.end();
    });
    socket.once('OCSPResponse', (response: Buffer) => (staple = response));
    socket.once('error', reject);
  });
}

async function rotate(hub: TestHub): Promise<string> {
  const response = await hub.api<{ fingerprint: string }>('POST', '/api/certificate/rotate');
  expect(response.status).toBe(200);
  return response.body.fingerprint;
}

/** Starts an agent, waits until it stored the pin, and stops it again. */
async function enrollAndStop(hub: TestHub): Promise<string> {
  const [agent] = await startAgents(hub, [{ name: 'sleeper' }]);
  const dataDir = agent?.dataDir as string;
  await waitFor(async () => (await storedPin(dataDir)) === hub.fingerprint, 10_000, 'pin stored');
  await agent?.stop();
  await waitFor(() => hub.service.listAgents()[0]?.status === 'offline', 10_000, 'agent offline');
  return dataDir;
}

describe('rotation missed while offline', () => {
  it.each([1, 2, KEPT_ROTATIONS])('follows %i missed rotations', async (count) => {
    const hub = await startTestHub();
    const dataDir = await enrollAndStop(hub);
    let latest = '';
    for (let index = 0; index < count; index += 1) latest = await rotate(hub);

    const agent = await startAgent(hub, { name: 'sleeper', dataDir, token: null, fingerprint: null });
    await waitFor(() => hub.service.listAgents()[0]?.status === 'online', 15_000, `agent online again\n${agent.output()}`);
    await waitFor(async () => (await storedPin(dataDir)) === latest, 10_000, 'new pin stored');

    expect(hub.service.listAgents()).toHaveLength(1);
    expect(agent.output()).not.toContain('Refused the hub');
  });

  it('refuses after more kept rotations', async () => {
    const hub = await startTestHub();
    const dataDir = await enrollAndStop(hub);
    for (let index = 0; index <= KEPT_ROTATIONS; index += 1) await rotate(hub);

    const agent = await startAgent(hub, { name: 'sleeper', dataDir, token: null, fingerprint: null });
    const code = await agent.exited;

    expect(code).toBe(1);
    expect(agent.output()).toContain(`its certificate fingerprint is ${hub.fingerprint}`);
  });

  it('stops serving rotations past their age', async () => {
    const hub = await startTestHub();
    const dataDir = await enrollAndStop(hub);
    await rotate(hub);
    const file = join(hub.dataDir, ROTATIONS_FILE);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { version: 1; rotations: RotationEndorsement[] };
    const aged = stored.rotations.map((rotation) => ({ ...rotation, rotatedAt: Date.now() - ROTATION_MAX_AGE_MS - DAY_MS }));
    await writeFile(file, JSON.stringify({ ...stored, rotations: aged }));
    await hub.stop();
    const again = await startTestHub({ dataDir: hub.dataDir });

    const staple = await stapledProof(again);
    const agent = await startAgent(again, { name: 'sleeper', dataDir, token: null, fingerprint: null });
    const code = await agent.exited;

    expect(staple).toBeNull();
    expect(code).toBe(1);
  });
});

describe('damaged rotations file', () => {
  it('stops the rotation before announcing', async () => {
    const hub = await startTestHub();
    const [agent] = await startAgents(hub, [{ name: 'follower' }]);
    const old = hub.fingerprint;
    await waitFor(async () => (await storedPin(agent?.dataDir as string)) === old, 10_000, 'pin stored');
    await writeFile(join(hub.dataDir, ROTATIONS_FILE), '{"version": 1, "rotations": [{}]}');

    const response = await hub.api<{ error: { code: string; message: string } }>('POST', '/api/certificate/rotate');

    expect(response.status).toBe(503);
    expect(response.body.error.message).toContain(`${ROTATIONS_FILE} is damaged`);
    expect(hub.fingerprint).toBe(old);
    expect(await storedPin(agent?.dataDir as string)).toBe(old);
  });
});

describe('rotation proof from an impostor', () => {
  const cases: Array<[string, (impostor: HubTlsIdentity, hub: TestHub, realProof: Buffer) => Buffer]> = [
    ['no proof at all', () => Buffer.alloc(0)],
    ['the real hub proof replayed', (_impostor, _hub, realProof) => realProof],
    [
      'a statement signed by itself',
      (impostor) =>
        encodeRotationProof([{ previousCertificate: impostor.cert, fingerprint: impostor.fingerprint, signature: signRotation(impostor.key, impostor.fingerprint), rotatedAt: Date.now() }]) as Buffer,
    ],
    ['garbage bytes', () => Buffer.from('{"endorsements": [{"certificate": "AAAA"}]}')],
  ];

  it.each(cases)('receives nothing when it staples %s', async (_case, buildStaple) => {
    const hub = await startTestHub();
    const dataDir = await enrollAndStop(hub);
    await rotate(hub);
    const realProof = await stapledProof(hub);
    const impostor = await startImpostorHub((identity) => buildStaple(identity, hub, realProof as Buffer));

    const agent = await startAgent(hub, { name: 'sleeper', dataDir, token: null, fingerprint: null, hubUrl: impostor.url });
    const code = await agent.exited;

    expect(realProof).not.toBeNull();
    expect(code).toBe(1);
    expect(impostor.connections).toBeGreaterThanOrEqual(1);
    expect(impostor.requests).toEqual([]);
    expect(agent.output()).toContain(`its certificate fingerprint is ${impostor.identity.fingerprint}`);
  });
});

describe('verifyRotationProof', () => {
  it('follows a chain in order', async () => {
    const dataDir = await tempDir('rotations');
    const first = await createTlsIdentity();
    const second = await prepareRotation(dataDir, first);
    const third = await prepareRotation(dataDir, second.identity);
    const proof = encodeRotationProof([second.endorsement, third.endorsement]) as Buffer;

    const cases: Array<[string, string[], string, boolean]> = [
      ['from the oldest pin to the newest', [first.fingerprint], third.identity.fingerprint, true],
      ['from the middle pin', [second.identity.fingerprint], third.identity.fingerprint, true],
      ['to an intermediate certificate', [first.fingerprint], second.identity.fingerprint, true],
      ['from an unrelated pin', [`sha256:${'0'.repeat(64)}`], third.identity.fingerprint, false],
      ['backwards to an older certificate', [third.identity.fingerprint], first.fingerprint, false],
    ];

    for (const [name, pins, target, expected] of cases) expect(verifyRotationProof(new Set(pins), proof, target), name).toBe(expected);
  });

  it('rejects a chain with a broken link', async () => {
    const dataDir = await tempDir('rotations');
    const first = await createTlsIdentity();
    const second = await prepareRotation(dataDir, first);
    const third = await prepareRotation(dataDir, second.identity);
    const forged = { ...third.endorsement, signature: signRotation(first.key, third.identity.fingerprint) };

    const valid = verifyRotationProof(new Set([first.fingerprint]), encodeRotationProof([second.endorsement, forged]) as Buffer, third.identity.fingerprint);

    expect(valid).toBe(false);
    expect(fingerprintOfDer(Buffer.from(first.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64'))).toBe(first.fingerprint);
  });
});

describe('keptRotations', () => {
  const now = 1_000 * DAY_MS;
  const rotation = (ageDays: number, name: string): RotationEndorsement => ({ previousCertificate: name, fingerprint: `sha256:${'a'.repeat(64)}`, signature: name, rotatedAt: now - ageDays * DAY_MS });

  it.each([
    ['keeps recent rotations', [rotation(3, 'a'), rotation(1, 'b')], ['a', 'b']],
    ['drops rotations past 30 days', [rotation(31, 'a'), rotation(29, 'b')], ['b']],
    ['keeps only the last three', [rotation(4, 'a'), rotation(3, 'b'), rotation(2, 'c'), rotation(1, 'd')], ['b', 'c', 'd']],
    ['keeps none when all aged', [rotation(40, 'a')], []],
  ])('%s', (_case, rotations, expected) => {
    const kept = keptRotations(rotations, now);

    expect(kept.map((entry) => entry.signature)).toEqual(expected);
  });
});
