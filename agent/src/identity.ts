/**
 * The agent's stable identity, kept in `<data-dir>/agent.json` so a restarted
 * agent rejoins the fleet as the same member.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
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
    const reason = (await unwritableAncestor(dataDir)) ?? errorMessage(error);
    throw new AgentError('data_dir_unusable', `Cannot create the data directory ${dataDir}: ${reason}. Choose another one with --data-dir.`);
  }
}

/**
 * Names the nearest existing folder above `dir` when it cannot be written.
 * A recursive mkdir on a read-only file system reports ENOENT, which points
 * the user at the wrong problem.
 */
async function unwritableAncestor(dir: string): Promise<string | null> {
  let current = path.resolve(dir);
  while (!(await exists(current))) {
    const parent = path.dirname(current);
    if (parent === current) return null;
    current = parent;
  }
  try {
    await access(current, constants.W_OK);
    return null;
  } catch (error: unknown) {
    if (isNodeError(error) && error.code === 'EROFS') return `${current} is on a read-only file system`;
    if (isNodeError(error) && error.code === 'EACCES') return `${current} is not writable by this user`;
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
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
