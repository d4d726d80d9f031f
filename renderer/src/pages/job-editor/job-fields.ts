/**
 * The run policy fields of a job (enabled, tags, timeout, retries, overlap,
 * catch-up) as forms hold them, shared by the job editor and the jobs
 * page's bulk edit so both offer the same defaults and send the same input.
 * Number inputs hold `''` while empty.
 */
import type { CatchUpPolicy, Job, OverlapPolicy } from '../../../../electron/hub/model.js';

export interface PolicyValues {
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

export const POLICY_FIELDS = ['enabled', 'tags', 'timeoutSec', 'retries', 'retryDelaySec', 'overlap', 'maxParallel', 'catchUp'] as const satisfies readonly (keyof PolicyValues)[];

/** The defaults of `jobInputSchema`, as form values. */
export const DEFAULT_POLICY_VALUES: PolicyValues = {
  enabled: true,
  tags: [],
  timeoutSec: '',
  retries: 0,
  retryDelaySec: 10,
  overlap: 'skip',
  maxParallel: 1,
  catchUp: 'none',
};

export function policyOf(job: Job): PolicyValues {
  return {
    enabled: job.enabled,
    tags: job.tags,
    timeoutSec: job.timeoutSec ?? '',
    retries: job.retries,
    retryDelaySec: job.retryDelaySec,
    overlap: job.overlap,
    maxParallel: job.maxParallel,
    catchUp: job.catchUp,
  };
}

/** The policy fields as the hub's job schemas take them: an empty timeout is no timeout, another empty number is left out. */
export interface PolicyInput {
  enabled: boolean;
  tags: string[];
  timeoutSec: number | null;
  retries: number | undefined;
  retryDelaySec: number | undefined;
  overlap: OverlapPolicy;
  maxParallel: number | undefined;
  catchUp: CatchUpPolicy;
}

export function policyInput(values: PolicyValues): PolicyInput {
  const numberOrUndefined = (value: number | '') => (value === '' ? undefined : value);
  return {
    enabled: values.enabled,
    tags: values.tags,
    timeoutSec: values.timeoutSec === '' ? null : values.timeoutSec,
    retries: numberOrUndefined(values.retries),
    retryDelaySec: numberOrUndefined(values.retryDelaySec),
    overlap: values.overlap,
    maxParallel: numberOrUndefined(values.maxParallel),
    catchUp: values.catchUp,
  };
}
