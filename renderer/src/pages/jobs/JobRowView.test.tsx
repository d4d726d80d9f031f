// @vitest-environment happy-dom
import { MantineProvider, Table } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import type { ReactElement } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../../../../electron/hub/model.js';
import type { JobOverview } from '../../../../electron/hub/ui-contract.js';
import { theme } from '../../app/theme.js';
import { JobRowView, NowContext, type JobRowActions } from './JobRowView.js';

// Counts the rows that render their schedule: each such render calls describeCron.
const described = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../lib/cron.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/cron.js')>();
  return {
    ...original,
    describeCron: (cron: string) => {
      described.count += 1;
      return original.describeCron(cron);
    },
  };
});

afterEach(cleanup);

const NOW = Date.parse('2026-12-05T12:00:00Z');

function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job-1', name: 'nightly', taskId: 'task-1', enabled: true, schedule: { cron: '0 3 * * *', timezone: 'UTC' }, config: {}, env: {}, secretEnv: {},
    tags: [], timeoutSec: null, retries: 0, retryDelaySec: 10, concurrency: 'skip', catchUp: 'none', createdAt: 1, updatedAt: 1,
    ...overrides,
  } as Job;
}

const overview: JobOverview = { jobId: 'job-1', nextFireAt: '2026-12-05T15:00:00.000Z', lastRun: null };

const actions: JobRowActions = { onSelect: vi.fn(), onToggle: vi.fn(), onRun: vi.fn(), onDuplicate: vi.fn(), onDelete: vi.fn() };

function table(job: Job, rowOverview: JobOverview, now: number): ReactElement {
  return (
    <MantineProvider theme={theme}>
      <MemoryRouter>
        <Table>
          <Table.Tbody>
            <NowContext.Provider value={now}>
              <JobRowView job={job} taskName="fetch" overview={rowOverview} selected={false} actions={actions} />
            </NowContext.Provider>
          </Table.Tbody>
        </Table>
      </MemoryRouter>
    </MantineProvider>
  );
}

describe('jobs table row', () => {
  it('skips a render for equal data', () => {
    const view = render(table(makeJob(), overview, NOW));
    const first = described.count;
    const before = screen.getByText(/in 3 h/).textContent;

    view.rerender(table(makeJob(), { ...overview }, NOW + 3_600_000));

    expect(described.count).toBe(first);
    expect(before).toContain('in 3 h');
    expect(screen.getByText(/in 2 h/)).toBeTruthy();
  });

  it('renders a changed job', () => {
    const view = render(table(makeJob(), overview, NOW));

    view.rerender(table(makeJob({ name: 'weekly', schedule: { cron: '0 3 * * 1', timezone: 'UTC' } }), overview, NOW));

    expect(screen.getByText('weekly')).toBeTruthy();
    expect(screen.getByText('0 3 * * 1')).toBeTruthy();
  });
});
