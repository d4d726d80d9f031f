/**
 * Splits a byte stream into lines. One StringDecoder per stream keeps a
 * multi-byte character that arrives in two chunks whole; invalid bytes
 * become U+FFFD. A line longer than `maxLineBytes` keeps its first
 * `maxLineBytes` bytes and reports its full length, so memory stays bounded
 * whatever the child writes.
 */
import { StringDecoder } from 'node:string_decoder';

/** `fullBytes` is the line's length before any cut, in UTF-8 bytes, without the line break. */
export type LineListener = (text: string, fullBytes: number) => void;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private pendingBytes = 0;
  /** Bytes of the current line that did not fit and were not kept. */
  private droppedBytes = 0;
  /** Whether the last byte seen of the current line was \r, part of a \r\n line break. */
  private endsWithCarriageReturn = false;
  private ended = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: LineListener,
  ) {}

  write(chunk: Buffer): void {
    if (this.ended) return;
    this.consume(this.decoder.write(chunk));
  }

  /** Emits the last line even without a trailing line break. Later writes are ignored. */
  end(): void {
    if (this.ended) return;
    this.consume(this.decoder.end());
    this.ended = true;
    if (this.pendingBytes > 0 || this.droppedBytes > 0) this.emitPending();
  }

  private consume(text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n', start); newline !== -1; newline = text.indexOf('\n', start)) {
      this.append(text.slice(start, newline));
      this.emitPending();
      start = newline + 1;
    }
    if (start < text.length) this.append(text.slice(start));
  }

  private append(piece: string): void {
    if (piece === '') return;
    this.endsWithCarriageReturn = piece.endsWith('\r');
    const bytes = Buffer.byteLength(piece);
    const room = this.maxLineBytes - this.pendingBytes;
    if (bytes <= room) {
      this.pending += piece;
      this.pendingBytes += bytes;
      return;
    }
    const kept = truncateUtf8(piece, room);
    const keptBytes = Buffer.byteLength(kept);
    this.pending += kept;
    this.pendingBytes += keptBytes;
    this.droppedBytes += bytes - keptBytes;
  }

  private emitPending(): void {
    let text = this.pending;
    let fullBytes = this.pendingBytes + this.droppedBytes;
    if (this.endsWithCarriageReturn) {
      // When the line was cut, its final \r went with the dropped tail.
      if (this.droppedBytes === 0) text = text.slice(0, -1);
      fullBytes -= 1;
    }
    this.pending = '';
    this.pendingBytes = 0;
    this.droppedBytes = 0;
    this.endsWithCarriageReturn = false;
    this.onLine(text, fullBytes);
  }
}

/** Returns the longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.toString('utf8', 0, end);
}
