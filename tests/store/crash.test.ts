import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../electron/hub/store/index.js';
import { collect, makeTempDir } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Opens the store in argv[2] and changes definitions, a run and its log 100
 * times per second until killed. Writes are flushed every 10 ms and backups
 * taken every 50 ms, so a kill often lands inside a write.
 */
const FIXTURE = `
import { openStore } from './store.mjs';
const store = await openStore(process.argv[2], { flushIntervalMs: 10, backupIntervalMs: 50 });
let tick = store.state.settings.retentionPerJob;
store.state.tasks = [{ id: 't1', name: 'big', runtime: 'node', source: 'x'.repeat(2_000_000), defaultConfig: {}, version: 1, code: '', hash: '', createdAt: 1, updatedAt: 1 }];
setInterval(() => {
  tick += 1;
  store.state.settings.retentionPerJob = tick;
  store.save();
  const id = 'run-' + (tick % 20);
  store.runs.put({ id, jobId: 'job', jobName: null, taskId: 't1', taskVersion: 1, trigger: 'manual', status: tick % 3 ? 'running' : 'succeeded',
    attempt: 1, maxAttempts: 1, agentId: 'a', previousAgentIds: [], exitCode: null, signal: null, error: null, progress: null, result: null,
    waitingReason: null, notBefore: null, agentOfflineSince: null, queuedAt: tick, startedAt: null, finishedAt: null,
    logLines: 0, logBytes: 0, logTruncated: false, recordCount: 0 });
  store.logs.appendLog(id, [{ t: Date.now(), s: 'stdout', m: 'tick ' + tick }]);
}, 10);
process.stdout.write('ready\\n');
`;

let work: { dir: string; remove: () => Promise<void> };

beforeAll(async () => {
  work = await makeTempDir();
  await build({
    entryPoints: [join(root, 'electron/hub/store/index.ts')],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    outfile: join(work.dir, 'store.mjs'),
    // pino is CommonJS and requires Node built-ins, which an ESM bundle can only reach through createRequire.
    banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
    logLevel: 'error',
  });
  await writeFile(join(work.dir, 'fixture.mjs'), FIXTURE);
});

afterAll(async () => {
  await work.remove();
});

/** Starts the fixture, lets it write for `runMs` after it is ready, then kills it with SIGKILL. */
async function runAndKill(dataDir: string, runMs: number): Promise<void> {
  const child = spawn(process.execPath, [join(work.dir, 'fixture.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('ready\n');
    await new Promise((resolve) => setTimeout(resolve, runMs));
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

describe('store after SIGKILL', () => {
  it('opens after kills during writes', { timeout: 60_000 }, async () => {
    const dataDir = join(work.dir, 'data');
    let lastTick = 0;
    let lastRuns = 0;

    for (const runMs of [150, 230, 310, 390, 470, 550, 630, 710]) {
      await runAndKill(dataDir, runMs);

      const store = await openStore(dataDir);
      const tick = store.state.settings.retentionPerJob;
      const runs = store.runs.list({ limit: 100 });
      const logs = await Promise.all(runs.map((run) => collect(store.logs.readLog(run.id))));
      const leftovers = (await readdir(dataDir)).filter((name) => name.endsWith('.tmp'));
      await store.close();

      expect(tick).toBeGreaterThanOrEqual(lastTick);
      expect(runs.length).toBeGreaterThanOrEqual(lastRuns);
      expect(logs.flat().every((line) => line.m.startsWith('tick '))).toBe(true);
      expect(leftovers).toEqual([]);
      lastTick = tick;
      lastRuns = runs.length;
    }

    expect(lastTick).toBeGreaterThan(1000);
    expect(lastRuns).toBe(20);
  });
});
