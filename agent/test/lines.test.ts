import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineSplitter, truncateUtf8 } from '../src/runner/lines.js';
import { fixturePath, makeAssignment, makeSettings, makeTempDir, removeDir, runToEnd } from './helpers.js';

function split(chunks: (string | number[])[], maxLineBytes = 1024): { text: string; fullBytes: number }[] {
  const lines: { text: string; fullBytes: number }[] = [];
  const splitter = new LineSplitter(maxLineBytes, (text, fullBytes) => lines.push({ text, fullBytes }));
  for (const chunk of chunks) splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it.each([
    { name: 'plain lines', chunks: ['a\nb\n'], expected: ['a', 'b'] },
    { name: 'line across chunks', chunks: ['hel', 'lo\nwor', 'ld\n'], expected: ['hello', 'world'] },
    { name: 'crlf line breaks', chunks: ['one\r\ntwo\r', '\n'], expected: ['one', 'two'] },
    { name: 'last line without newline', chunks: ['tail'], expected: ['tail'] },
    { name: 'empty lines kept', chunks: ['\n\nx\n'], expected: ['', '', 'x'] },
    { name: 'two-byte char split', chunks: [[0x63, 0xc3], [0xa9, 0x0a]], expected: ['cé'] },
    { name: 'emoji split 1+3', chunks: [[0xf0], [0x9f, 0x98, 0x80, 0x0a]], expected: ['😀'] },
    { name: 'invalid byte', chunks: [[0x61, 0xff, 0x62, 0x0a]], expected: ['a\uFFFDb'] },
  ])('splits $name', ({ chunks, expected }) => {
    const lines = split(chunks);

    expect(lines.map((line) => line.text)).toEqual(expected);
  });

  it('cuts a long line and reports its length', () => {
    const lines = split(['x'.repeat(100), 'y'.repeat(50) + '\nnext\n'], 64);

    expect(lines[0]?.text).toBe('x'.repeat(64));
    expect(lines[0]?.fullBytes).toBe(150);
    expect(lines[1]?.text).toBe('next');
  });

  it('never cuts inside a character', () => {
    const lines = split(['ab€€€\n'], 6);

    expect(lines[0]?.text).toBe('ab€');
    expect(lines[0]?.fullBytes).toBe(11);
  });

  it.each([
    { text: 'hello', max: 10, expected: 'hello' },
    { text: 'hello', max: 3, expected: 'hel' },
    { text: 'é', max: 1, expected: '' },
    { text: '😀x', max: 4, expected: '😀' },
    { text: 'abc', max: 0, expected: '' },
  ])('truncateUtf8 keeps $max bytes of "$text"', ({ text, max, expected }) => {
    expect(truncateUtf8(text, max)).toBe(expected);
  });
});

describe('output of a real child', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  it('keeps characters split across writes', async () => {
    const assignment = makeAssignment('shell', `exec "${process.execPath}" "${fixturePath('split-chars.mjs')}"`);

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir));

    expect(outcome.status).toBe('succeeded');
    expect(sink.messages('stdout')).toEqual(['café', '😀', 'windows', 'bad\uFFFD', 'no newline at the end']);
  });

  it('cuts an overlong line with a marker', async () => {
    const assignment = makeAssignment('shell', 'head -c 40000 /dev/zero | tr "\\0" x; echo; echo after');

    const { sink } = await runToEnd(assignment, makeSettings(dataDir));

    const [long, after] = sink.messages('stdout');
    expect(long?.startsWith('x'.repeat(16 * 1024))).toBe(true);
    expect(long?.endsWith(' … [line truncated, 40000 bytes]')).toBe(true);
    expect(Buffer.byteLength(long ?? '')).toBeLessThan(16 * 1024 + 64);
    expect(after).toBe('after');
  });
});
