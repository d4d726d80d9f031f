import { describe, expect, it } from 'vitest';
import { buildBulkPatch, DEFAULT_BULK_VALUES, type BulkField, type BulkValues } from './bulk-edit.js';

describe('bulk edit patch', () => {
  it.each<[BulkField[], Partial<BulkValues>, object]>([
    [['retries'], { retries: 3 }, { retries: 3 }],
    [['timeoutSec'], { timeoutSec: '' }, { timeoutSec: null }],
    [['timeoutSec'], { timeoutSec: 30 }, { timeoutSec: 30 }],
    [['overlap'], { overlap: 'parallel', maxParallel: 4 }, { overlap: 'parallel', maxParallel: 4 }],
    [['overlap'], { overlap: 'skip', maxParallel: 4 }, { overlap: 'skip' }],
    [['enabled', 'tags'], { enabled: false, tags: ['gpu'] }, { enabled: false, tags: ['gpu'] }],
    [['catchUp'], { catchUp: 'once', retries: 9 }, { catchUp: 'once' }],
  ])('ticks %j with %j', (ticked, values, expected) => {
    const result = buildBulkPatch(new Set(ticked), { ...DEFAULT_BULK_VALUES, ...values });

    expect(result).toEqual({ ok: true, patch: expected });
  });

  it.each<[BulkField[], Partial<BulkValues>, string]>([
    [[], {}, 'enabled'],
    [['retries'], { retries: -1 }, 'retries'],
    [['tags'], { tags: ['not a tag'] }, 'tags'],
    [['timeoutSec'], { timeoutSec: 0 }, 'timeoutSec'],
  ])('rejects %j with %j', (ticked, values, field) => {
    const result = buildBulkPatch(new Set(ticked), { ...DEFAULT_BULK_VALUES, ...values });

    expect(result.ok).toBe(false);
    expect(result.ok ? {} : result.errors).toHaveProperty(field);
  });
});
