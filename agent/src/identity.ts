/**
 * The agent's stable identity, kept in `<data-dir>/agent.json` so a restarted
 * agent rejoins the fleet as the same member.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AgentError } from './errors.js';

/** Later versions may add fields; unknown ones are accepted and ignored. */
const identitySchema = z.object({
  agentId: z.string().min(1).max(128),
  createdAt: z.number().int().nonnegative().optional(),
});

export interface Identity {
  agentId: string;
  /** Whether this call created the identity file. */
  created: boolean;
}

export const IDENTITY_FILE = 'agent.json';

/** Reads the identity file, or creates it with a new random id on first start. */
export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  await ensureDataDir(dataDir);
  const file = path.join(dataDir, IDENTITY_FILE);
  const text = await readIdentityText(file);
  if (text !== null) return { agentId: parseIdentity(file, text).agentId, created: false };

  const identity = { agentId: randomUUID(), createdAt: Date.now() };
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(identity, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, file);
  return { agentId: identity.agentId, created: true };
}

export async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error: unknown) {
    throw new AgentError('data_dir_unusable', `Cannot create the data directory ${dataDir}: ${errorMessage(error)}. Choose another one with --data-dir.`);
  }
}

async function readIdentityText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error: unknown) {
    if (isNodeError(error) && error.code === 'ENOENT') return null;
    throw new AgentError('identity_invalid', `Cannot read the agent identity ${file}: ${errorMessage(error)}.`);
  }
}

/** Parses the identity file. A damaged file is never replaced, because that would turn this machine into a new fleet member. */
function parseIdentity(file: string, text: string): z.infer<typeof identitySchema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const result = identitySchema.safeParse(json);
  if (!result.success) {
    throw new AgentError(
      'identity_invalid',
      `The agent identity ${file} is not valid JSON with an agentId. Repair it, or delete it to join the hub as a new agent.`,
    );
  }
  return result.data;
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
