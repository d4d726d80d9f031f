import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordProcess } from '../src/runner/orphans.js';
import { SpareFiles, removeScratchDir, writeSmallFile } from '../src/runner/spare-files.js';
import { makeAssignment, makeSettings, makeTempDir, readFixture, removeDir, runToEnd } from './helpers.js';

const silent = pino({ level: 'silent' });

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error('condition not met within 2 s');
}

async function spareNames(dataDir: string, prefix: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, 'runs'))).filter((name) => name.startsWith(prefix));
}

describe('spare run files', () => {
  let dataDir = '';
  let spares: SpareFiles | null = null;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    spares?.stop();
    spares = null;
    await removeDir(dataDir);
  });

  it('moves a spare directory into place', async () => {
    spares = new SpareFiles({ dataDir, count: 2, log: silent });
    spares.start();
    const target = path.join(dataDir, 'runs', 'run-1-1');
    const pool = spares;
    await until(() => pool.ready.dirs === 2);

    const moved = pool.takeDir(target);

    expect(moved).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    expect(await readdir(target)).toEqual(['config.json']);
    expect((await stat(path.join(target, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(target, 'config.json'), 'utf8')).toBe('');
  });

  it('moves nothing before it starts', async () => {
    spares = new SpareFiles({ dataDir, count: 2, log: silent });
    const target = path.join(dataDir, 'runs', 'run-1-1');

    const moved = spares.takeDir(target);

    expect(moved).toBe(false);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('writes a process record into a spare file', async () => {
    spares = new SpareFiles({ dataDir, count: 1, log: silent });
    spares.start();
    const pool = spares;
    await until(() => pool.ready.files === 1);
    const sparesBefore = await spareNames(dataDir, '.spare-file-');

    recordProcess(dataDir, 'run-2-1', { runId: 'run-2', attempt: 1 }, process.pid, pool);

    const record = JSON.parse(await readFile(path.join(dataDir, 'processes', 'run-2-1.json'), 'utf8')) as unknown;
    expect(record).toMatchObject({ runId: 'run-2', attempt: 1, pid: process.pid });
    expect((await stat(path.join(dataDir, 'processes', 'run-2-1.json'))).mode & 0o777).toBe(0o600);
    expect(sparesBefore).toHaveLength(1);
    expect(await spareNames(dataDir, '.spare-file-')).not.toContain(sparesBefore[0]);
  });

  it('gives a shell run its config', async () => {
    spares = new SpareFiles({ dataDir, count: 1, log: silent });
    spares.start();
    const pool = spares;
    await until(() => pool.ready.dirs === 1);
    const sparesBefore = await spareNames(dataDir, '.spare-dir-');
    const assignment = makeAssignment('shell', await readFixture('config.sh'), { config: { city: 'Oslo' } });

    const { sink, outcome } = await runToEnd(assignment, makeSettings(dataDir, { spares: pool }));

    expect(outcome.status).toBe('succeeded');
    expect(sparesBefore).toHaveLength(1);
    expect(await spareNames(dataDir, '.spare-dir-')).not.toContain(sparesBefore[0]);
    expect(sink.messages('stdout').slice(0, 2)).toEqual(['env: {"city":"Oslo"}', 'file: {"city":"Oslo"}']);
  });

  it.each([
    { name: 'an empty directory', fill: async () => undefined },
    { name: 'only config.json', fill: async (dir: string) => writeFile(path.join(dir, 'config.json'), '{}') },
    {
      name: 'files the task left',
      fill: async (dir: string) => {
        await writeFile(path.join(dir, 'config.json'), '{}');
        await mkdir(path.join(dir, 'out', 'deep'), { recursive: true });
        await writeFile(path.join(dir, 'out', 'deep', 'result.txt'), 'x');
      },
    },
    { name: 'config.json as a directory', fill: async (dir: string) => mkdir(path.join(dir, 'config.json', 'inner'), { recursive: true }) },
  ])('removes a scratch directory with $name', async ({ fill }) => {
    const dir = path.join(dataDir, 'runs', 'run-3-1');
    await mkdir(dir, { recursive: true });
    await fill(dir);

    await removeScratchDir(dir);

    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps the target of a linked config', async () => {
    const dir = path.join(dataDir, 'runs', 'run-4-1');
    const outside = path.join(dataDir, 'keep.txt');
    await mkdir(dir, { recursive: true });
    await writeFile(outside, 'precious');
    await symlink(outside, path.join(dir, 'config.json'));

    await removeScratchDir(dir);

    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(outside, 'utf8')).toBe('precious');
  });

  it.each([
    { name: 'a missing file', before: null },
    { name: 'an empty spare', before: '' },
    { name: 'a longer file', before: 'x'.repeat(500) },
  ])('writes a small file over $name', async ({ before }) => {
    const file = path.join(dataDir, 'record.json');
    if (before !== null) await writeFile(file, before, { mode: 0o600 });

    writeSmallFile(file, '{"pid":42}', 0o600);

    expect(await readFile(file, 'utf8')).toBe('{"pid":42}');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
