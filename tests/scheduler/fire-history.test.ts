import { afterEach, describe, expect, it, vi } from 'vitest';
import { decideFire, startFiring } from '../../electron/hub/firing.js';
import { jobInputSchema, type FireWindow, type Job, type Run, type RunTrigger, type Task } from '../../electron/hub/model.js';
import type { Store } from '../../electron/hub/store/index.js';
import { captureLogger, DAY, job as scheduledJob, MINUTE, recordingScheduler, useFakeClock } from './helpers.js';

const SECOND = 1000;

const task = { id: 'task-1', version: 3, defaultConfig: {} } as unknown as Task;

function hubJob(id: string, overrides: Partial<Job> = {}): Job {
  const input = jobInputSchema.parse({ name: `job ${id}`, taskId: task.id });
  return { ...input, id, createdAt: 0, updatedAt: 0, ...overrides };
}

interface Enqueued {
  jobId: string;
  trigger: RunTrigger;
  caughtUp: FireWindow | undefined;
}

/** Wires a real scheduler to the hub's firing with an in-memory run manager. */
function firingHarness(jobs: Job[], skipWriteIntervalMs = 10 * SECOND) {
  const active = new Map<string, Array<{ id: string; status: string }>>();
  const enqueued: Enqueued[] = [];
  const written: Run[] = [];
  const store = { state: { jobs, tasks: [task] } } as unknown as Store;
  const runs = {
    activeForJob: (jobId: string) => (active.get(jobId) ?? []) as Run[],
    enqueueJob: (queued: Job, _task: Task, trigger: RunTrigger, _now: number, caughtUp?: FireWindow) => {
      enqueued.push({ jobId: queued.id, trigger, caughtUp });
      return { id: `run-${enqueued.length}` } as Run;
    },
    recordUnrun: (entry: Run) => written.push(entry),
  };
  const firing = startFiring({ store, runs, log: captureLogger().logger, skipWriteIntervalMs });
  const { scheduler } = recordingScheduler({
    onFire: (jobId, fireDate, kind, missed, firstMissed) => firing.fire(jobId, fireDate, kind, missed, firstMissed),
    onMissed: (jobId, count, first, last) => firing.missed(jobId, count, first, last),
  });
  scheduler.sync(jobs.map((entry) => scheduledJob(entry.id, entry.schedule?.cron ?? '', { catchUp: entry.catchUp })));
  /** The latest written state of every entry, in the order they were first written. */
  const entries = (): Run[] => [...new Map(written.map((entry) => [entry.id, entry])).values()];
  return { scheduler, firing, active, enqueued, written, entries };
}

describe('missed fires in history', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('records a day down as one entry', () => {
    useFakeClock('2026-06-11T00:00:00Z');
    const everySecond = hubJob('every-second', { schedule: { cron: '* * * * * *', timezone: 'UTC' } });
    const { scheduler, enqueued, written } = firingHarness([everySecond]);

    scheduler.catchUp(Date.parse('2026-06-10T00:00:00Z'));
    scheduler.stop();

    expect(enqueued).toEqual([]);
    expect(written).toHaveLength(1);
    expect(written[0]?.status).toBe('missed');
    expect(written[0]?.trigger).toBe('schedule');
    expect(written[0]?.fires).toEqual({ count: DAY / SECOND, first: Date.parse('2026-06-10T00:00:01Z'), last: Date.parse('2026-06-11T00:00:00Z') });
    expect(written[0]?.finishedAt).toBe(Date.parse('2026-06-11T00:00:00Z'));
  });

  it('tells the catch-up run its window', () => {
    useFakeClock('2026-06-10T13:00:00Z');
    const catchUp = hubJob('once', { schedule: { cron: '*/5 * * * *', timezone: 'UTC' }, catchUp: 'once' });
    const { scheduler, enqueued, written } = firingHarness([catchUp]);

    scheduler.catchUp(Date.parse('2026-06-10T01:00:00Z'));
    scheduler.stop();

    expect(written).toEqual([]);
    expect(enqueued).toEqual([
      { jobId: 'once', trigger: 'catch_up', caughtUp: { count: 144, first: Date.parse('2026-06-10T01:05:00Z'), last: Date.parse('2026-06-10T13:00:00Z') } },
    ]);
  });

  it('records a sleep past several fires', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const everyMinute = hubJob('minute', { schedule: { cron: '* * * * *', timezone: 'UTC' } });
    const { scheduler, written } = firingHarness([everyMinute]);

    // The timers stand still while the wall clock moves ten minutes, as in a sleep.
    vi.setSystemTime(Date.parse('2026-06-10T12:10:30Z'));
    vi.advanceTimersByTime(10 * SECOND);
    scheduler.stop();

    expect(written.map((entry) => [entry.status, entry.fires?.count])).toEqual([['missed', 10]]);
  });
});

