/**
 * File primitives shared by the store: atomic replacement with fsync, and
 * retries for the transient errors that Windows antivirus scanners, search
 * indexers and sync clients cause while they hold a file open.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from './errors.js';

const TRANSIENT_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** How long a transient error is retried before it counts as a failure. */
export const RETRY_WINDOW_MS = 2000;

/**
 * Runs `operation`, retrying it with exponential backoff (10 ms doubling to
 * 250 ms) while it fails with EPERM, EACCES or EBUSY and the window lasts.
 */
export async function withRetry<T>(operation: () => Promise<T>, windowMs = RETRY_WINDOW_MS): Promise<T> {
  const deadline = Date.now() + windowMs;
  let delay = 10;
  for (;;) {
    try {
      return await operation();
    } catch (err) {
      const transient = TRANSIENT_CODES.has(errorCode(err) ?? '');
      if (!transient || Date.now() + delay > deadline) throw err;
      await sleep(delay);
      delay = Math.min(delay * 2, 250);
    }
  }
}

let tempCounter = 0;

/** Returns a temp file name beside `file`, unique across processes and calls. */
export function tempPathFor(file: string): string {
  tempCounter += 1;
  return `${file}.${process.pid}.${tempCounter}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Matches the names that `tempPathFor` gives for a file named `name`. */
export function isTempFileOf(name: string, candidate: string): boolean {
  return candidate.startsWith(`${name}.`) && /\.\d+\.\d+\.[0-9a-f]{8}\.tmp$/.test(candidate);
}

/**
 * Replaces `file` with `data` so that a crash or power cut leaves either the
 * old or the new content: write a unique temp file, fsync it, rename it over
 * `file`, then fsync the directory so the rename itself is durable.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const temp = tempPathFor(file);
  try {
    await withRetry(() => writeAndSync(temp, data, mode));
    await withRetry(() => rename(temp, file));
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(file));
}

async function writeAndSync(path: string, data: string | Buffer, mode: number): Promise<void> {
  const handle = await open(path, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Per directory: the sync under way, and the one queued behind it that later callers share. */
const directorySyncs = new Map<string, { running: Promise<void>; queued: Promise<void> | null }>();

/**
 * Flushes directory entry changes (new files, renames, unlinks) to disk.
 * Windows cannot open a directory for this, and NTFS journals renames itself,
 * so it does nothing there. NOTE: the Windows path is not exercised by the tests.
 *
 * Calls share syncs: a call resolves after a sync that started after it was
 * made, and every call that arrives while one sync runs waits for the same
 * next one. A hub that creates a log file for each of hundreds of runs per
 * second then pays for a few directory syncs per write round, not one per file.
 */
export function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return Promise.resolve();
  const entry = directorySyncs.get(dir);
  if (!entry) return startDirectorySync(dir);
  // The queued sync starts once the running one ends; calls from then on queue behind it.
  entry.queued ??= entry.running.catch(() => undefined).then(() => startDirectorySync(dir));
  return entry.queued;
}

/** Starts a sync of `dir` and records it as the one under way. */
function startDirectorySync(dir: string): Promise<void> {
  const running = runDirectorySync(dir);
  directorySyncs.set(dir, { running, queued: null });
  return running;
}

function runDirectorySync(dir: string): Promise<void> {
  const running = syncDirectoryNow(dir);
  void running
    .catch(() => undefined)
    .then(() => {
      const entry = directorySyncs.get(dir);
      if (entry?.running === running && entry.queued === null) directorySyncs.delete(dir);
    });
  return running;
}

async function syncDirectoryNow(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file; a missing file is not an error. */
export async function removeFile(path: string): Promise<void> {
  await withRetry(() => rm(path, { force: true }));
}

/**
 * Runs async tasks one at a time in call order. A failed task does not stop
 * the ones queued after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const result = this.tail.then(task).finally(() => {
      this.queued -= 1;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  get idle(): boolean {
    return this.queued === 0;
  }
}
