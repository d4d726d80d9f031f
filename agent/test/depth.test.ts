import { describe, expect, it } from 'vitest';
import { eventBatchSchema, exceedsDepth, parseMessage } from '../src/protocol/index.js';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { key: value };
  return value;
}

describe('exceedsDepth', () => {
  it.each([
    [0, 32, false],
    [32, 32, false],
    [33, 32, true],
    [100_000, 32, true],
  ])('depth %i against a limit of %i', (depth, limit, expected) => {
    expect(exceedsDepth(nested(depth), limit)).toBe(expected);
  });

  it('rejects a deep message without overflowing', () => {
    const payload = { events: [{ runId: 'r', attempt: 1, seq: 1, at: 1, type: 'records', records: [nested(50_000)] }] };

    const parsed = parseMessage(eventBatchSchema, payload);

    expect(parsed).toEqual({ ok: false, reason: 'payload is nested deeper than 40 levels' });
  });
});
