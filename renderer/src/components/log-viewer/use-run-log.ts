/**
 * The log and records of one run: the stored tail from `runs.watch`, then
 * live `log` and `records` pushes. Lines are kept in a mutable array and the
 * component is re-rendered at most once per animation frame, so a run that
 * streams thousands of lines a second stays smooth.
 */
import { useEffect, useRef, useState } from 'react';
import type { Json, StoredLogLine } from '../../../../electron/hub/model.js';
import { useWhenConnected } from '../../api/hub-context.js';

export interface RunLog {
  lines: StoredLogLine[];
  records: Json[];
  /** Changes whenever lines or records were added. */
  version: number;
  loading: boolean;
}

/** Records kept for display; the full list is downloadable from the HTTP API. */
const MAX_RECORDS = 5_000;

export function useFrameCoalescer(): [number, () => void] {
  const [version, setVersion] = useState(0);
  const frame = useRef<number | null>(null);
  useEffect(() => () => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
  }, []);
  const bump = () => {
    frame.current ??= requestAnimationFrame(() => {
      frame.current = null;
      setVersion((current) => current + 1);
    });
  };
  return [version, bump];
}

// NOTE: `runs.watch` sends the last 5,000 stored lines, so the viewer starts there; older lines are in the download only.
export function useRunLog(runId: string | undefined): RunLog {
  const lines = useRef<StoredLogLine[]>([]);
  const records = useRef<Json[]>([]);
  const [loading, setLoading] = useState(true);
  const [version, bump] = useFrameCoalescer();

  useWhenConnected((client) => {
    if (!runId) return undefined;
    let cancelled = false;
    // Pushes that arrive before the backlog reply are kept and appended after it.
    let early: StoredLogLine[] | null = [];
    setLoading(true);
    const stopLog = client.on('log', (payload) => {
      if (payload.runId !== runId) return;
      if (early) early.push(...payload.lines);
      else lines.current.push(...payload.lines);
      bump();
    });
    const stopRecords = client.on('records', (payload) => {
      if (payload.runId !== runId) return;
      records.current = [...records.current, ...payload.records].slice(0, MAX_RECORDS);
      bump();
    });
    client.request('runs.watch', { id: runId }).then(
      (backlog) => {
        if (cancelled) return;
        lines.current = [...backlog.lines, ...(early ?? [])];
        records.current = backlog.records.slice(0, MAX_RECORDS);
        early = null;
        setLoading(false);
        bump();
      },
      () => !cancelled && setLoading(false),
    );
    return () => {
      cancelled = true;
      stopLog();
      stopRecords();
      client.request('runs.unwatch', { id: runId }).catch(() => undefined);
    };
  }, [runId]);

  return { lines: lines.current, records: records.current, version, loading };
}
