import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run, StoredLogLine } from '../../electron/hub/model.js';
import { openStore } from '../../electron/hub/store/index.js';
import { makeRun, segmentDataLines } from '../store/helpers.js';
import { cleanup, createShellTask, onCleanup, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { canMount, mountSmallDisk } from './helpers/disk.js';
import { startHubProcess, type HubProcess } from './helpers/hub-process.js';
import { TcpProxy } from './helpers/proxy.js';
import { countingTask, duplicates, expectedLines, taskLines } from './helpers/tasks.js';

afterEach(cleanup);

async function logOf(hub: HubProcess | TestHub, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

/** `count` log lines of about 60 bytes each, numbered from `first`. */
function numberedLines(first: number, count: number): StoredLogLine[] {
  return Array.from({ length: count }, (_, index) => ({ t: index, s: 'stdout', m: `line ${first + index} `.padEnd(40, '.') }));
}

/** Reads the texts of the log lines stored in a data directory's output segments, in order. */
async function storedTexts(dataDir: string): Promise<string[]> {
  const lines = await segmentDataLines(dataDir);
  return lines.flatMap((line) => (JSON.parse(line) as { lines: StoredLogLine[] }).lines.map((stored) => stored.m));
}

function settled(promise: Promise<unknown>): Promise<'resolved' | 'rejected'> {
  return promise.then(
    () => 'resolved' as const,
    () => 'rejected' as const,
  );
}

// NOTE: these tests mount a tmpfs, which needs root or CAP_SYS_ADMIN; elsewhere they are skipped.
describe.runIf(canMount)('full or read-only data directory', () => {
  it('hub acknowledges only what it stored', { timeout: 90_000 }, async () => {
    const disk = await mountSmallDisk(32 * 1024 * 1024);
    const dataDir = join(disk.dir, 'hub');
    const hub = await startHubProcess(dataDir);
    const proxy = await TcpProxy.start(hub.agentPort);
    onCleanup(() => proxy.close());
    const url = `${hub.fingerprint === null ? 'http' : 'https'}://127.0.0.1:${proxy.port}`;
    await startAgent(hub.asHub(url), { name: 'steady', hubUrl: url });
    const task = countingTask(1_500, 30, 10);
    const { id: taskId } = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'count', runtime: 'shell', source: task.source })).body;
    await waitFor(async () => (await hub.api<{ status: string }[]>('GET', '/api/agents')).body.some((agent) => agent.status === 'online'), 15_000, 'agent online');
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 100, 20_000, 'first lines');

    await disk.fill();
    await waitFor(() => task.alive().length === 0, 30_000, 'the task to finish');
    await waitFor(() => hub.output().includes('cannot store run events'), 10_000, 'the store error in the hub log');
    const health = await hub.api<{ ok: boolean }>('GET', '/api/health');
    await hub.kill('SIGKILL');
    await disk.free();
    const restarted = await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken });
    proxy.setTarget(restarted.agentPort);
    const run = await waitFor(async () => {
      const current = (await restarted.api<Run>('GET', `/api/runs/${runId}`)).body;
      return current.status === 'succeeded' && current;
    }, 40_000, 'run succeeded after the restart');
    const lines = taskLines(await logOf(restarted, runId));

    expect(health.body.ok).toBe(true);
    expect(duplicates(lines)).toEqual([]);
    expect(lines).toEqual(expectedLines(1, 1_500));
    expect(run.logLines).toBe(1_500);
  });

  // The same sequence as the test above, without a hub process and its timing. Two output writes
  // overlap while the disk is full, then the store persists again before the disk has room. The
  // run segment and the output segment keep room in their last tmpfs page, so a small run record
  // still fits while the log's next event does not.
  it('store persists nothing while full', { timeout: 30_000 }, async () => {
    const disk = await mountSmallDisk(4 * 1024 * 1024);
    const store = await openStore(join(disk.dir, 'hub'), { flushIntervalMs: 60_000 });
    onCleanup(() => store.close().catch(() => undefined));
    store.logs.appendLog('run-1', numberedLines(1, 10), { attempt: 1, seq: 1 });
    store.runs.put(makeRun({ id: 'run-1', status: 'running', lastSeq: 1 }));
    await store.persist(['run-1']);
    await disk.fill();
    store.logs.appendLog('run-1', numberedLines(11, 200), { attempt: 1, seq: 2 });
    store.runs.put(makeRun({ id: 'run-1', status: 'running', lastSeq: 2 }));

    const overlapping = await Promise.all([settled(store.persist(['run-1'])), settled(store.flush())]);
    const retried = await settled(store.persist(['run-1']));
    const whileFull = await storedTexts(join(disk.dir, 'hub'));
    await disk.free();
    await store.persist(['run-1']);
    const afterFree = await storedTexts(join(disk.dir, 'hub'));

    expect(overlapping).toEqual(['rejected', 'rejected']);
    expect(retried).toBe('rejected');
    expect(whileFull).toHaveLength(10);
    expect(afterFree).toEqual(numberedLines(1, 210).map((line) => line.m));
  });

  it('hub tells the caller when a run it queued could not be stored', { timeout: 30_000 }, async () => {
    const disk = await mountSmallDisk(8 * 1024 * 1024);
    const hub = await startTestHub({ dataDir: join(disk.dir, 'hub') });
    const task = await createShellTask(hub, 'echo hi');
    await disk.fill();

    const response = await hub.api<{ error: { code: string; message: string } }>('POST', `/api/tasks/${task.id}/runs`, {});
    await disk.free();
    const runId = /^run (\S+) is queued/.exec(response.body.error.message)?.[1] ?? 'missing';
    // Nothing else writes on this idle hub: the store retries by itself once there is room.
    const stored = await waitFor(async () => {
      const dir = join(disk.dir, 'hub', 'runs');
      const texts = await Promise.all((await readdir(dir)).map((name) => readFile(join(dir, name), 'utf8')));
      return texts.some((text) => text.includes(runId));
    }, 10_000, 'the run record written once the disk had room');

    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('unavailable');
    expect(response.body.error.message).toMatch(/^run \S+ is queued, but its record could not be written to disk/);
    expect(stored).toBe(true);
  });

  it('agent keeps events in memory when its disk is full', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    const disk = await mountSmallDisk(8 * 1024 * 1024);
    await startAgents(hub, [{ name: 'cramped', dataDir: join(disk.dir, 'agent') }]);
    const task = countingTask(300, 30, 10);
    const { id: taskId } = await createShellTask(hub, task.source);
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 20, 30_000, 'first lines');

    // Kept full: the spool frees pages when it deletes an acknowledged segment, and would otherwise write there again.
    const stopFilling = await disk.keepFull();
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'succeeded' && hub.runs.get(runId), 30_000, 'run succeeded');
    await stopFilling();
    const log = await logOf(hub, runId);

    expect(log).toContain('the agent cannot write its outbox spool');
    expect(log).toContain('ENOSPC');
    expect(taskLines(log)).toEqual(expectedLines(1, 300));
    // The task's lines and the agent's line about its spool.
    expect(run.logLines).toBe(301);
  });

  it('agent refuses a read-only data directory', { timeout: 30_000 }, async () => {
    const hub = await startTestHub();
    const disk = await mountSmallDisk(8 * 1024 * 1024);
    const dataDir = join(disk.dir, 'agent');
    const [first] = await startAgents(hub, [{ name: 'frozen', dataDir }]);
    await first?.stop('SIGTERM');

    disk.setReadOnly(true);
    const agent = await startAgent(hub, { name: 'frozen', dataDir, token: null });
    const code = await agent.exited;

    expect(code).toBe(1);
    expect(agent.output()).toContain(dataDir);
    expect(agent.output()).toMatch(/read-only file system/i);
  });

  it('hub refuses a read-only data directory', { timeout: 30_000 }, async () => {
    const disk = await mountSmallDisk(8 * 1024 * 1024);
    const dataDir = join(disk.dir, 'hub');
    const hub = await startHubProcess(dataDir);
    await hub.kill('SIGTERM');
    await sleep(100);

    disk.setReadOnly(true);
    const failure = await startHubProcess(dataDir).then(
      () => '',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );

    expect(failure).toContain(dataDir);
    expect(failure).toMatch(/read-only file system/i);
  });
});
