// @vitest-environment happy-dom
import { cleanup, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../../../electron/hub/model.js';
import { RunStatusBadge } from '../../components/StatusBadge.js';
import { formatDateTime } from '../../lib/format.js';
import { renderWithTheme } from '../../test/render.js';
import { FireSummary } from './FireSummary.js';

afterEach(cleanup);

const FIRST = Date.parse('2026-06-10T01:05:00Z');
const LAST = Date.parse('2026-06-10T13:00:00Z');

function entry(patch: Partial<Run>): Run {
  const run: Run = {
    id: 'entry-1', jobId: 'job-1', jobName: 'nightly', taskId: 't1', taskVersion: 1, trigger: 'schedule', config: {}, tags: [], timeoutSec: null, retryDelaySec: 0,
    status: 'queued', attempt: 1, maxAttempts: 1, agentId: null, previousAgentIds: [], exitCode: null, signal: null, error: null, progress: null, result: null,
    waitingReason: null, notBefore: null, agentOfflineSince: null, cancelRequestedAt: null, queuedAt: LAST, startedAt: null, finishedAt: null,
    lastSeq: 0, logLines: 0, logBytes: 0, logTruncated: false, recordCount: 0,
  };
  return { ...run, ...patch };
}

function renderEntry(run: Run) {
  renderWithTheme(
    <MemoryRouter>
      <RunStatusBadge status={run.status} />
      <FireSummary run={run} />
    </MemoryRouter>,
  );
}

describe('fire summary and badge', () => {
  it.each([
    {
      name: 'missed',
      run: entry({ status: 'missed', finishedAt: LAST, fires: { count: 144, first: FIRST, last: LAST } }),
      label: 'Missed',
      text: `Missed 144 scheduled fires from ${formatDateTime(FIRST)} to ${formatDateTime(LAST)}; the job's catch-up policy is none, so no run started.`,
    },
    {
      name: 'skipped',
      run: entry({ status: 'skipped', finishedAt: LAST, fires: { count: 1, first: LAST, last: LAST }, skipReason: 'the previous run is still active', overlappedRunId: 'long-run' }),
      label: 'Skipped',
      text: `Skipped 1 scheduled fire at ${formatDateTime(LAST)} because the previous run is still active.`,
    },
    {
      name: 'catch-up',
      run: entry({ status: 'succeeded', trigger: 'catch_up', fires: { count: 1200, first: FIRST, last: LAST } }),
      label: 'Succeeded',
      text: `Caught up 1,200 missed fires from ${formatDateTime(FIRST)} to ${formatDateTime(LAST)} with this one run.`,
    },
  ])('shows a $name entry', ({ run, label, text }) => {
    renderEntry(run);

    const badge = screen.getByText(label);
    const summary = screen.getByTestId('fire-summary');

    expect(badge.closest('[data-status]')?.getAttribute('data-status')).toBe(run.status);
    expect(summary.textContent).toContain(text);
  });

  it('links a skip to its overlapped run', () => {
    renderEntry(entry({ status: 'skipped', fires: { count: 3, first: FIRST, last: LAST }, skipReason: 'the previous run is still active', overlappedRunId: 'long-run' }));

    const link = screen.getByRole('link', { name: 'Open the run it overlapped' });

    expect(link.getAttribute('href')).toBe('/runs/long-run');
  });

  it('shows nothing for a plain run', () => {
    renderEntry(entry({ status: 'failed' }));

    const summary = screen.queryByTestId('fire-summary');

    expect(summary).toBeNull();
    expect(screen.getByText('Failed')).toBeTruthy();
  });
});
