import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentError } from '../src/errors.js';
import { loadOrCreateIdentity } from '../src/identity.js';
import { makeTempDir, removeDir } from './helpers.js';

describe('loadOrCreateIdentity', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  it('keeps the id across starts', async () => {
    const first = await loadOrCreateIdentity(path.join(dataDir, 'nested'));

    const second = await loadOrCreateIdentity(path.join(dataDir, 'nested'));

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.agentId).toBe(first.agentId);
    expect(first.agentId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts unknown fields', async () => {
    await writeFile(path.join(dataDir, 'agent.json'), JSON.stringify({ agentId: 'kept-id', addedLater: true }));

    const identity = await loadOrCreateIdentity(dataDir);

    expect(identity).toEqual({ agentId: 'kept-id', created: false });
  });

  it.each([
    { name: 'broken JSON', text: '{"agentId": ' },
    { name: 'missing id', text: '{"name": "x"}' },
  ])('refuses $name and keeps the file', async ({ text }) => {
    const file = path.join(dataDir, 'agent.json');
    await writeFile(file, text);

    const error = await loadOrCreateIdentity(dataDir).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('identity_invalid');
    expect(await readFile(file, 'utf8')).toBe(text);
  });
});
