/**
 * The bulk edit's patch: only the fields the user ticked, checked with the
 * hub's patch schema before it is sent.
 */
import { jobPatchSchema, type JobPatch } from '../../../../electron/hub/model.js';
import { DEFAULT_POLICY_VALUES, POLICY_FIELDS, policyInput, type PolicyValues } from '../job-editor/job-fields.js';

/** The policy fields a user can tick; `maxParallel` is not one, because it goes with `overlap`. */
export const BULK_FIELDS = POLICY_FIELDS.filter((field): field is Exclude<(typeof POLICY_FIELDS)[number], 'maxParallel'> => field !== 'maxParallel');
export type BulkField = (typeof BULK_FIELDS)[number];

export type BulkValues = PolicyValues;

export const DEFAULT_BULK_VALUES: BulkValues = DEFAULT_POLICY_VALUES;

export type BulkPatchResult = { ok: true; patch: JobPatch } | { ok: false; errors: Partial<Record<BulkField | 'maxParallel', string>> };

/** Builds the patch of the ticked fields; `maxParallel` goes with `overlap`. */
export function buildBulkPatch(ticked: ReadonlySet<BulkField>, values: BulkValues): BulkPatchResult {
  if (ticked.size === 0) return { ok: false, errors: { enabled: 'Tick at least one field to change' } };
  const input = policyInput(values);
  const patch: Record<string, unknown> = {};
  for (const field of ticked) {
    patch[field] = input[field];
    if (field === 'overlap' && values.overlap === 'parallel') patch.maxParallel = input.maxParallel;
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
