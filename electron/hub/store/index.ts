/**
 * The hub's store. Definitions (tasks, jobs, agents, tokens, settings) live
 * in `farmboy.json` through lowdb, written atomically and coalesced. Runs,
 * logs and records grow without bound, so they live beside it in append-only
 * JSON-lines files whose write cost does not depend on history. See
 * docs/store.md for the files and the recovery steps.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { errorCode, errorText, StoreError } from './errors.js';
import { isTempFileOf, removeFile } from './fs-util.js';
import { AtomicJsonFile, BACKUP_SUFFIX, loadDefinitions, STORE_FILE, writeBackup } from './definitions-file.js';
import { Definitions } from './definitions.js';
import { acquireLock, LOCK_FILE, type StoreLock } from './lock.js';
import { SegmentOutputStore, type RunOutputStore } from './run-output.js';
import { SegmentRunStore, type RunStore } from './run-store.js';
import { defaultState, type Settings, type StoreState } from './schema.js';

export { StoreError, type StoreErrorCode } from './errors.js';
export type { RunOutputStore } from './run-output.js';
export type { RunStore } from './run-store.js';
export { selectExpiredRuns } from './retention.js';
export {
  defaultSettings,
  migrateData,
  MIGRATIONS,
  SCHEMA_VERSION,
  settingsSchema,
  type EnrollmentToken,
  type Migration,
  type Secrets,
  type Settings,
  type StoreState,
} from './schema.js';

export interface StoreOptions {
  /** Default: a silent logger. */
  logger?: Logger;
  /** Window in which writes are coalesced, in ms. Default 100. */
  flushIntervalMs?: number;
  /** The definitions file is copied to `farmboy.json.bak` at most this often, in ms. Default 5 minutes. */
  backupIntervalMs?: number;
  /** Called after each failed definitions write, which is retried. */
  onError?: (error: StoreError) => void;
  /** fdatasync run output on every write, as run records already are. Default true. */
  syncOutput?: boolean;
}

export interface RetentionResult {
  deletedRuns: number;
  /** Runs unknown to the run records whose output was deleted. */
  deletedOrphanOutputs: number;
}

export interface Store {
  readonly dataDir: string;
  /** The definitions; change them in place, then call `save()`. */
  state: StoreState;
  /** Marks the definitions changed; they are written soon after, and on flush and close. */
  save(): void;
  runs: RunStore;
  logs: RunOutputStore;
  /** Writes everything pending now. */
  flush(): Promise<void>;
  /** Writes the definitions now if they changed, and waits for a write under way. Rejects with a StoreError when the write fails. */
  flushDefinitions(): Promise<void>;
  /**
   * Writes the pending output of these runs, then every pending run record.
   * Once it resolves, the output of agent events appended before the call
   * (lines with a mark) and every run put before it are on disk. The hub
   * acknowledges agent events only after it. The hub's own log lines may
   * wait up to a second longer (`unmarkedFlushMs` of the output store).
   */
  persist(runIds: Iterable<string>): Promise<void>;
  /** Deletes expired final runs with their output and compacts the run segments. */
  applyRetention(settings?: Pick<Settings, 'retentionDays' | 'retentionPerJob'>): Promise<RetentionResult>;
  /** Flushes, closes the files and releases the lock. */
  close(): Promise<void>;
}

const DEFAULT_FLUSH_INTERVAL_MS = 100;
const DEFAULT_BACKUP_INTERVAL_MS = 5 * 60 * 1000;
const DEFAULT_SYNC_OUTPUT = true;
/** Runs whose files retention deletes at the same time. */
const DELETE_CONCURRENCY = 32;

/**
 * Opens the store in `dataDir`, creating it when missing. Throws StoreError:
 * 'store_locked' when another process has it open, 'store_corrupt' or
 * 'store_too_new' when `farmboy.json` cannot be used (the file is left as it
 * is), 'store_unreadable' or 'store_unwritable' for file system errors.
 */
