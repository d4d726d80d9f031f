/**
 * The job editor's values and their validation with the hub's own schema
 * (`jobInputSchema`), so every message the hub would return shows before
 * save, on the field it concerns.
 */
import { jobInputSchema, type Job, type JobInput, type Task } from '../../../../electron/hub/model.js';
import { DEFAULT_POLICY_VALUES, policyInput, policyOf, type PolicyValues } from './job-fields.js';

export interface JobFormValues extends PolicyValues {
  name: string;
  taskId: string;
  /** The job's config as JSON text, merged over the task's default config on each run. */
  configText: string;
  scheduled: boolean;
  cron: string;
  timezone: string;
  /** Environment as JSON text: an object of names to string values. */
  envText: string;
}

export type JobFormField = keyof JobFormValues;
export type JobFormErrors = Partial<Record<JobFormField, string>>;

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function emptyJobForm(taskId = ''): JobFormValues {
  return {
    name: '',
    taskId,
    configText: '{}',
    scheduled: true,
    cron: '*/5 * * * *',
    timezone: browserTimeZone(),
    ...DEFAULT_POLICY_VALUES,
    envText: '{}',
  };
}

export function jobToForm(job: Job): JobFormValues {
  return {
    name: job.name,
    taskId: job.taskId,
    configText: JSON.stringify(job.config, null, 2),
    scheduled: job.schedule !== null,
    cron: job.schedule?.cron ?? '*/5 * * * *',
    timezone: job.schedule?.timezone ?? browserTimeZone(),
    ...policyOf(job),
    envText: JSON.stringify(job.env, null, 2),
  };
}

/** Parses JSON text that must hold an object; returns the reason otherwise. */
export function parseJsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === '' ? '{}' : text);
  } catch (error) {
    return { ok: false, error: `Invalid JSON: ${error instanceof Error ? error.message : 'cannot parse'}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'Must be a JSON object, such as {"key": "value"}' };
  return { ok: true, value: value as Record<string, unknown> };
}

/** Returns the form field that a path of the hub's schema belongs to. */
export function fieldOf(path: readonly PropertyKey[]): JobFormField {
  const [first, second] = path;
  if (first === 'schedule') return second === 'timezone' ? 'timezone' : 'cron';
  if (first === 'config') return 'configText';
  if (first === 'env') return 'envText';
  return (typeof first === 'string' ? first : 'name') as JobFormField;
}

/**
 * Validates the form and builds the hub's job input. Returns every field's
 * first error; `input` is set only when there is none. A cron expression
 * is judged by the hub's preview, not here, so the editor and the hub never
 * disagree about one.
 */
export function validateJobForm(values: JobFormValues): { errors: JobFormErrors; input: JobInput | null } {
  const errors: JobFormErrors = {};
  const config = parseJsonObject(values.configText);
  if (!config.ok) errors.configText = config.error;
  const env = parseJsonObject(values.envText);
  if (!env.ok) errors.envText = env.error;
  const candidate = {
    name: values.name,
    taskId: values.taskId,
    config: config.ok ? config.value : {},
    schedule: values.scheduled ? { cron: values.cron, timezone: values.timezone } : null,
    ...policyInput(values),
    env: env.ok ? env.value : {},
  };
  const parsed = jobInputSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldOf(issue.path);
      // A record key's own rule (environment variable names) sits one level down.
      const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
      errors[field] ??= message;
    }
  }
  const valid = parsed.success && Object.keys(errors).length === 0;
  return { errors, input: valid ? parsed.data : null };
}

/** Returns the config a run of this job receives: the job's keys over the task's default config. */
export function mergedConfig(task: Task | undefined, configText: string): Record<string, unknown> | null {
  const config = parseJsonObject(configText);
  if (!config.ok) return null;
  return { ...(task?.defaultConfig ?? {}), ...config.value };
}
