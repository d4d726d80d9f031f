import { describe, expect, it } from 'vitest';
import { HubError } from '../../electron/hub/errors.js';
import { copyName, exportJobs, jobDocumentSchema, resolveImport } from '../../electron/hub/job-transfer.js';
import { jobInputSchema, type Job, type Task } from '../../electron/hub/model.js';

function task(id: string, name: string): Task {
  return { id, name, runtime: 'shell', source: 'true', defaultConfig: {}, version: 1, code: 'true', hash: 'h', createdAt: 0, updatedAt: 0 };
}

function job(id: string, taskId: string): Job {
  return { id, ...jobInputSchema.parse({ name: `job ${id}`, taskId, schedule: { cron: '*/5 * * * *' } }), createdAt: 1, updatedAt: 2 };
}

describe('job transfer', () => {
  it('exports jobs without ids', () => {
    const document = exportJobs([job('j1', 't1')], [task('t1', 'collector')], new Date(0));

    expect(document.jobs[0]).not.toHaveProperty('id');
    expect(document.jobs[0]).not.toHaveProperty('createdAt');
    expect(document.jobs[0]).toMatchObject({ name: 'job j1', taskId: 't1', taskName: 'collector' });
  });

  it.each([
    ['keeps a known task id', [task('t1', 'collector')], 't1'],
    ['maps a task by name', [task('t9', 'collector')], 't9'],
  ])('%s', (_name, tasks, expected) => {
    const document = jobDocumentSchema.parse(exportJobs([job('j1', 't1')], [task('t1', 'collector')], new Date(0)));

    const [input] = resolveImport(document, tasks);

    expect(input?.taskId).toBe(expected);
  });

  it.each([
    ['no such task', [task('t2', 'other')], /no task with id t1 or name "collector"/],
    ['an ambiguous name', [task('t2', 'collector'), task('t3', 'collector')], /several tasks are named "collector"/],
  ])('rejects %s', (_name, tasks, message) => {
    const document = jobDocumentSchema.parse(exportJobs([job('j1', 't1')], [task('t1', 'collector')], new Date(0)));

    const attempt = () => resolveImport(document, tasks);

    expect(attempt).toThrow(HubError);
    expect(attempt).toThrow(message);
  });

  it.each([
    [{ format: 'other', version: 1, jobs: [] }, 'format'],
    [{ format: 'farmboy.jobs', version: 2, jobs: [] }, 'version'],
    [{ format: 'farmboy.jobs', version: 1, jobs: [{ name: '', taskId: 't' }] }, 'jobs.0.name'],
  ])('rejects document %j', (document, field) => {
    const result = jobDocumentSchema.safeParse(document);

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(field);
  });

  it('keeps a copy name within limits', () => {
    expect(copyName('a')).toBe('a (copy)');
    expect(copyName('x'.repeat(200))).toHaveLength(200);
  });
});
