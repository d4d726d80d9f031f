/**
 * Task code cached in the data directory by its SHA-256, so a task's code is
 * written once, not on every run: `tasks/<hash>.mjs` for node modules,
 * `tasks/<hash>.sh` (`.cmd` on Windows) for shell scripts.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Returns the path of the cached file, writing it first when it is missing.
 * The write goes through a temporary file and a rename, so a crash never
 * leaves a half-written file under the final name. Synchronous: after the
 * first run it is one stat on the path of every run's start.
 */
export function cacheTaskFile(dataDir: string, code: string, hash: string, extension: string): string {
  const directory = path.join(dataDir, 'tasks');
  const file = path.join(directory, `${hash}${extension}`);
  if (existsSync(file)) return file;
  // TODO: prune the files of tasks that have not run for a long time.
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomUUID()}.tmp`;
  writeFileSync(temporary, code, { mode: 0o600 });
  renameSync(temporary, file);
  return file;
}
