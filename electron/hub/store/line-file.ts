/**
 * One append-only JSON-lines file written through a single open handle, for
 * the run segments. Every operation on the file runs in its own serial
 * queue, so a rewrite never interleaves with an append.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorCode } from './errors.js';
import { SerialQueue, syncDirectory, withRetry } from './fs-util.js';

export interface LineFileOptions {
  /** fdatasync after every write. */
  sync: boolean;
}

export class LineFile {
  private handle: FileHandle | null = null;
  /** Bytes in the file, once known from an open, a stat or our own writes. */
  private size: number | null = null;
  /** Set when the file does not end in a newline, so the next write starts a new line. */
  private needsNewline = false;
  /**
   * Set once an open has read `size` and `needsNewline` from the file. They
   * stay true while only this object's writes change the file, because the
   * store's lock keeps other writers out. A reopen then skips the stat and
   * the read of the last byte.
   */
  private tailKnown = false;
  /** Set when this object created the file and its directory entry may not be on disk yet. */
  private entryUnsynced = false;
  private readonly queue = new SerialQueue();

  constructor(
    readonly path: string,
    private readonly options: LineFileOptions,
  ) {}

  /** Appends `lines` in one write; a failed write is cut back when it can be (`undoPartialWrite`). */
  write(lines: readonly string[]): Promise<void> {
    return this.queue.run(() => this.writeLines(lines));
  }

  /** Closes the handle once the queued writes are done. */
  close(): Promise<void> {
    return this.queue.run(() => this.closeHandle());
  }

  /** Runs `task` when every queued operation is done, with the handle closed. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      await this.closeHandle();
      this.size = null;
      this.needsNewline = false;
      this.tailKnown = false;
      return task();
    });
  }

  private async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const handle = await this.openHandle();
    // Known after an open, unless a failed write could not be cut back.
    this.size ??= (await handle.stat()).size;
    // fdatasync makes the data durable but not the file's directory entry, so a power cut could
    // drop a new file whose lines were all synced. The entry is synced before the first write
    // because a failure then leaves nothing written, and the write can be retried unchanged.
    if (this.options.sync && this.entryUnsynced) {
      await syncDirectory(dirname(this.path));
      this.entryUnsynced = false;
    }
    const data = (this.needsNewline ? '\n' : '') + lines.join('\n') + '\n';
    const before = this.size;
    try {
      await handle.appendFile(data, 'utf8');
      if (this.options.sync) await handle.datasync();
    } catch (err) {
      await this.undoPartialWrite(handle, before);
      throw err;
    }
    this.needsNewline = false;
    if (this.size !== null) this.size += Buffer.byteLength(data, 'utf8');
  }

  /**
   * Cuts the file back to its size before a failed write. Part of the data may
   * have reached the file, ending with whole lines that the retry would write
   * a second time. When the cut fails, the retry starts on a new line instead.
   */
  private async undoPartialWrite(handle: FileHandle, before: number | null): Promise<void> {
    if (before !== null) {
      try {
        await handle.truncate(before);
        return;
      } catch {
        // Fall through: the size is unknown from here on.
      }
    }
    this.needsNewline = true;
    this.size = null;
    this.tailKnown = false;
  }

  private async openHandle(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    const handle = (this.tailKnown ? null : await this.createHandle()) ?? (await withRetry(() => open(this.path, 'a+', 0o600)));
    try {
      if (!this.tailKnown || this.size === null) {
        const { size } = await handle.stat();
        this.size = size;
        this.needsNewline = size > 0 && !(await endsWithNewline(handle, size));
        this.tailKnown = true;
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    this.handle = handle;
    return handle;
  }

  /**
   * Creates the file when it does not exist yet, as for most output files,
   * whose end is then known without a stat and a read. Returns null when the
   * file exists.
   */
  private async createHandle(): Promise<FileHandle | null> {
    let handle: FileHandle;
    try {
      handle = await withRetry(() => open(this.path, 'ax', 0o600));
    } catch (err) {
      if (errorCode(err) === 'EEXIST') return null;
      throw err;
    }
    this.size = 0;
    this.needsNewline = false;
    this.tailKnown = true;
    this.entryUnsynced = true;
    return handle;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    this.handle = null;
    await handle.close();
  }
}

async function endsWithNewline(handle: FileHandle, size: number): Promise<boolean> {
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, size - 1);
  return byte[0] === 0x0a;
}
