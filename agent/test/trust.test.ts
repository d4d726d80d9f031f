import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { TRUST_FILE, readTrust, resolveTrust, writeTrust, type StoredTrust } from '../src/trust.js';
import { makeTempDir, removeDir } from './helpers.js';

const PIN_A = `sha256:${'a'.repeat(64)}`;
const PIN_B = `sha256:${'b'.repeat(64)}`;
const TLS_OPTIONS = { hubUrl: 'https://hub:7420', token: null, fingerprint: null, insecure: false };
const stored: StoredTrust = { hubUrl: 'https://hub:7420', fingerprint: PIN_A, credential: 'cred', savedAt: 1 };

describe('resolveTrust', () => {
  it.each([
    ['the stored pin and credential', TLS_OPTIONS, stored, { fingerprint: PIN_A, credential: 'cred', token: null, saved: true }],
    ['a given pin of the same hub', { ...TLS_OPTIONS, fingerprint: PIN_A }, stored, { fingerprint: PIN_A, credential: 'cred' }],
    ['a new hub with a token', { ...TLS_OPTIONS, fingerprint: PIN_B, token: 'tok' }, stored, { fingerprint: PIN_B, credential: null, token: 'tok', saved: false }],
    ['a moved hub', { ...TLS_OPTIONS, hubUrl: 'https://new:7420' }, stored, { fingerprint: PIN_A, credential: 'cred', saved: false }],
    ['an insecure hub', { hubUrl: 'http://h:1', token: 'tok', fingerprint: null, insecure: true }, null, { fingerprint: null, credential: null }],
  ])('uses %s', (_case, options, trust, expected) => {
    expect(resolveTrust(options, trust)).toMatchObject(expected);
  });

  it.each([
    ['no pin on the first start', { ...TLS_OPTIONS, token: 'tok' }, null, 'Option --fingerprint is required on the first start'],
    ['no token for a new hub', { ...TLS_OPTIONS, fingerprint: PIN_B }, stored, 'Option --token is required'],
    ['the credential of a TLS hub for an insecure one', { hubUrl: 'https://hub:7420', token: null, fingerprint: null, insecure: true }, stored, 'Option --token is required'],
  ])('rejects %s', (_case, options, trust, message) => {
    expect(() => resolveTrust(options, trust)).toThrow(UsageError);
    expect(() => resolveTrust(options, trust)).toThrow(message);
  });
});

describe('trust file', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  it('round-trips with mode 0600', async () => {
    await writeTrust(dataDir, stored);

    const read = await readTrust(dataDir);
    const mode = (await stat(path.join(dataDir, TRUST_FILE))).mode & 0o777;

    expect(read).toEqual(stored);
    expect(mode).toBe(0o600);
  });

  it('reads a missing file as none', async () => {
    expect(await readTrust(dataDir)).toBeNull();
  });
});
