/**
 * Follows a run's log for scripts: what is stored, then each new batch as it
 * arrives, until the run is final. The same hand-over as the UI's watch: the
 * line count taken before the stored read marks which live lines the read
 * already returned, so none is lost or doubled.
 */
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';
import { isFinal, type Run, type StoredLogLine } from './model.js';
import type { RunManagerEvents } from './runs.js';

/** The run manager's events and the store's reads that following needs. */
export interface LogFeed {
  runs: Pick<EventEmitter<RunManagerEvents>, 'on' | 'off'> & { lineCount(runId: string): number };
  getRun(runId: string): Run;
  readLog(runId: string): AsyncIterable<StoredLogLine>;
}

/** Yields batches of lines of `runId`'s log until the run is final or `signal` aborts. */
export async function* followLog(feed: LogFeed, runId: string, signal: AbortSignal): AsyncGenerator<StoredLogLine[]> {
  const linesBefore = feed.runs.lineCount(runId);
  const live: StoredLogLine[] = [];
  let ended = isFinal(feed.getRun(runId).status);
  const wake = new EventTarget();
  const onLog = (id: string, lines: StoredLogLine[]) => {
    if (id !== runId) return;
    live.push(...lines);
    wake.dispatchEvent(new Event('more'));
  };
  const onRun = (run: Run) => {
    if (run.id !== runId || !isFinal(run.status)) return;
    ended = true;
    wake.dispatchEvent(new Event('more'));
  };
  feed.runs.on('log', onLog);
  feed.runs.on('run', onRun);
  try {
    let linesRead = 0;
    let batch: StoredLogLine[] = [];
    for await (const line of feed.readLog(runId)) {
      linesRead += 1;
      batch.push(line);
      if (batch.length >= 1000) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
    // Lines that arrived during the read and that the read already returned.
    live.splice(0, Math.max(0, linesRead - linesBefore));
    while (!signal.aborted) {
      if (live.length) yield live.splice(0);
      if (ended) return;
      await once(wake, 'more', { signal }).catch(() => undefined);
    }
  } finally {
    feed.runs.off('log', onLog);
    feed.runs.off('run', onRun);
  }
}
