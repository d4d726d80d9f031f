/**
 * Reading and writing `farmboy.json`, the definitions file. A file that
 * cannot be used is never changed: loading throws a StoreError that names
 * the file and explains how to restore the backup.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Adapter } from 'lowdb';
import { errorCode, errorText, StoreError } from './errors.js';
import { writeFileAtomic } from './fs-util.js';
import { MIGRATIONS, storeStateSchema, migrateData, type Migration, type StoreState } from './schema.js';

export const STORE_FILE = 'farmboy.json';
export const BACKUP_SUFFIX = '.bak';

/** lowdb adapter that writes through `writeFileAtomic` (temp file, fsync, rename). */
export class AtomicJsonFile implements Adapter<StoreState> {
  constructor(readonly path: string) {}

  async read(): Promise<StoreState | null> {
    return (await loadDefinitions(this.path))?.state ?? null;
  }

  async write(data: StoreState): Promise<void> {
    // Serialized before the first await, so later edits wait for the next write.
    const text = JSON.stringify(data);
    await writeFileAtomic(this.path, text);
  }
}

export interface LoadedDefinitions {
  state: StoreState;
  /** The file's bytes as read, for the backup. */
  bytes: Buffer;
  /** The version the file had, when migrations brought it up to date. */
  migratedFrom: number | null;
}

/** Error whose message completes the sentence "Store file <path> ..." with the reason the file cannot be used. */
class Unusable extends Error {}

/** Reads and validates the definitions file. Returns null when it does not exist. */
export async function loadDefinitions(
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<LoadedDefinitions | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return missingDefinitions(path, migrations);
    throw new StoreError('store_unreadable', path, `Store file ${path} cannot be read (${errorText(err)}). Check its permissions.`, {
      cause: err,
    });
  }
  try {
    return { ...parseDefinitions(bytes, path, migrations), bytes };
  } catch (err) {
    if (!(err instanceof Unusable)) throw err;
    const advice = await describeBackup(path + BACKUP_SUFFIX, migrations);
    throw new StoreError('store_corrupt', path, `Store file ${path} ${err.message}. It was left as it is. ${advice}`);
  }
}

/** Parses, migrates and validates the bytes of a definitions file. */
export function parseDefinitions(
  bytes: Buffer,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { state: StoreState; migratedFrom: number | null } {
  const data = parseJsonObject(bytes);
  const version = data.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new Unusable('has no valid schemaVersion');
  }
  const known = migrations.length + 1;
  if (version > known) {
    throw new StoreError(
      'store_too_new',
      path,
      `Store file ${path} has schema version ${version}, but this build of Farmboy reads versions up to ${known}. It was left as it is: install a newer Farmboy to open it.`,
    );
  }
  const migrated = migrateData({ ...data, schemaVersion: version }, migrations);
  const result = storeStateSchema.safeParse(migrated);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the top level';
    throw new Unusable(`does not match the store format (at ${where}: ${issue?.message ?? 'invalid'})`);
  }
  return { state: result.data as unknown as StoreState, migratedFrom: version === known ? null : version };
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0) throw new Unusable('is empty (0 bytes), as a crash during a write can leave it');
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const all = bytes.every((byte) => byte === 0);
    throw new Unusable(
      all
        ? `contains only NUL bytes (${bytes.length} bytes), as a power cut during a write can leave it`
        : `contains NUL bytes from offset ${nul}, as a power cut during a write can leave it`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Unusable(`is not valid JSON (${jsonErrorText(err)})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Unusable('does not contain a JSON object');
  }
  return data as Record<string, unknown>;
}

/** V8 quotes the start of the input in JSON errors; drop it, since the file may hold secrets. */
function jsonErrorText(err: unknown): string {
  return errorText(err).replace(/, ".*" is not valid JSON$/s, '');
}

/**
 * A missing file means a new store, unless its backup exists: then the file
 * was lost, and starting empty would replace the backup with nothing at the
 * next write, so the hub stops instead.
 */
async function missingDefinitions(path: string, migrations: readonly Migration[]): Promise<null> {
  const backupPath = path + BACKUP_SUFFIX;
  try {
    await stat(backupPath);
  } catch {
    return null;
  }
  const advice = await describeBackup(backupPath, migrations);
  throw new StoreError(
    'store_corrupt',
    path,
    `Store file ${path} is missing, but its backup exists. ${advice} To start with an empty store instead, move ${backupPath} away too.`,
  );
}

async function describeBackup(backupPath: string, migrations: readonly Migration[]): Promise<string> {
  const target = basename(backupPath, BACKUP_SUFFIX);
  let bytes: Buffer;
  let modified: Date;
  try {
    [bytes, modified] = await Promise.all([readFile(backupPath), stat(backupPath).then((info) => info.mtime)]);
  } catch {
    return `There is no backup at ${backupPath}: repair the file, or move it away to start with an empty store.`;
  }
  try {
    parseDefinitions(bytes, backupPath, migrations);
  } catch (err) {
    return `The backup at ${backupPath} cannot be used either (${err instanceof Error ? err.message : 'invalid'}).`;
  }
  return `A backup from ${modified.toISOString()} is at ${backupPath}: to use it, stop Farmboy and copy it over ${target}.`;
}

/** Copies the current definitions file to the backup, atomically. */
export async function writeBackup(path: string, bytes?: Buffer): Promise<void> {
  const content = bytes ?? (await readFile(path));
  await writeFileAtomic(path + BACKUP_SUFFIX, content);
}
