/**
 * Directories and files created ahead of the runs that use them, as the
 * warm pool starts node task hosts ahead. A run needs a scratch directory
 * with `config.json` before its process starts, and a process record right
 * after. Creating a file or a directory took 0.8 to 3 ms each on the
 * benchmark machine (ext4 on a virtio disk, with other processes busy).
 * Renaming a spare into place took 0.03 to 0.06 ms, and writing into an
 * empty existing file about as little, when the write does not truncate it
 * (`writeSmallFile`).
 *
 * Spares live in `<data-dir>/runs/`, which the agent empties at start, so
 * spares of a killed agent are removed with the scratch directories.
 * Renames stay within the data directory, so on one file system.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { RateLimitedLog } from '../rate-limited-log.js';

export interface SpareFilesOptions {
  /** The agent's data directory; spares go to its `runs/` folder. */
  dataDir: string;
  /** Spares of each kind kept ready: one per slot covers runs that start at once. */
  count: number;
  log: Logger;
}

export const CONFIG_FILE = 'config.json';

/**
 * Writes `text` to a file, into a spare moved there or creating it. The file
 * is opened without O_TRUNC: on ext4, truncating a file to zero makes its
 * close start writing it out (auto_da_alloc). With O_TRUNC a write into an
 * empty file took four times as long, most of it in close.
 */
export function writeSmallFile(file: string, text: string, mode: number): void {
  const data = Buffer.from(text, 'utf8');
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT, mode);
  try {
    for (let written = 0; written < data.length; ) written += writeSync(fd, data, written);
    // A spare is empty; this only cuts an older file that was longer.
    if (fstatSync(fd).size > data.length) ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
}

export class SpareFiles {
  private readonly root: string;
  private readonly warnings: RateLimitedLog;
  private readonly dirs: string[] = [];
  private readonly files: string[] = [];
  private creatingDirs = 0;
  private creatingFiles = 0;
  private counter = 0;
  private stopped = false;

  constructor(private readonly options: SpareFilesOptions) {
    this.root = path.join(options.dataDir, 'runs');
    this.warnings = new RateLimitedLog(options.log);
  }

  /** Spares created and not taken yet. */
  get ready(): { dirs: number; files: number } {
    return { dirs: this.dirs.length, files: this.files.length };
  }

  /** Starts creating the spares; call after the leftovers of an earlier agent process are removed. */
  start(): void {
    this.refill();
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Moves a spare directory, with an empty `config.json` in it, to `target`.
   * Returns false when none is ready or the rename failed, and the caller then creates the directory itself.
   */
  takeDir(target: string): boolean {
    return this.take(this.dirs, target);
  }

  /** Moves an empty spare file to `target`, whose directory must exist; false when none could be moved. */
  takeFile(target: string): boolean {
    return this.take(this.files, target);
  }

  private take(spares: string[], target: string): boolean {
    const spare = spares.pop();
    this.refill();
    if (spare === undefined) return false;
    try {
      renameSync(spare, target);
      return true;
    } catch (error: unknown) {
      this.warnings.warn('spare_rename', { err: error, spare, target }, 'could not move a spare into place, creating it instead');
      return false;
    }
  }

  private refill(): void {
    if (this.stopped) return;
    while (this.dirs.length + this.creatingDirs < this.options.count) {
      this.creatingDirs += 1;
      this.settle(this.createDir(), this.dirs, () => (this.creatingDirs -= 1));
    }
    while (this.files.length + this.creatingFiles < this.options.count) {
      this.creatingFiles += 1;
      this.settle(this.createFile(), this.files, () => (this.creatingFiles -= 1));
    }
  }

  /** Adds a created spare to its list; after a failure no more are created until the next take. */
  private settle(creation: Promise<string>, spares: string[], done: () => void): void {
    creation.then(
      (spare) => {
        done();
        spares.push(spare);
      },
      (error: unknown) => {
        done();
        this.warnings.warn('spare_create', { err: error, dir: this.root }, 'could not create spare run files ahead, runs create their own');
      },
    );
  }

  private async createDir(): Promise<string> {
    const dir = path.join(this.root, `.spare-dir-${process.pid}-${this.counter++}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, CONFIG_FILE), '', { mode: 0o600, flag: 'wx' });
    return dir;
  }

  private async createFile(): Promise<string> {
    const file = path.join(this.root, `.spare-file-${process.pid}-${this.counter++}`);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await writeFile(file, '', { mode: 0o600, flag: 'wx' });
    return file;
  }
}


/**
 * Removes a run's scratch directory. One that contains only `config.json`
 * (the common case) goes with two calls. When the task left more there,
 * a recursive removal takes it, at several calls per entry.
 */
export async function removeScratchDir(dir: string): Promise<void> {
  try {
    // unlink does not follow a symbolic link, and fails on a directory, which the recursive removal then takes.
    await unlink(path.join(dir, CONFIG_FILE)).catch(() => undefined);
    await rmdir(dir);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
}