describe('skipped fires in history', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts skips behind one run', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const slow = hubJob('slow', { schedule: { cron: '* * * * *', timezone: 'UTC' }, overlap: 'skip' });
    const { scheduler, active, enqueued, written, entries } = firingHarness([slow]);

    vi.advanceTimersByTime(MINUTE);
    active.set('slow', [{ id: 'run-1', status: 'running' }]);
    vi.advanceTimersByTime(3 * MINUTE);
    const whileRunning = entries();
    active.set('slow', []);
    vi.advanceTimersByTime(MINUTE);
    scheduler.stop();

    expect(enqueued.map((entry) => entry.trigger)).toEqual(['schedule', 'schedule']);
    expect(whileRunning).toHaveLength(1);
    expect(whileRunning[0]).toMatchObject({ status: 'skipped', overlappedRunId: 'run-1', skipReason: 'the previous run is still active' });
    expect(whileRunning[0]?.fires).toEqual({ count: 3, first: Date.parse('2026-06-10T12:02:00Z'), last: Date.parse('2026-06-10T12:04:00Z') });
    expect(written.length).toBeLessThanOrEqual(3);
  });

  it('writes a fast skip window rarely', () => {
    useFakeClock('2026-06-10T12:00:00.500Z');
    const fast = hubJob('fast', { schedule: { cron: '* * * * * *', timezone: 'UTC' } });
    const { scheduler, firing, active, written, entries } = firingHarness([fast], 10 * SECOND);
    active.set('fast', [{ id: 'long-run', status: 'running' }]);

    vi.advanceTimersByTime(60 * SECOND);
    firing.stop();
    scheduler.stop();

    expect(entries()).toHaveLength(1);
    expect(entries()[0]?.fires?.count).toBe(60);
    // One write when the window opens, then at most one per 10 s.
    expect(written.length).toBeLessThanOrEqual(8);
  });

  it('opens a new entry per overlapped run', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const slow = hubJob('slow', { schedule: { cron: '* * * * *', timezone: 'UTC' } });
    const { scheduler, active, entries } = firingHarness([slow]);

    active.set('slow', [{ id: 'first', status: 'running' }]);
    vi.advanceTimersByTime(2 * MINUTE);
    active.set('slow', [{ id: 'second', status: 'running' }]);
    vi.advanceTimersByTime(MINUTE);
    scheduler.stop();

    expect(entries().map((entry) => [entry.overlappedRunId, entry.fires?.count])).toEqual([
      ['first', 2],
      ['second', 1],
    ]);
  });

  it('records a skipped catch-up with its window', () => {
    useFakeClock('2026-06-10T13:00:00Z');
    const catchUp = hubJob('once', { schedule: { cron: '*/5 * * * *', timezone: 'UTC' }, catchUp: 'once' });
    const { scheduler, active, enqueued, written } = firingHarness([catchUp]);
    active.set('once', [{ id: 'restored', status: 'running' }]);

    scheduler.catchUp(Date.parse('2026-06-10T12:00:00Z'));
    scheduler.stop();

    expect(enqueued).toEqual([]);
    expect(written.map((entry) => [entry.status, entry.fires?.count, entry.overlappedRunId])).toEqual([['skipped', 12, 'restored']]);
  });
});

describe('decideFire', () => {
  it.each([
    { overlap: 'skip' as const, maxParallel: 1, active: [], queue: true, overlapped: undefined },
    { overlap: 'skip' as const, maxParallel: 1, active: [{ id: 'a', status: 'running' }], queue: false, overlapped: 'a' },
    { overlap: 'queue' as const, maxParallel: 1, active: [{ id: 'a', status: 'running' }], queue: true, overlapped: undefined },
    { overlap: 'queue' as const, maxParallel: 1, active: [{ id: 'a', status: 'running' }, { id: 'b', status: 'queued' }], queue: false, overlapped: 'b' },
    { overlap: 'parallel' as const, maxParallel: 2, active: [{ id: 'a', status: 'running' }], queue: true, overlapped: undefined },
    { overlap: 'parallel' as const, maxParallel: 2, active: [{ id: 'a', status: 'running' }, { id: 'b', status: 'running' }], queue: false, overlapped: 'b' },
  ])('$overlap with $active.length active', ({ overlap, maxParallel, active, queue, overlapped }) => {
    const decision = decideFire(hubJob('j', { overlap, maxParallel }), active);

    expect(decision.queue).toBe(queue);
    expect(decision.queue ? undefined : decision.overlappedRunId).toBe(overlapped);
  });
});
