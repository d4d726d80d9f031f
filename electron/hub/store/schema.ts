/**
 * Shape of the definitions file (`farmboy.json`), its defaults and its
 * migrations. Stored records are parsed with loose objects so that fields
 * this module does not list survive a load and a save unchanged.
 */
import { z } from 'zod';
import { jsonObject, machineFactsSchema, runtimeSchema } from 'farmboy-agent/protocol';
import { jobInputSchema, type AgentRecord, type Job, type Task } from '../model.js';

/** An agent enrollment token. Only its hash is stored. */
export interface EnrollmentToken {
  id: string;
  name: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  createdAt: number;
  revokedAt: number | null;
  /** After this time the token enrolls no agent; null or absent for never. */
  expiresAt?: number | null;
  /** Number of agents the token may enroll; null or absent for no limit. */
  maxUses?: number | null;
  /** Agents enrolled with the token so far. */
  uses?: number;
}

/** The credential the hub issued one agent on enrollment. Only its hash is stored. */
export interface AgentCredential {
  agentId: string;
  /** SHA-256 of the credential, hex. */
  hash: string;
  issuedAt: number;
  /** First time the agent connected with it; until then a new enrollment of the same agent id replaces it. */
  confirmedAt: number | null;
}

export type ApiKeyScope = 'read' | 'run' | 'admin';

/** A key for scripts, with a name and a scope. Only its hash is stored. */
export interface ApiKey {
  id: string;
  name: string;
  scope: ApiKeyScope;
  /** SHA-256 of the key, hex. */
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

export const settingsSchema = z
  .object({
    /** Final runs older than this many days are deleted with their output. */
    retentionDays: z.number().int().min(1).max(36_500).default(30),
    /** Final runs beyond this many newest runs of a job are deleted with their output. */
    retentionPerJob: z.number().int().min(1).max(1_000_000).default(1000),
    /** Seconds a run stays on a disconnected agent before it is marked lost. */
    agentGraceSec: z.number().min(0).max(7 * 24 * 3600).default(60),
  })
  .loose();
export type Settings = z.infer<typeof settingsSchema>;

/** Values the hub keeps out of logs: its own tokens and keys. */
export type Secrets = Record<string, string>;

export interface StoreState {
  schemaVersion: number;
  tasks: Task[];
  jobs: Job[];
  agents: AgentRecord[];
  enrollmentTokens: EnrollmentToken[];
  settings: Settings;
  secrets?: Secrets;
  agentCredentials?: AgentCredential[];
  apiKeys?: ApiKey[];
}

const timestamp = z.number().nonnegative();

const taskSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  runtime: runtimeSchema,
  source: z.string(),
  defaultConfig: jsonObject,
  version: z.number().int().nonnegative(),
  code: z.string(),
  hash: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

// Stored secret values are sealed and longer than what the size check at save measured.
const jobSchema = jobInputSchema.extend({ id: z.string().min(1), env: z.record(z.string(), z.string()), createdAt: timestamp, updatedAt: timestamp }).loose();

const agentSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  tags: z.array(z.string()),
  slots: z.number().int().min(1),
  maxLoad: z.number().positive().nullable(),
  facts: machineFactsSchema.nullable(),
  version: z.string(),
  firstSeenAt: timestamp,
  lastSeenAt: timestamp,
  draining: z.boolean(),
});

const enrollmentTokenSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'),
  createdAt: timestamp,
  revokedAt: timestamp.nullable(),
  expiresAt: timestamp.nullable().optional(),
  maxUses: z.number().int().min(1).nullable().optional(),
  uses: z.number().int().min(0).optional(),
});

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');

const agentCredentialSchema = z.looseObject({
  agentId: z.string().min(1),
  hash: sha256Hex,
  issuedAt: timestamp,
  confirmedAt: timestamp.nullable(),
});

const apiKeySchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  scope: z.enum(['read', 'run', 'admin']),
  hash: sha256Hex,
  createdAt: timestamp,
  revokedAt: timestamp.nullable(),
});

export const storeStateSchema = z.looseObject({
  schemaVersion: z.number().int().min(1),
  tasks: z.array(taskSchema),
  jobs: z.array(jobSchema),
  agents: z.array(agentSchema),
  enrollmentTokens: z.array(enrollmentTokenSchema),
  settings: settingsSchema.prefault({}),
  secrets: z.record(z.string(), z.string()).optional(),
  agentCredentials: z.array(agentCredentialSchema).optional(),
  apiKeys: z.array(apiKeySchema).optional(),
});

/** Turns the data of one schema version into the next one. */
export type Migration = (data: Record<string, unknown>) => Record<string, unknown>;

/**
 * `MIGRATIONS[i]` turns a version `i + 1` file into a version `i + 2` file.
 * Append a function here whenever the stored shape changes.
 */
export const MIGRATIONS: readonly Migration[] = [];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length + 1;

export function defaultSettings(): Settings {
  return settingsSchema.parse({});
}

export function defaultState(): StoreState {
  return {
    schemaVersion: SCHEMA_VERSION,
    tasks: [],
    jobs: [],
    agents: [],
    enrollmentTokens: [],
    settings: defaultSettings(),
  };
}

/**
 * Applies the migrations from `data.schemaVersion` up to the last one, each
 * followed by a bump of `schemaVersion`. The caller rejects versions newer
 * than `migrations.length + 1` before calling.
 */
export function migrateData(
  data: Record<string, unknown> & { schemaVersion: number },
  migrations: readonly Migration[] = MIGRATIONS,
): Record<string, unknown> & { schemaVersion: number } {
  let current: Record<string, unknown> & { schemaVersion: number } = data;
  for (let version = data.schemaVersion; version <= migrations.length; version += 1) {
    const migration = migrations[version - 1];
    if (!migration) throw new RangeError(`no migration from schema version ${version}`);
    current = { ...migration(current), schemaVersion: version + 1 };
  }
  return current;
}
