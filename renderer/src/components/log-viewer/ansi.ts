/**
 * Splits a log line with ANSI colour codes into styled segments.
 */
import Anser from 'anser';

export interface Segment {
  text: string;
  color?: string;
  background?: string;
  bold?: boolean;
}

// Matches the escape character that starts every ANSI sequence.
const ESCAPE = '\u001b';

export function ansiSegments(line: string): Segment[] {
  if (!line.includes(ESCAPE)) return [{ text: line }];
  return Anser.ansiToJson(line, { json: true, remove_empty: true }).map((part) => ({
    text: part.content,
    color: part.fg ? `rgb(${part.fg})` : undefined,
    background: part.bg ? `rgb(${part.bg})` : undefined,
    bold: part.decorations.includes('bold'),
  }));
}

/** Returns the line without colour codes, for search and download. */
export function stripAnsi(line: string): string {
  return line.includes(ESCAPE) ? Anser.ansiToText(line) : line;
}
