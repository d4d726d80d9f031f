/**
 * Jobs as a portable JSON document, for export and import. Each job names
 * its task by id and by name, so a document taken from one hub can be
 * imported into another whose task ids differ.
 */
import { z } from 'zod';
import { invalid } from './errors.js';
import { jobInputSchema, type Job, type JobInput, type Task } from './model.js';

export const JOB_DOCUMENT_FORMAT = 'farmboy.jobs';
/** Jobs in one document; a bigger import is split by the user. */
const MAX_JOBS_PER_DOCUMENT = 5_000;

export const jobDocumentSchema = z.object({
  format: z.literal(JOB_DOCUMENT_FORMAT, { error: `must be "${JOB_DOCUMENT_FORMAT}"` }),
  version: z.literal(1, { error: 'must be 1, the only version this hub reads' }),
  exportedAt: z.string().optional(),
  jobs: z.array(jobInputSchema.extend({ taskName: z.string().optional() })).max(MAX_JOBS_PER_DOCUMENT),
});
export type JobDocument = z.input<typeof jobDocumentSchema>;
export type ParsedJobDocument = z.output<typeof jobDocumentSchema>;

/** Builds the document for `jobs`, without ids or timestamps, which the importing hub assigns. */
export function exportJobs(jobs: readonly Job[], tasks: readonly Task[], now: Date): JobDocument {
  const taskNames = new Map(tasks.map((task) => [task.id, task.name]));
  return {
    format: JOB_DOCUMENT_FORMAT,
    version: 1,
    exportedAt: now.toISOString(),
    jobs: jobs.map(({ id: _id, createdAt: _created, updatedAt: _updated, ...input }) => ({ ...input, taskName: taskNames.get(input.taskId) })),
  };
}

/**
 * Turns a parsed document into job inputs for this hub: a job keeps its task
 * id when this hub has that task, else takes the task with the same name.
 * Rejects the whole document when any job's task cannot be found, or its
 * name matches several tasks, so an import never half succeeds.
 */
export function resolveImport(document: ParsedJobDocument, tasks: readonly Task[]): JobInput[] {
  const ids = new Set(tasks.map((task) => task.id));
  return document.jobs.map(({ taskName, ...job }, index) => {
    if (ids.has(job.taskId)) return job;
    const byName = tasks.filter((task) => task.name === taskName);
    if (byName.length === 1 && byName[0]) return { ...job, taskId: byName[0].id };
    const reason = byName.length > 1 ? `several tasks are named "${taskName}"` : `no task with id ${job.taskId} or name "${taskName ?? ''}"`;
    throw invalid(`jobs.${index}.taskId`, `${reason}; create the task first or fix the document`);
  });
}

/** Returns the name of a copy, within the 200 characters a job name may have. */
export function copyName(name: string): string {
  const suffix = ' (copy)';
  return name.slice(0, 200 - suffix.length) + suffix;
}
