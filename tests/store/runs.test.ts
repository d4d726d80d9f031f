import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Run, RunFilter, RunStatus } from '../../electron/hub/model.js';
import { openStore, type Store } from '../../electron/hub/store/index.js';
import { captureLogger, collect, makeRun, makeTempDir } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await makeTempDir());
});

afterEach(async () => {
  await remove();
});

function ids(runs: Run[]): string[] {
  return runs.map((run) => run.id);
}

/** r9 is running, r0, r3 and r6 failed, the others succeeded. */
function sampleStatus(index: number): RunStatus {
  if (index === 9) return 'running';
  if (index % 3 === 0) return 'failed';
  return 'succeeded';
}

/** Ten runs r0..r9 queued in that order, over two jobs and two agents. */
function sampleRuns(): Run[] {
  return Array.from({ length: 10 }, (_, index) =>
    makeRun({
      id: `r${index}`,
      queuedAt: 1_000 + index,
      jobId: index % 2 === 0 ? 'job-a' : 'job-b',
      agentId: index < 5 ? 'agent-1' : 'agent-2',
      status: sampleStatus(index),
    }),
  );
}

async function segmentLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(join(dir, 'runs'))).sort()) {
    const text = await readFile(join(dir, 'runs', name), 'utf8');
    lines.push(...text.split('\n').filter(Boolean));
  }
  return lines;
}

