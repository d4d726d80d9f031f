/**
 * The log and records of one run for a component (see run-log-feed.ts). The
 * lines are kept in a mutable array and the component is re-rendered at
 * most once per animation frame, so a run that streams thousands of lines a
 * second stays smooth.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Json, StoredLogLine } from '../../../../electron/hub/model.js';
import { useWhenConnected } from '../../api/hub-context.js';
import { RunLogFeed } from './run-log-feed.js';

export interface RunLog {
  lines: StoredLogLine[];
  records: Json[];
  /** Changes whenever lines or records were added. */
  version: number;
  loading: boolean;
}

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
  const [version, bump] = useFrameCoalescer();
  const bumpRef = useRef(bump);
  bumpRef.current = bump;
  const feed = useMemo(() => (runId ? new RunLogFeed(runId, () => bumpRef.current()) : null), [runId]);

  useWhenConnected((client) => feed?.connect(client), [feed]);

  return { lines: feed?.lines ?? [], records: feed?.records ?? [], version, loading: feed?.loading ?? true };
}
