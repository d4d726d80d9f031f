/**
 * One append-only JSON-lines file written through a single open handle.
 * Every operation on the file runs in its own serial queue, so a reader's
 * snapshot never sees half of a batch.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorCode } from './errors.js';
import { SerialQueue, syncDirectory, withRetry } from './fs-util.js';

export interface LineFileOptions {
  /** fdatasync after every write: for run records, not for bulk output. */
  sync: boolean;
  /** Waits for a free file handle; `onClose` returns it. */
  acquire?: () => Promise<void>;
  onOpen?: (file: LineFile) => void;
  onClose?: (file: LineFile) => void;
}

/** The content a reader may read: the first `size` bytes of the file, then the `pending` lines. */
export interface LineFileSnapshot {
  size: number;
  pending: string[];
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
  private pending: string[] = [];
  /** Set while `pending` contains a line appended with `marked`; it moves with those lines, into a write and back on failure. */
  private pendingMarked = false;
  /** Writes under way whose lines include marked ones. */
  private markedWrites = 0;
  /** Set when this object created the file and its directory entry may not be on disk yet. */
  private entryUnsynced = false;
  private readonly queue = new SerialQueue();
  lastUsed = Date.now();

  constructor(
    readonly path: string,
    private readonly options: LineFileOptions,
  ) {}

  get isOpen(): boolean {
    return this.handle !== null;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * True while a line appended with `marked` is buffered or in a write under
   * way, so a `flush` now resolves only once it is in the file. A failed write
   * keeps it true, whichever operation of the file's queue ran that write.
   */
  get hasMarkedLines(): boolean {
    return this.pendingMarked || this.markedWrites > 0;
  }

  get idle(): boolean {
    return this.queue.idle && this.pending.length === 0 && this.handle === null;
  }

  /** Buffers one serialized line; `flush` writes it. `marked` flags a line that `hasMarkedLines` reports until it is written. */
  append(line: string, marked = false): void {
    this.pending.push(line);
    if (marked) this.pendingMarked = true;
    this.lastUsed = Date.now();
  }

  /** Writes the buffered lines in one append. On failure they stay buffered. */
  flush(): Promise<void> {
    return this.queue.run(() => this.writePending());
  }

  /** Appends `lines` now, bypassing the buffer. */
  write(lines: readonly string[]): Promise<void> {
    return this.queue.run(() => this.writeLines(lines));
  }

  snapshot(): Promise<LineFileSnapshot> {
    return this.queue.run(async () => {
      this.size ??= await sizeOf(this.path);
      return { size: this.size, pending: [...this.pending] };
    });
  }

  /** Closes the handle and keeps the buffer, to free a descriptor. */
  release(): Promise<void> {
    return this.queue.run(() => this.closeHandle());
  }

  /** Writes the buffer, then closes the handle; on a failed write the lines stay buffered. */
  close(): Promise<void> {
    return this.queue.run(async () => {
      try {
        await this.writePending();
      } finally {
        await this.closeHandle();
      }
    });
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

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    const batchMarked = this.pendingMarked;
    this.pending = [];
    this.pendingMarked = false;
    if (batchMarked) this.markedWrites += 1;
    try {
      await this.writeLines(batch);
    } catch (err) {
      this.pending = batch.concat(this.pending);
      this.pendingMarked ||= batchMarked;
      throw err;
    } finally {
      if (batchMarked) this.markedWrites -= 1;
    }
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
    this.lastUsed = Date.now();
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
    await this.options.acquire?.();
    let handle: FileHandle;
    try {
      handle = (this.tailKnown ? null : await this.createHandle()) ?? (await withRetry(() => open(this.path, 'a+', 0o600)));
    } catch (err) {
      this.options.onClose?.(this);
      throw err;
    }
    try {
      if (!this.tailKnown || this.size === null) {
        const { size } = await handle.stat();
        this.size = size;
        this.needsNewline = size > 0 && !(await endsWithNewline(handle, size));
        this.tailKnown = true;
      }
    } catch (err) {
      await handle.close();
      this.options.onClose?.(this);
      throw err;
    }
    this.handle = handle;
    this.options.onOpen?.(this);
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
    try {
      await handle.close();
    } finally {
      this.options.onClose?.(this);
    }
  }
}

async function endsWithNewline(handle: FileHandle, size: number): Promise<boolean> {
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, size - 1);
  return byte[0] === 0x0a;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 0;
    throw err;
  }
}
