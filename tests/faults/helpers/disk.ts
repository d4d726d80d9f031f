/**
 * A small tmpfs mounted for one test, to fill it up or make it read-only.
 * Mounting needs root (or CAP_SYS_ADMIN); `canMount` tells whether this
 * machine allows it, and the tests that need it are skipped otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from '../../helpers/fleet.js';

function probeMount(): boolean {
  if (process.platform !== 'linux') return false;
  const dir = mkdtempSync(join(tmpdir(), 'farmboy-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const canMount = probeMount();

export interface SmallDisk {
  dir: string;
  /** Takes every free byte with a filler file. */
  fill(): Promise<void>;
  /**
   * Fills the disk and takes again, every few milliseconds, any space a
   * program frees (by deleting a file) until the returned function is called.
   */
  keepFull(): Promise<() => Promise<void>>;
  /** Deletes the filler file. */
  free(): Promise<void>;
  /** Remounts the file system read-only, or writable again. */
  setReadOnly(readOnly: boolean): void;
}

/** Mounts a tmpfs of `sizeBytes` at a new directory; the test's cleanup unmounts it. */
export async function mountSmallDisk(sizeBytes: number): Promise<SmallDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'farmboy-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir]);
  onCleanup(async () => {
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  const filler = join(dir, 'filler');
  const disk: SmallDisk = {
    dir,
    async keepFull() {
      await disk.fill();
      let stopped = false;
      const loop = (async () => {
        while (!stopped) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          await disk.fill();
        }
      })();
      const stop = async () => {
        stopped = true;
        await loop;
      };
      onCleanup(stop);
      return stop;
    },
    async fill() {
      const handle = await open(filler, 'a');
      try {
        // Smaller and smaller writes take the space left by the larger ones.
        for (const size of [64 * 1024, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size);
          try {
            for (;;) await handle.write(chunk);
          } catch (error: unknown) {
            if (!(error instanceof Error && 'code' in error && error.code === 'ENOSPC')) throw error;
          }
        }
      } finally {
        await handle.close();
      }
    },
    async free() {
      await rm(filler, { force: true });
    },
    setReadOnly(readOnly) {
      execFileSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir]);
    },
  };
  return disk;
}
