import { describe, expect, it } from 'vitest';
import { describeExit } from '../src/runner/exit-reasons.js';
import { parseProtocolLine } from '../src/runner/line-protocol.js';

describe('parseProtocolLine', () => {
  it.each([
    { line: 'plain output', expected: null },
    { line: '::unknown 1', expected: null },
    { line: '::progressive', expected: null },
    { line: '::progress 40', expected: { kind: 'progress', percent: 40, message: null } },
    { line: '::progress 12.5 page 2 of 16', expected: { kind: 'progress', percent: 12.5, message: 'page 2 of 16' } },
    { line: '::record {"a":1}', expected: { kind: 'record', value: { a: 1 } } },
    { line: '::record [1,2]', expected: { kind: 'record', value: [1, 2] } },
    { line: '::result "done"', expected: { kind: 'result', value: 'done' } },
    { line: '::result null', expected: { kind: 'result', value: null } },
  ])('parses "$line"', ({ line, expected }) => {
    expect(parseProtocolLine(line)).toEqual(expected);
  });

  it.each([
    { line: '::progress', reason: 'ignored ::progress line: the percentage must be a number from 0 to 100, got ""' },
    { line: '::progress 101', reason: 'ignored ::progress line: the percentage must be a number from 0 to 100, got "101"' },
    { line: '::record', reason: 'ignored ::record line: JSON expected after ::record' },
    { line: '::result {oops', reason: expect.stringMatching(/^ignored ::result line: invalid JSON \(/) },
  ])('rejects "$line"', ({ line, reason }) => {
    expect(parseProtocolLine(line)).toEqual({ kind: 'invalid', reason });
  });

  it('rejects a record over the limit', () => {
    const line = `::record "${'x'.repeat(100)}"`;

    expect(parseProtocolLine(line, Buffer.byteLength(line), 50)).toEqual({
      kind: 'invalid',
      reason: 'ignored ::record line: its JSON is 102 bytes, over the limit of 50',
    });
  });

  it('rejects a deeply nested record', () => {
    const line = `::record ${'['.repeat(5000)}${']'.repeat(5000)}`;

    expect(parseProtocolLine(line)).toEqual({ kind: 'invalid', reason: 'ignored ::record line: its JSON is nested deeper than 32 levels' });
  });

  it('counts bytes the splitter cut', () => {
    const result = parseProtocolLine('::record {"a":', 10_000, 5_000);

    expect(result).toEqual({ kind: 'invalid', reason: expect.stringMatching(/its JSON is \d+ bytes, over the limit of 5000$/) });
  });
});

describe('describeExit', () => {
  it.each([
    { exitCode: 0, signal: null, expected: 'exited with code 0' },
    { exitCode: 3, signal: null, expected: 'exited with code 3' },
    { exitCode: 127, signal: null, expected: 'exited with code 127 (command not found)' },
    { exitCode: 137, signal: null, expected: 'exited with code 137 (killed, 128 + SIGKILL)' },
    { exitCode: null, signal: 'SIGKILL', expected: 'killed by SIGKILL' },
    { exitCode: null, signal: 'SIGSEGV', expected: 'crashed with SIGSEGV (invalid memory access)' },
    { exitCode: null, signal: 'SIGUSR2', expected: 'ended by SIGUSR2' },
    { exitCode: null, signal: null, expected: 'ended for an unknown reason' },
  ] as const)('describes $exitCode / $signal', ({ exitCode, signal, expected }) => {
    expect(describeExit({ exitCode, signal })).toBe(expected);
  });
});
