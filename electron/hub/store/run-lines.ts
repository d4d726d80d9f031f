/**
 * The line format of run segments. A run's first line in a segment is the
 * whole run record. Later lines of the same run in the same segment are
 * patches: `{"id": ..., "patch": 1, "status": ..., <changed fields>}`, with
 * only the fields whose values changed since the previous line. A run record
 * repeats the job's config, tags and names, which rarely change after the run
 * is queued, so a patch is a fraction of the record's size and
 * serialization cost.
 *
 * A patch always follows its base in the same segment, so reading segments
 * in order and applying each patch to the run read so far rebuilds every
 * run. Compaction writes whole records only.
 */
import { z } from 'zod';
import { runStatusSchema, type Run } from '../model.js';

/** Key whose value 1 marks a patch line. The run model has no field of that name. */
export const PATCH_KEY = 'patch';

// NOTE: only the fields the index relies on are checked; the rest of a stored
// run is trusted as the hub wrote it.
const storedRunSchema = z.object({
  id: z.string().min(1),
  jobId: z.string().nullable(),
  agentId: z.string().nullable(),
  status: runStatusSchema,
  queuedAt: z.number(),
});

type Fields = Record<string, unknown>;

/**
 * Serializes `run` as a patch over `previous`, the run as its last line in
 * the same segment left it, or whole when there is no such line. A field
 * that `run` dropped cannot be expressed as a patch, so it gets a whole line.
 */
export function serializeRunLine(run: Run, previous: Run | undefined): string {
  if (previous === undefined) return JSON.stringify(run);
  const next = run as unknown as Fields;
  const before = previous as unknown as Fields;
  const patch: Fields = { id: run.id, [PATCH_KEY]: 1, status: run.status };
  for (const key of Object.keys(before)) {
    if (before[key] !== undefined && next[key] === undefined) return JSON.stringify(run);
  }
  for (const key of Object.keys(next)) {
    const value = next[key];
    // Fields that hold arrays or objects are replaced, never changed in place, so a reference check finds every change.
    if (value !== undefined && value !== before[key]) patch[key] = value;
  }
  return JSON.stringify(patch);
}

export function isPatchLine(value: unknown): value is Fields & { id: string } {
  if (typeof value !== 'object' || value === null) return false;
  const fields = value as Fields;
  return fields[PATCH_KEY] === 1 && typeof fields.id === 'string';
}

/**
 * Returns the stored run itself when the fields the index relies on are
 * valid. Only those fields go through the schema: a loose schema would copy
 * every run at start, which with 100,000 runs cost about a quarter of the
 * restart in bench/ (the `history` benchmark).
 */
export function asStoredRun(value: unknown): Run | null {
  if (typeof value !== 'object' || value === null) return null;
  const { id, jobId, agentId, status, queuedAt } = value as Fields;
  return storedRunSchema.safeParse({ id, jobId, agentId, status, queuedAt }).success ? (value as Run) : null;
}

/**
 * Applies a patch line to `base` in place and returns it, or returns null,
 * leaving `base` unchanged, when the result would not be a valid run. Only
 * for loading, while the index is the sole holder of `base`.
 */
export function applyPatch(base: Run, patch: Fields): Run | null {
  const merged = base as unknown as Fields;
  const pick = (key: string): unknown => (key in patch ? patch[key] : merged[key]);
  const checked = { id: pick('id'), jobId: pick('jobId'), agentId: pick('agentId'), status: pick('status'), queuedAt: pick('queuedAt') };
  if (!storedRunSchema.safeParse(checked).success) return null;
  for (const key of Object.keys(patch)) {
    if (key !== PATCH_KEY) merged[key] = patch[key];
  }
  return base;
}
