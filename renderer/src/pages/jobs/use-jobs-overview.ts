/**
 * Next fire and last run of every job, fetched again shortly after jobs or
 * their runs change.
 */
import { useEffect, useRef, useState } from 'react';
import type { JobOverview, UiChanges } from '../../../../electron/hub/ui-contract.js';
import { useWhenConnected } from '../../api/hub-context.js';

const REFRESH_DELAY_MS = 500;

export function useJobsOverview(): ReadonlyMap<string, JobOverview> {
  const [overview, setOverview] = useState<Map<string, JobOverview>>(new Map());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  useWhenConnected((client) => {
    const load = () => {
      timer.current = null;
      client.request('jobs.overview').then((list) => setOverview(new Map(list.map((entry) => [entry.jobId, entry]))), () => undefined);
    };
    load();
    const stop = client.on('changes', (changes: UiChanges) => {
      if (changes.jobs.length === 0 && !changes.runs.some((run) => run.jobId !== null)) return;
      timer.current ??= setTimeout(load, REFRESH_DELAY_MS);
    });
    // Next fire times move on by themselves.
    const minute = setInterval(load, 60_000);
    return () => {
      stop();
      clearInterval(minute);
    };
  }, []);
  return overview;
}
