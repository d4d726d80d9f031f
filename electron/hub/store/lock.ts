/**
 * The store's lock file: `farmboy.lock` with the owner's PID, created with
 * O_EXCL so that two hubs never write one data directory. A lock whose
 * process is gone is stale and taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { errorCode, errorText, StoreError } from './errors.js';

export const LOCK_FILE = 'farmboy.lock';

/** Lock files held by this process, so a second open in the same process is refused too. */
const heldLocks = new Set<string>();

export interface StoreLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Takes the lock at `path` or throws StoreError 'store_locked' naming the owner. */
export async function acquireLock(path: string, log: Logger): Promise<StoreLock> {
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    if (await tryCreate(path)) {
      heldLocks.add(path);
      return { path, release: () => releaseLock(path) };
    }
    const owner = await readOwner(path);
    if (owner !== null && isLiveOwner(path, owner)) throw lockedError(path, owner);
    log.warn({ file: path, pid: owner }, 'stale store lock taken over');
    // NOTE: two processes taking over the same stale lock at the same moment can
    // both succeed; the desktop app's single-instance lock covers that case.
    await rm(path, { force: true });
  }
  throw lockedError(path, await readOwner(path));
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    throw new StoreError('store_unwritable', path, `Lock file ${path} cannot be created (${errorText(err)}). Check the data directory's permissions.`, {
      cause: err,
    });
  }
}

/** Reads the PID in the lock file, waiting briefly for a writer that just created it; null when there is none. */
async function readOwner(path: string): Promise<number | null> {
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const pid = await readPid(path);
    if (pid !== null) return pid;
    if (attempt === 1) await sleep(200);
  }
  return null;
}

async function readPid(path: string): Promise<number | null> {
  try {
    const text = await readFile(path, 'utf8');
    const pid = Number.parseInt(text.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isLiveOwner(path: string, pid: number): boolean {
  // Our own PID in a lock we do not hold is a leftover from an earlier process that had the same PID.
  if (pid === process.pid) return heldLocks.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return errorCode(err) === 'EPERM';
  }
}

function lockedError(path: string, pid: number | null): StoreError {
  const owner = pid === null ? 'another process' : `process ${pid}`;
  return new StoreError(
    'store_locked',
    path,
    `The store is locked by ${owner} (lock file ${path}): another Farmboy hub is using this data directory. Stop it first, or delete the lock file if no Farmboy is running.`,
  );
}

async function releaseLock(path: string): Promise<void> {
  heldLocks.delete(path);
  if ((await readPid(path)) === process.pid) await rm(path, { force: true });
}
