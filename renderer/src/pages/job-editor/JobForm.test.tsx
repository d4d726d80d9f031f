// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Task } from '../../../../electron/hub/model.js';
import { renderWithTheme } from '../../test/render.js';
import { emptyJobForm, type JobFormValues } from './job-form.js';
import { JobForm } from './JobForm.js';

afterEach(cleanup);

const task: Task = { id: 't1', name: 'collector', runtime: 'shell', source: 'true', defaultConfig: { region: 'eu', limit: 5 }, version: 1, code: 'true', hash: 'h', createdAt: 0, updatedAt: 0 };

function renderForm(overrides: Partial<JobFormValues> = {}, preview = vi.fn(async () => ['2030-01-01T00:05:00.000Z']), onSubmit = vi.fn(async () => undefined)) {
  const initial = { ...emptyJobForm('t1'), name: 'job', timezone: 'UTC', ...overrides };
  renderWithTheme(<JobForm initial={initial} tasks={[task]} submitLabel="Create job" previewSchedule={preview} onSubmit={onSubmit} onCancel={() => undefined} />);
  return { preview, onSubmit };
}

function type(label: string | RegExp, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe('job form validation', () => {
  it.each([
    ['Job config (JSON)', '{"a": ', /^Invalid JSON/],
    ['Job config (JSON)', '[1, 2]', /^Must be a JSON object/],
    ['Environment (JSON)', '{"1BAD": "x"}', /valid environment variable name/],
    [/^Name/, '   ', /must not be empty/],
  ])('rejects %s set to %j', async (label, value, message) => {
    renderForm();

    type(label, value);

    expect(await screen.findByText(message)).toBeTruthy();
  });

  it('shows the hub reason for a schedule', async () => {
    const preview = vi.fn(async () => {
      throw new Error('cron: day 30 never occurs in February, so this schedule can never fire');
    });
    renderForm({}, preview);

    type('Cron expression', '0 0 30 2 *');

    expect(await screen.findByText(/day 30 never occurs in February/)).toBeTruthy();
    expect(preview).toHaveBeenCalledWith('0 0 30 2 *', 'UTC');
  });

  it('shows only the hub verdict on cron', async () => {
    const preview = vi.fn(async () => {
      throw new Error('cron: the cron expression has 8 fields; expected 5 fields');
    });
    renderForm({}, preview);

    type('Cron expression', '* * * * * * * *');

    expect(await screen.findByText(/has 8 fields; expected 5/)).toBeTruthy();
    expect(screen.queryByText(/too many/)).toBeNull();
  });

  it('keeps a typed number below the minimum', async () => {
    renderForm();
    const timeout = screen.getByLabelText('Timeout (s)');

    type('Timeout (s)', '-1');
    fireEvent.blur(timeout);

    expect((timeout as HTMLInputElement).value).toBe('-1');
    expect(await screen.findByText(/expected number to be >0/)).toBeTruthy();
  });

  it('shows an error without a field', async () => {
    const rejection = Object.assign(new Error('body: config is nested deeper than 32 levels'), { field: 'body' });
    renderForm({}, undefined, vi.fn(async () => Promise.reject(rejection)));

    await screen.findByLabelText('Next fire times');
    fireEvent.click(screen.getByRole('button', { name: 'Create job' }));

    expect(await screen.findByText(/nested deeper than 32 levels/)).toBeTruthy();
  });

  it('shows the merged default config', () => {
    renderForm({ configText: '{"limit": 50}' });

    const merged = screen.getByTestId('merged-config').textContent ?? '';

    expect(JSON.parse(merged)).toEqual({ region: 'eu', limit: 50 });
  });

  it('does not submit an invalid form', async () => {
    const { onSubmit } = renderForm({ configText: '{' });

    fireEvent.click(screen.getByRole('button', { name: 'Create job' }));

    expect(await screen.findByText(/^Invalid JSON/)).toBeTruthy();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('submits the parsed job input', async () => {
    const { onSubmit } = renderForm({ configText: '{"limit": 50}', tags: ['lab'], retries: 2 });

    await screen.findByLabelText('Next fire times');
    fireEvent.click(screen.getByRole('button', { name: 'Create job' }));

    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ name: 'job', taskId: 't1', config: { limit: 50 }, tags: ['lab'], retries: 2, schedule: { cron: '*/5 * * * *', timezone: 'UTC' } }));
  });

  it('marks the field the hub rejected', async () => {
    const rejection = Object.assign(new Error('schedule.timezone: unknown time zone Mars/Base'), { field: 'schedule.timezone' });
    renderForm({}, undefined, vi.fn(async () => Promise.reject(rejection)));

    await screen.findByLabelText('Next fire times');
    fireEvent.click(screen.getByRole('button', { name: 'Create job' }));

    expect(await screen.findByText('unknown time zone Mars/Base')).toBeTruthy();
  });

  it('shows a zone the browser does not list', async () => {
    // A valid zone that Intl.supportedValuesOf leaves out: it lists the older alias Asia/Calcutta.
    renderForm({ timezone: 'Asia/Kolkata' });

    const field = (await screen.findByRole('textbox', { name: 'Time zone' })) as HTMLInputElement;

    expect(field.value).toBe('Asia/Kolkata');
  });

  it('keeps Enter in the zone search', async () => {
    const { onSubmit } = renderForm();
    await screen.findByLabelText('Next fire times');

    const field = screen.getByRole('textbox', { name: 'Time zone' });
    fireEvent.change(field, { target: { value: 'Mars/Olympus' } });
    const enter = fireEvent.keyDown(field, { key: 'Enter' });

    expect(enter).toBe(false);
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('keeps the task when its option is picked again', async () => {
    renderForm();
    const field = (await screen.findByRole('textbox', { name: 'Task' })) as HTMLInputElement;

    fireEvent.click(field);
    fireEvent.click(await screen.findByRole('option', { name: 'collector (shell)', hidden: true }));

    expect(field.value).toBe('collector (shell)');
  });

  it('tells tasks of the same name apart', async () => {
    const twin: Task = { ...task, id: 'a5c0ffee-twin', name: 'Collector' };
    renderWithTheme(<JobForm initial={{ ...emptyJobForm('t1'), name: 'job' }} tasks={[task, twin]} submitLabel="Create job" previewSchedule={vi.fn(async () => [])} onSubmit={vi.fn(async () => undefined)} onCancel={() => undefined} />);

    fireEvent.click(await screen.findByRole('textbox', { name: 'Task' }));

    expect(await screen.findByRole('option', { name: 'Collector (shell) · a5c0ffee', hidden: true })).toBeTruthy();
    expect(await screen.findByRole('option', { name: 'collector (shell) · t1', hidden: true })).toBeTruthy();
  });
});
