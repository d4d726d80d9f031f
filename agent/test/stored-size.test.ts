import { describe, expect, it } from 'vitest';
import { jsonStringBytes, storedLineBytes, storedEventBytes } from '../src/protocol/index.js';

const MESSAGES = ['', 'plain ascii', 'quote " and backslash \\', 'tab\tand\u0001control', 'héllo wörld', 'emoji 😀 pair', 'lone \ud800 surrogate', 'y'.repeat(79)];

describe('stored sizes', () => {
  it('counts a line as the bytes JSON.stringify gives it, plus its comma', () => {
    for (const s of ['stdout', 'stderr', 'system', 'odd "stream"', 'constructor']) {
      for (const m of MESSAGES) {
        const line = { t: 1_796_000_000_000, s, m };
        expect(storedLineBytes(line), `${s}: ${JSON.stringify(m)}`).toBe(Buffer.byteLength(JSON.stringify(line)) + 1);
      }
    }
  });

  it('counts a string as its JSON form', () => {
    for (const m of MESSAGES) expect(jsonStringBytes(m)).toBe(Buffer.byteLength(JSON.stringify(m)));
  });

  it('counts an event wrapper as the hub writes it', () => {
    const lines = [{ t: 1_796_000_000_000, s: 'stdout', m: 'a' }];
    const stored = JSON.stringify({ a: 3, q: 1234, lines }) + '\n';
    expect(storedEventBytes(3, 1234) + storedLineBytes(lines[0] as (typeof lines)[0])).toBe(Buffer.byteLength(stored));
  });
});
