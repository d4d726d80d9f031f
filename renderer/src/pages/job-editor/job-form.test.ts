import { describe, expect, it } from 'vitest';
import { emptyJobForm, validateJobForm, type JobFormValues } from './job-form.js';

const valid: JobFormValues = { ...emptyJobForm('t1'), name: 'job', timezone: 'UTC' };

describe('job form values', () => {
  it.each<[Partial<JobFormValues>, keyof JobFormValues, RegExp]>([
    [{ name: '' }, 'name', /must not be empty/],
    [{ taskId: '' }, 'taskId', /must not be empty/],
    [{ configText: '{' }, 'configText', /^Invalid JSON/],
    [{ configText: '"text"' }, 'configText', /JSON object/],
    [{ cron: '  ' }, 'cron', /must not be empty/],
    [{ retries: -1 }, 'retries', /./],
    [{ timeoutSec: 0 }, 'timeoutSec', /./],
    [{ tags: ['no spaces'] }, 'tags', /letters, digits/],
    [{ envText: '{"A": 1}' }, 'envText', /./],
  ])('rejects %j', (change, field, message) => {
    const { errors, input } = validateJobForm({ ...valid, ...change });

    expect(errors[field]).toMatch(message);
    expect(input).toBeNull();
  });

  it('builds a manual job without schedule', () => {
    const { errors, input } = validateJobForm({ ...valid, scheduled: false, cron: 'not checked' });

    expect(errors).toEqual({});
    expect(input?.schedule).toBeNull();
  });

  it('turns an empty timeout into none', () => {
    const { input } = validateJobForm({ ...valid, timeoutSec: '', configText: '{"a": [1]}' });

    expect(input).toMatchObject({ timeoutSec: null, config: { a: [1] }, retries: 0, overlap: 'skip' });
  });
});
