/**
 * The bulk edit's patch: only the fields the user ticked, checked with the
 * hub's patch schema before it is sent.
 */
import { jobPatchSchema, type JobPatch, type OverlapPolicy, type CatchUpPolicy } from '../../../../electron/hub/model.js';

export const BULK_FIELDS = ['enabled', 'tags', 'timeoutSec', 'retries', 'retryDelaySec', 'overlap', 'catchUp'] as const;
export type BulkField = (typeof BULK_FIELDS)[number];

export interface BulkValues {
  enabled: boolean;
  tags: string[];
  /** Empty for no timeout. */
  timeoutSec: number | '';
  retries: number | '';
  retryDelaySec: number | '';
  overlap: OverlapPolicy;
  maxParallel: number | '';
  catchUp: CatchUpPolicy;
}

export const DEFAULT_BULK_VALUES: BulkValues = {
  enabled: true,
  tags: [],
  timeoutSec: '',
  retries: 0,
  retryDelaySec: 10,
  overlap: 'skip',
  maxParallel: 1,
  catchUp: 'none',
};

export type BulkPatchResult = { ok: true; patch: JobPatch } | { ok: false; errors: Partial<Record<BulkField | 'maxParallel', string>> };

/** Builds the patch of the ticked fields; `maxParallel` goes with `overlap`. */
export function buildBulkPatch(ticked: ReadonlySet<BulkField>, values: BulkValues): BulkPatchResult {
  if (ticked.size === 0) return { ok: false, errors: { enabled: 'Tick at least one field to change' } };
  const patch: Record<string, unknown> = {};
  for (const field of ticked) {
    if (field === 'timeoutSec') patch.timeoutSec = values.timeoutSec === '' ? null : values.timeoutSec;
    else if (field === 'overlap') {
      patch.overlap = values.overlap;
      if (values.overlap === 'parallel') patch.maxParallel = values.maxParallel === '' ? undefined : values.maxParallel;
    } else patch[field] = values[field] === '' ? undefined : values[field];
  }
  const parsed = jobPatchSchema.safeParse(patch);
  if (parsed.success) return { ok: true, patch: parsed.data };
  const errors: Partial<Record<BulkField | 'maxParallel', string>> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? 'enabled') as BulkField | 'maxParallel';
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}
