/**
 * Coalesced, retried writes of the definitions file. `save()` marks the state
 * dirty; one write follows after the flush interval, whatever the number of
 * saves in between. A failed write keeps the state in memory and is retried
 * with backoff, so a locked or read-only file never crashes the hub.
 */
import { Low } from 'lowdb';
import type { Logger } from 'pino';
import { errorCode, errorText, StoreError } from './errors.js';
import { RETRY_WINDOW_MS } from './fs-util.js';
import { writeBackup, type AtomicJsonFile } from './definitions-file.js';
import type { StoreState } from './schema.js';

const MAX_RETRY_DELAY_MS = 30_000;

export interface DefinitionsOptions {
  log: Logger;
  flushIntervalMs: number;
  /** The file is copied to the backup before a write at most this often. */
  backupIntervalMs: number;
  /** Called after each failed write, for the hub to show. */
  onError?: (error: StoreError) => void;
}

export class Definitions {
  readonly db: Low<StoreState>;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private failures = 0;
  private lastError: StoreError | null = null;
  private lastBackupAt: number;
  private closed = false;

  constructor(
    private readonly adapter: AtomicJsonFile,
    state: StoreState,
    private readonly options: DefinitionsOptions,
    lastBackupAt: number,
  ) {
    this.db = new Low(adapter, state);
    this.lastBackupAt = lastBackupAt;
  }

  save(): void {
    if (this.closed) throw new Error('store is closed');
    this.dirty = true;
    this.schedule(this.options.flushIntervalMs);
  }

  /** Writes now if anything is unsaved. Rejects with a StoreError when the write fails. */
  async flush(): Promise<void> {
    this.clearTimer();
    if (this.writing) await this.writing;
    if (!this.dirty) return;
    await this.startWrite();
    if (this.dirty && this.lastError) throw this.lastError;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.clearTimer();
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.writing || this.closed) return;
    this.timer = setTimeout(() => void this.startWrite(), delayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private startWrite(): Promise<void> {
    this.clearTimer();
    if (this.writing) return this.writing;
    this.writing = this.writeOnce().finally(() => {
      this.writing = null;
      if (this.dirty) this.schedule(this.failures > 0 ? this.retryDelay() : this.options.flushIntervalMs);
    });
    return this.writing;
  }

  /** Makes one write attempt. Never rejects: a failure is logged, reported and retried later. */
  private async writeOnce(): Promise<void> {
    this.dirty = false;
    try {
      await this.backupIfDue();
      await this.db.write();
      if (this.failures > 0) this.options.log.info({ file: this.adapter.path, failures: this.failures }, 'store write recovered');
      this.failures = 0;
      this.lastError = null;
    } catch (err) {
      this.dirty = true;
      this.failures += 1;
      this.lastError = new StoreError(
        'store_unwritable',
        this.adapter.path,
        `Store file ${this.adapter.path} could not be written (${errorText(err)}) after retrying for ${RETRY_WINDOW_MS / 1000} s. Changes are kept in memory and the write is retried.`,
        { cause: err },
      );
      this.options.log.error(
        { file: this.adapter.path, code: errorCode(err), failures: this.failures, retryInMs: this.retryDelay() },
        'store write failed, will retry',
      );
      this.report(this.lastError);
    }
  }

  private report(error: StoreError): void {
    try {
      this.options.onError?.(error);
    } catch (err) {
      this.options.log.error({ err: errorText(err) }, 'store error listener failed');
    }
  }

  private retryDelay(): number {
    return Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** Math.max(0, this.failures - 1));
  }

  /** Keeps the last written file as the backup; a failed backup does not block the write. */
  private async backupIfDue(): Promise<void> {
    if (Date.now() - this.lastBackupAt < this.options.backupIntervalMs) return;
    try {
      await writeBackup(this.adapter.path);
      this.lastBackupAt = Date.now();
    } catch (err) {
      this.options.log.warn({ file: this.adapter.path, code: errorCode(err) }, 'store backup failed');
    }
  }
}
