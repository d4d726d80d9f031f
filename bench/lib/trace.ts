/**
 * A Chromium performance trace over the DevTools protocol, reduced to the
 * main-thread work of each of the page's animation frames.
 */
import type { CDPSession, Page } from 'playwright-core';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  id?: string;
  args?: { name?: string };
}

export interface Trace {
  /** Main-thread work in ms of each animation frame, in order. */
  framesMs: number[];
}

/** Records a trace while `act` runs. */
export async function traceWhile(page: Page, act: () => Promise<void>): Promise<Trace> {
  const session: CDPSession = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  session.on('Tracing.dataCollected', (payload) => events.push(...(payload.value as unknown as TraceEvent[])));
  const complete = new Promise<void>((resolve) => session.once('Tracing.tracingComplete', () => resolve()));
  await session.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['devtools.timeline', 'toplevel', '__metadata'] } });
  try {
    await act();
  } finally {
    await session.send('Tracing.end');
    await complete;
    await session.detach();
  }
  return { framesMs: frameWork(events) };
}

/** Top-level tasks of a thread, as Chromium names them in its trace (the `toplevel` category). */
const TASK_EVENTS = new Set(['ThreadControllerImpl::RunTask', 'RunTask']);

/**
 * Main-thread work per animation frame: for each of Chromium's
 * `AnimationFrame` spans on the busiest renderer main thread (one per frame,
 * vsync to vsync), the time its top-level tasks ran (input, animation frame
 * callbacks, style, layout, paint). A frame is smooth while this stays under
 * the frame interval.
 */
function frameWork(events: TraceEvent[]): number[] {
  const mainThreads = new Set(events.filter((event) => event.ph === 'M' && event.name === 'thread_name' && event.args?.name === 'CrRendererMain').map((event) => `${event.pid}:${event.tid}`));
  const frames = new Map<string, Array<{ start: number; end: number }>>();
  const tasks = new Map<string, TraceEvent[]>();
  const begins = new Map<string, number>();
  for (const event of [...events].sort((a, b) => a.ts - b.ts)) {
    const thread = `${event.pid}:${event.tid}`;
    if (!mainThreads.has(thread)) continue;
    if (event.ph === 'X' && TASK_EVENTS.has(event.name)) tasks.set(thread, [...(tasks.get(thread) ?? []), event]);
    if (event.name !== 'AnimationFrame') continue;
    const key = `${thread}:${event.id ?? ''}`;
    if (event.ph === 'b') begins.set(key, event.ts);
    if (event.ph !== 'e' || !begins.has(key)) continue;
    frames.set(thread, [...(frames.get(thread) ?? []), { start: begins.get(key) ?? event.ts, end: event.ts }]);
    begins.delete(key);
  }
  const [thread, spans] = [...frames.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? ['', []];
  const threadTasks = tasks.get(thread) ?? [];
  return spans.map(({ start, end }) => {
    const busy = threadTasks.filter((task) => task.ts < end && task.ts + (task.dur ?? 0) > start);
    return busy.reduce((sum, task) => sum + Math.min(end, task.ts + (task.dur ?? 0)) - Math.max(start, task.ts), 0) / 1000;
  });
}