describe('run store', () => {
  let store: Store;

  beforeEach(async () => {
    store = await openStore(dir, { flushIntervalMs: 10_000 });
    for (const run of sampleRuns()) store.runs.put(run);
  });

  afterEach(async () => {
    await store.close();
  });

  const filters: Array<{ name: string; filter: RunFilter; expected: string[] }> = [
    { name: 'no filter, newest first', filter: { limit: 4 }, expected: ['r9', 'r8', 'r7', 'r6'] },
    { name: 'job', filter: { jobId: 'job-b', limit: 100 }, expected: ['r9', 'r7', 'r5', 'r3', 'r1'] },
    { name: 'status', filter: { status: 'failed', limit: 100 }, expected: ['r6', 'r3', 'r0'] },
    { name: 'agent', filter: { agentId: 'agent-1', limit: 2 }, expected: ['r4', 'r3'] },
    { name: 'job and status', filter: { jobId: 'job-a', status: 'succeeded', limit: 100 }, expected: ['r8', 'r4', 'r2'] },
    { name: 'unfinished status', filter: { status: 'running', limit: 100 }, expected: ['r9'] },
    { name: 'unfinished status and cursor', filter: { status: 'running', before: 'r9', limit: 100 }, expected: [] },
    { name: 'unfinished status and job', filter: { jobId: 'job-a', status: 'running', limit: 100 }, expected: [] },
    { name: 'before cursor', filter: { before: 'r5', limit: 3 }, expected: ['r4', 'r3', 'r2'] },
    { name: 'job and cursor', filter: { jobId: 'job-a', before: 'r5', limit: 100 }, expected: ['r4', 'r2', 'r0'] },
    { name: 'unknown cursor', filter: { before: 'nope', limit: 100 }, expected: [] },
    { name: 'unknown job', filter: { jobId: 'nope', limit: 100 }, expected: [] },
  ];

  for (const { name, filter, expected } of filters) {
    it(`lists runs by ${name}`, () => {
      const listed = store.runs.list(filter);

      expect(ids(listed)).toEqual(expected);
    });
  }

  it('pages through every run once', () => {
    const seen: string[] = [];
    let before: string | undefined;

    for (;;) {
      const page = store.runs.list({ limit: 3, before });
      if (page.length === 0) break;
      seen.push(...ids(page));
      before = page.at(-1)?.id;
    }

    expect(seen).toEqual(['r9', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
  });

  it('updates memory at once on put', () => {
    const finished = makeRun({ ...store.runs.get('r9')!, status: 'succeeded', finishedAt: 2_000 });

    store.runs.put(finished);

    expect(store.runs.get('r9')?.status).toBe('succeeded');
    expect(store.runs.nonFinal()).toEqual([]);
    expect(store.runs.count()).toBe(10);
    expect(store.runs.list({ status: 'running', limit: 100 })).toEqual([]);
    expect(ids(store.runs.list({ status: 'succeeded', limit: 1 }))).toEqual(['r9']);
  });

  it('moves a run between agents', () => {
    store.runs.put(makeRun({ ...store.runs.get('r2')!, agentId: 'agent-2' }));

    expect(ids(store.runs.list({ agentId: 'agent-1', limit: 100 }))).toEqual(['r4', 'r3', 'r1', 'r0']);
    expect(ids(store.runs.list({ agentId: 'agent-2', limit: 100 }))).toEqual(['r9', 'r8', 'r7', 'r6', 'r5', 'r2']);
  });

  it('reports non-final runs and latest per job', () => {
    const open = store.runs.nonFinal();
    const latest = store.runs.latestForJob('job-a');

    expect(ids(open)).toEqual(['r9']);
    expect(latest?.id).toBe('r8');
    expect(store.runs.latestForJob('nope')).toBeUndefined();
  });

  it('reorders a run whose queue time changes', () => {
    store.runs.put(makeRun({ ...store.runs.get('r0')!, queuedAt: 5_000, jobId: 'job-b' }));
    store.runs.put(makeRun({ id: 'early', queuedAt: 10, jobId: 'job-b' }));

    expect(ids(store.runs.list({ limit: 2 }))).toEqual(['r0', 'r9']);
    expect(ids(store.runs.list({ jobId: 'job-a', limit: 100 }))).toEqual(['r8', 'r6', 'r4', 'r2']);
    expect(store.runs.latestForJob('job-b')?.id).toBe('r0');
    expect(ids(store.runs.list({ before: 'r1', limit: 100 }))).toEqual(['early']);
  });

  it('appends one line per put on flush', async () => {
    store.runs.put(makeRun({ ...store.runs.get('r9')!, status: 'succeeded' }));

    const before = await segmentLines();
    await store.flush();
    const after = await segmentLines();

    expect(before).toEqual([]);
    expect(after).toHaveLength(11);
  });
});

describe('run index on reopen', () => {
  it('rebuilds with the latest state winning', async () => {
    const first = await openStore(dir);
    for (const run of sampleRuns()) first.runs.put(run);
    first.runs.put(makeRun({ ...sampleRuns()[9]!, status: 'succeeded', finishedAt: 3_000 }));
    first.runs.put(makeRun({ ...sampleRuns()[1]!, agentId: 'agent-3' }));
    await first.close();

    const second = await openStore(dir);
    const r9 = second.runs.get('r9');
    const open = second.runs.nonFinal();
    const listed = ids(second.runs.list({ limit: 100 }));
    const byAgent = ids(second.runs.list({ agentId: 'agent-3', limit: 100 }));
    await second.close();

    expect(r9).toEqual(makeRun({ ...sampleRuns()[9]!, status: 'succeeded', finishedAt: 3_000 }));
    expect(open).toEqual([]);
    expect(listed).toEqual(['r9', 'r8', 'r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
    expect(byAgent).toEqual(['r1']);
  });

  it('skips a truncated last line', async () => {
    const first = await openStore(dir);
    for (const run of sampleRuns()) first.runs.put(run);
    await first.close();
    const [segment] = await readdir(join(dir, 'runs'));
    await appendFile(join(dir, 'runs', segment!), '{"id":"r9","status":"succ');
    const { logger, records } = captureLogger();

    const second = await openStore(dir, { logger });
    const r9 = second.runs.get('r9');
    second.runs.put(makeRun({ id: 'after', queuedAt: 9_000 }));
    await second.close();
    const third = await openStore(dir);
    const count = third.runs.count();
    const after = third.runs.get('after');
    await third.close();

    expect(r9?.status).toBe('running');
    expect(records.some((record) => record.msg === 'truncated last run record skipped')).toBe(true);
    expect(count).toBe(11);
    expect(after?.queuedAt).toBe(9_000);
  });

  it('counts invalid lines in one warning', async () => {
    const lines = ['not json', '{"id":"x"}', JSON.stringify(makeRun({ id: 'good' })), '[1]'];
    await mkdir(join(dir, 'runs'));
    await writeFile(join(dir, 'runs', '2020-01-01.jsonl'), lines.join('\n') + '\n');
    const { logger, records } = captureLogger();

    const store = await openStore(dir, { logger });
    const count = store.runs.count();
    await store.close();

    const warning = records.find((record) => record.msg === 'invalid run records skipped');
    expect(count).toBe(1);
    expect(warning?.lines).toBe(3);
    expect(warning?.segment).toBe('2020-01-01.jsonl');
  });
});

describe('retention', () => {
  const DAY = 24 * 3600 * 1000;
  const now = Date.now();

  /** Old runs in a segment from 2020, written before the store opens. */
  function oldRuns(): Run[] {
    return [
      makeRun({ id: 'old-final', queuedAt: now - 40 * DAY, status: 'succeeded', finishedAt: now - 40 * DAY }),
      makeRun({ id: 'old-adhoc', jobId: null, trigger: 'manual', queuedAt: now - 35 * DAY, status: 'failed', finishedAt: now - 35 * DAY }),
      makeRun({ id: 'old-running', queuedAt: now - 50 * DAY, status: 'running' }),
    ];
  }

  /** Recent final runs of job-b, oldest first. */
  function recentRuns(): Run[] {
    return Array.from({ length: 6 }, (_, index) =>
      makeRun({ id: `b${index}`, jobId: 'job-b', queuedAt: now - DAY + index, status: 'succeeded', finishedAt: now - DAY + index }),
    );
  }

  async function seed(): Promise<void> {
    await mkdir(join(dir, 'runs'));
    const oldSegment = oldRuns().flatMap((run) => [JSON.stringify({ ...run, status: 'queued' }), JSON.stringify(run)]);
    await writeFile(join(dir, 'runs', '2020-01-01.jsonl'), oldSegment.join('\n') + '\n');
    const store = await openStore(dir);
    for (const run of recentRuns()) {
      store.runs.put({ ...run, status: 'running' });
      store.runs.put(run);
      store.logs.appendLog(run.id, [{ t: 1, s: 'stdout', m: run.id }]);
      store.logs.appendRecords(run.id, [{ id: run.id }]);
    }
    store.logs.appendLog('old-final', [{ t: 1, s: 'stdout', m: 'old' }]);
    store.logs.appendLog('old-running', [{ t: 1, s: 'stdout', m: 'still going' }]);
    await store.close();
  }

  it('drops old and excess final runs', async () => {
    await seed();
    const store = await openStore(dir);

    const result = await store.applyRetention({ retentionDays: 30, retentionPerJob: 4 });
    const remaining = ids(store.runs.list({ limit: 100 })).sort();
    await store.close();

    expect(result.deletedRuns).toBe(4);
    expect(remaining).toEqual(['b2', 'b3', 'b4', 'b5', 'old-running']);
  });

  it('deletes the output of dropped runs', async () => {
    await seed();
    const store = await openStore(dir);

    await store.applyRetention({ retentionDays: 30, retentionPerJob: 4 });
    const dropped = await collect(store.logs.readLog('b0'));
    const kept = await collect(store.logs.readRecords('b2'));
    await store.close();
    const reopened = await openStore(dir);
    const droppedAfterRestart = await collect(reopened.logs.readLog('old-final'));
    await reopened.close();

    expect(dropped).toEqual([]);
    expect(kept).toEqual([{ id: 'b2' }]);
    expect(droppedAfterRestart).toEqual([]);
  });

  it('compacts segments to one line per run', async () => {
    await seed();
    const store = await openStore(dir);

    await store.applyRetention({ retentionDays: 30, retentionPerJob: 4 });
    await store.close();
    const lines = (await segmentLines()).map((line) => JSON.parse(line) as Run);
    const reopened = await openStore(dir);
    const remaining = ids(reopened.runs.list({ limit: 100 })).sort();
    const running = reopened.runs.get('old-running')?.status;
    await reopened.close();

    expect(lines.map((run) => run.id).sort()).toEqual(['b2', 'b3', 'b4', 'b5', 'old-running']);
    expect(remaining).toEqual(['b2', 'b3', 'b4', 'b5', 'old-running']);
    expect(running).toBe('running');
  });

  it('deletes a segment left empty', async () => {
    await seed();
    const store = await openStore(dir);
    store.runs.put({ ...oldRuns()[2]!, status: 'lost', finishedAt: now - 45 * DAY });

    await store.applyRetention({ retentionDays: 30, retentionPerJob: 4 });
    const segments = await readdir(join(dir, 'runs'));
    await store.close();

    expect(segments).not.toContain('2020-01-01.jsonl');
    expect(segments).toHaveLength(1);
  });

  it('deletes orphaned output files of earlier versions', async () => {
    await seed();
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'logs', 'ghost.jsonl'), '{"t":1,"s":"stdout","m":"x"}\n');
    await writeFile(join(dir, 'logs', 'b5.jsonl'), '{"t":0,"s":"stdout","m":"before"}\n');
    const store = await openStore(dir);
    store.logs.appendLog('no-record', [{ t: 1, s: 'stdout', m: 'y' }]);
    await store.flush();

    const result = await store.applyRetention({ retentionDays: 3650, retentionPerJob: 1000 });
    const kept = await collect(store.logs.readLog('b5'));
    const orphan = await collect(store.logs.readLog('no-record'));
    await store.close();

    expect(result).toEqual({ deletedRuns: 0, deletedOrphanOutputs: 1 });
    expect(orphan).toEqual([]);
    await expect(stat(join(dir, 'logs', 'ghost.jsonl'))).rejects.toThrow();
    expect(kept.map((line) => line.m)).toEqual(['before', 'b5']);
  });

  it('keeps runs put during retention', async () => {
    await seed();
    const store = await openStore(dir);

    const retention = store.applyRetention({ retentionDays: 30, retentionPerJob: 4 });
    store.runs.put(makeRun({ id: 'new', jobId: 'job-c', queuedAt: now }));
    await retention;
    await store.close();
    const reopened = await openStore(dir);
    const fresh = reopened.runs.get('new');
    await reopened.close();

    expect(fresh?.jobId).toBe('job-c');
  });
});
