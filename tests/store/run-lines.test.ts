import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { openStore } from '../../electron/hub/store/index.js';
import { PATCH_KEY, serializeRunLine } from '../../electron/hub/store/run-lines.js';
import { captureLogger, makeRun, makeTempDir } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await makeTempDir());
});

afterEach(async () => {
  await remove();
});

async function segmentRecords(): Promise<Array<Record<string, unknown>>> {
  const records: Array<Record<string, unknown>> = [];
  for (const name of (await readdir(join(dir, 'runs'))).sort()) {
    const text = await readFile(join(dir, 'runs', name), 'utf8');
    for (const line of text.split('\n').filter(Boolean)) records.push(JSON.parse(line) as Record<string, unknown>);
  }
  return records;
}

/** Builds the states a run goes through on its way to success, as the run manager puts them. */
function lifecycle(): Run[] {
  const queued = makeRun({ id: 'r1', status: 'queued', config: { city: 'Oslo', points: 1_000 }, agentId: null });
  const assigned: Run = { ...queued, status: 'assigned', agentId: 'agent-1' };
  const running: Run = { ...assigned, status: 'running', startedAt: 2_000, lastSeq: 1 };
  const succeeded: Run = { ...running, status: 'succeeded', finishedAt: 3_000, exitCode: 0, lastSeq: 3, logLines: 1, logBytes: 4 };
  return [queued, assigned, running, succeeded];
}

describe('serializeRunLine', () => {
  it.each([
    ['no previous line', undefined, 'whole'],
    ['status changed', { status: 'queued' }, 'patch'],
    ['field dropped', { fires: { count: 1, first: 1, last: 1 } }, 'whole'],
  ] as const)('writes %s as a %s line', (_name, previousOverrides, expected) => {
    const run = makeRun({ id: 'r1', status: 'running' });
    const previous = previousOverrides === undefined ? undefined : { ...run, ...previousOverrides };

    const line = JSON.parse(serializeRunLine(run, previous)) as Record<string, unknown>;

    expect(PATCH_KEY in line ? 'patch' : 'whole').toBe(expected);
  });

  it('keeps only changed fields', () => {
    const [queued, assigned] = lifecycle() as [Run, Run];

    const line = JSON.parse(serializeRunLine(assigned, queued)) as Record<string, unknown>;

    expect(line).toEqual({ id: 'r1', [PATCH_KEY]: 1, status: 'assigned', agentId: 'agent-1' });
  });
});

describe('run segment patches', () => {
  it('stores later states as patches', async () => {
    const store = await openStore(dir, { flushIntervalMs: 60_000 });
    for (const run of lifecycle()) store.runs.put(run);

    await store.close();
    const records = await segmentRecords();

    expect(records).toHaveLength(4);
    expect(records[0]?.config).toEqual({ city: 'Oslo', points: 1_000 });
    expect(records.slice(1).every((record) => record[PATCH_KEY] === 1 && !('config' in record))).toBe(true);
    expect(records.map((record) => record.status)).toEqual(['queued', 'assigned', 'running', 'succeeded']);
  });

  it('rebuilds runs from patches', async () => {
    const first = await openStore(dir, { flushIntervalMs: 60_000 });
    const states = lifecycle();
    for (const run of states.slice(0, 3)) first.runs.put(run);
    await first.flush();
    first.runs.put(states[3] as Run);
    await first.close();

    const reopened = await openStore(dir);
    const stored = reopened.runs.get('r1');
    const succeeded = reopened.runs.list({ status: 'succeeded', limit: 10 });
    await reopened.close();

    expect(stored).toEqual(states[3]);
    expect(succeeded.map((run) => run.id)).toEqual(['r1']);
  });

  it('starts whole after a reopen', async () => {
    const [queued, assigned] = lifecycle() as [Run, Run];
    const first = await openStore(dir);
    first.runs.put(queued);
    await first.close();

    const second = await openStore(dir);
    second.runs.put(assigned);
    await second.close();
    const records = await segmentRecords();

    expect(records).toHaveLength(2);
    expect(records.every((record) => !(PATCH_KEY in record))).toBe(true);
  });

  it('skips a patch without its base', async () => {
    const { logger, records } = captureLogger();
    await mkdir(join(dir, 'runs'), { recursive: true });
    await writeFile(join(dir, 'runs', '2026-01-01.jsonl'), `${JSON.stringify({ id: 'ghost', [PATCH_KEY]: 1, status: 'running' })}\n`);

    const store = await openStore(dir, { logger });
    const count = store.runs.count();
    await store.close();

    expect(count).toBe(0);
    expect(records.some((record) => record.msg === 'invalid run records skipped' && record.lines === 1)).toBe(true);
  });

  it('rejects a patch that breaks the run', async () => {
    await mkdir(join(dir, 'runs'), { recursive: true });
    const base = makeRun({ id: 'r1', status: 'running' });
    const broken = { id: 'r1', [PATCH_KEY]: 1, status: 'exploded' };
    await writeFile(join(dir, 'runs', '2026-01-01.jsonl'), `${JSON.stringify(base)}\n${JSON.stringify(broken)}\n`);

    const store = await openStore(dir);
    const stored = store.runs.get('r1');
    await store.close();

    expect(stored).toEqual(base);
  });
});