export async function openStore(dataDir: string, options: StoreOptions = {}): Promise<Store> {
  const log = options.logger ?? pino({ level: 'silent' });
  const flushIntervalMs = checkDuration('flushIntervalMs', options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
  const backupIntervalMs = checkDuration('backupIntervalMs', options.backupIntervalMs ?? DEFAULT_BACKUP_INTERVAL_MS);
  const dir = resolve(dataDir);
  await makeDirectories(dir);
  const lock = await acquireLock(join(dir, LOCK_FILE), log);
  try {
    await removeTempFiles(dir, log);
    const definitions = await openDefinitions(dir, log, { flushIntervalMs, backupIntervalMs, onError: options.onError });
    const logs = await SegmentOutputStore.open(dir, log, { flushIntervalMs, sync: options.syncOutput ?? DEFAULT_SYNC_OUTPUT });
    const runs = await SegmentRunStore.load(join(dir, 'runs'), log, flushIntervalMs, (runIds) => logs.flushRuns(runIds));
    // Segments keep the index lines of runs retention deleted; they are forgotten again here.
    const orphans = await logs.deleteOrphans((runId) => runs.has(runId));
    if (orphans > 0) log.info({ orphanOutputs: orphans }, 'output of runs without a run record deleted');
    log.info({ dataDir: dir, runs: runs.count() }, 'store opened');
    return new FileStore(dir, lock, definitions, runs, logs, log);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

function checkDuration(option: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${option} must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

async function makeDirectories(dir: string): Promise<void> {
  try {
    for (const sub of ['runs', 'output']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreError('store_unwritable', dir, `Data directory ${dir} cannot be created (${errorText(err)}). Check its permissions.`, {
      cause: err,
    });
  }
}

/** Deletes temp files that a crash left behind; safe because we hold the lock. */
async function removeTempFiles(dir: string, log: Logger): Promise<void> {
  const targets: Array<[string, string[]]> = [
    [dir, [STORE_FILE, STORE_FILE + BACKUP_SUFFIX]],
    [join(dir, 'runs'), []],
  ];
  for (const [folder, names] of targets) {
    for (const entry of await readdir(folder)) {
      const isTemp = names.length > 0 ? names.some((name) => isTempFileOf(name, entry)) : entry.endsWith('.tmp');
      if (!isTemp) continue;
      await removeFile(join(folder, entry));
      log.info({ file: join(folder, entry) }, 'leftover temp file removed');
    }
  }
}

async function openDefinitions(
  dir: string,
  log: Logger,
  options: { flushIntervalMs: number; backupIntervalMs: number; onError?: (error: StoreError) => void },
): Promise<Definitions> {
  const path = join(dir, STORE_FILE);
  const adapter = new AtomicJsonFile(path);
  const loaded = await loadDefinitions(path);
  const definitions = new Definitions(adapter, loaded?.state ?? defaultState(), { log, ...options }, Date.now());
  if (loaded) {
    await writeBackup(path, loaded.bytes).catch((err: unknown) => log.warn({ file: path, code: errorCode(err) }, 'store backup failed'));
  }
  if (!loaded || loaded.migratedFrom !== null) {
    if (loaded) log.info({ file: path, from: loaded.migratedFrom, to: loaded.state.schemaVersion }, 'store migrated');
    definitions.save();
    await definitions.flush();
  }
  return definitions;
}

class FileStore implements Store {
  private closing: Promise<void> | null = null;

  constructor(
    readonly dataDir: string,
    private readonly lock: StoreLock,
    private readonly definitions: Definitions,
    readonly runs: SegmentRunStore,
    readonly logs: SegmentOutputStore,
    private readonly log: Logger,
  ) {}

  get state(): StoreState {
    return this.definitions.db.data;
  }

  set state(state: StoreState) {
    this.definitions.db.data = state;
  }

  save(): void {
    this.definitions.save();
  }

  async flush(): Promise<void> {
    await settleAll([this.definitions.flush(), this.runs.flush(), this.logs.flush()]);
  }

  flushDefinitions(): Promise<void> {
    return this.definitions.flush();
  }

  async persist(runIds: Iterable<string>): Promise<void> {
    await this.logs.flushRuns(runIds);
    await this.runs.flush();
  }

  async applyRetention(settings: Pick<Settings, 'retentionDays' | 'retentionPerJob'> = this.state.settings): Promise<RetentionResult> {
    const started = Date.now();
    const deleted = await this.runs.applyRetention(settings);
    for (let index = 0; index < deleted.length; index += DELETE_CONCURRENCY) {
      const batch = deleted.slice(index, index + DELETE_CONCURRENCY);
      await Promise.all(batch.map((runId) => this.logs.deleteRun(runId)));
    }
    const orphans = await this.logs.deleteOrphans((runId) => this.runs.has(runId));
    this.log.info({ runs: deleted.length, orphanOutputs: orphans, ms: Date.now() - started }, 'retention applied');
    return { deletedRuns: deleted.length, deletedOrphanOutputs: orphans };
  }

  close(): Promise<void> {
    this.closing ??= this.closeFiles();
    return this.closing;
  }

  private async closeFiles(): Promise<void> {
    try {
      await settleAll([this.definitions.close(), this.runs.close(), this.logs.close()]);
    } finally {
      await this.lock.release();
      this.log.info({ dataDir: this.dataDir }, 'store closed');
    }
  }
}

/** Waits for every promise, then rethrows the first failure. */
async function settleAll(promises: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}
