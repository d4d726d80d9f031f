/**
 * The agent's record of its hub, in `<data-dir>/hub-trust.json`
 * (mode 0600): the hub's certificate fingerprint, pinned on the first
 * successful connection, and the credential the hub issued on enrollment.
 * With both kept, later starts need only --hub.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AgentError, UsageError } from './errors.js';
import type { AgentOptions } from './options.js';

export const TRUST_FILE = 'hub-trust.json';

const trustSchema = z.object({
  /** Hub address of the last successful connection, shown in messages. */
  hubUrl: z.string().max(2048),
  /** Pinned certificate fingerprint; null for a hub joined with --insecure. */
  fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/).nullable(),
  /** Credential issued by that hub; null until it issues one. */
  credential: z.string().min(1).max(512).nullable(),
  savedAt: z.number().int().nonnegative(),
});
export type StoredTrust = z.infer<typeof trustSchema>;

/** Connection settings of this start: the pin to check and the token or credential to present. */
export interface HubTrust {
  hubUrl: string;
  /** Null only with --insecure. */
  fingerprint: string | null;
  token: string | null;
  credential: string | null;
  /** Whether the stored file already contains this pin and credential. */
  saved: boolean;
}

export async function readTrust(dataDir: string): Promise<StoredTrust | null> {
  const file = path.join(dataDir, TRUST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error: unknown) {
    if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AgentError('identity_invalid', `Cannot read ${file}: ${error instanceof Error ? error.message : String(error)}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = trustSchema.safeParse(json);
  if (!parsed.success) {
    throw new AgentError(
      'identity_invalid',
      `${file} is damaged. Delete it and start the agent with the whole join command from the hub (--hub, --token and --fingerprint).`,
    );
  }
  return parsed.data;
}

/** Writes the file atomically; the temporary file is created with mode 0600, so the credential is never readable by others. */
export async function writeTrust(dataDir: string, trust: StoredTrust): Promise<void> {
  const file = path.join(dataDir, TRUST_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(trust, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, file);
}

/**
 * Decides the pin and the credentials of this start from the options and
 * the stored trust. A stored credential is used only for the hub it came
 * from, recognised by its fingerprint (or, for --insecure, its address).
 */
export function resolveTrust(options: Pick<AgentOptions, 'hubUrl' | 'token' | 'fingerprint' | 'insecure'>, stored: StoredTrust | null): HubTrust {
  const fingerprint = options.insecure ? null : (options.fingerprint ?? stored?.fingerprint ?? null);
  if (!options.insecure && fingerprint === null) {
    throw new UsageError(
      'Option --fingerprint is required on the first start: copy the whole join command from the hub, which ends with --fingerprint sha256:HEX.',
    );
  }
  const sameHub = stored !== null && (options.insecure ? stored.fingerprint === null && stored.hubUrl === options.hubUrl : stored.fingerprint === fingerprint);
  const credential = sameHub ? stored.credential : null;
  if (credential === null && options.token === null) {
    throw new UsageError('Option --token is required (or set FARMBOY_AGENT_TOKEN); copy it from the join command the hub shows.');
  }
  const saved = sameHub && stored.hubUrl === options.hubUrl;
  return { hubUrl: options.hubUrl, fingerprint, token: options.token, credential, saved };
}
