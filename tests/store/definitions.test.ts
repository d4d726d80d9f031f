import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Job, Task } from '../../electron/hub/model.js';
import { AtomicJsonFile, parseDefinitions } from '../../electron/hub/store/definitions-file.js';
import { migrateData, openStore, SCHEMA_VERSION, StoreError, type StoreState } from '../../electron/hub/store/index.js';
import { makeTempDir } from './helpers.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await makeTempDir());
});

afterEach(async () => {
  vi.restoreAllMocks();
  await remove();
});

const task: Task = {
  id: 'task-1',
  name: 'Collect',
  runtime: 'node',
  source: 'export default async () => 1;',
  defaultConfig: { page: 1 },
  version: 3,
  code: 'export default async () => 1;',
  hash: 'a'.repeat(64),
  createdAt: 1,
  updatedAt: 2,
};

const job: Job = {
  id: 'job-1',
  name: 'Collect every minute',
  taskId: 'task-1',
  config: { page: 2 },
  schedule: { cron: '* * * * *', timezone: 'Europe/Brussels' },
  enabled: true,
  tags: ['linux'],
  timeoutSec: 60,
  retries: 2,
  retryDelaySec: 5,
  overlap: 'queue',
  maxParallel: 1,
  catchUp: 'once',
  env: { API_KEY: 'secret-value' },
  createdAt: 3,
  updatedAt: 4,
};

function validFile(overrides: Partial<StoreState> = {}): string {
  const state: StoreState = {
    schemaVersion: SCHEMA_VERSION,
    tasks: [task],
    jobs: [job],
    agents: [],
    enrollmentTokens: [],
    settings: { retentionDays: 30, retentionPerJob: 1000, agentGraceSec: 60 },
    ...overrides,
  };
  return JSON.stringify(state);
}

async function openError(): Promise<StoreError> {
  const error: unknown = await openStore(dir).then(
    async (store) => {
      await store.close();
      return null;
    },
    (err: unknown) => err,
  );
  if (!(error instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(error)}`);
  return error;
}

describe('definitions file', () => {
  it('round trips definitions across reopen', async () => {
    const first = await openStore(dir);
    first.state.tasks.push(task);
    first.state.jobs.push({ ...job, extraField: 'kept' } as Job);
    first.state.enrollmentTokens.push({ id: 't1', name: 'default', hash: 'b'.repeat(64), createdAt: 5, revokedAt: null });
    first.state.settings.retentionDays = 7;
    first.state.secrets = { adminToken: 'x' };
    first.save();
    await first.close();

    const second = await openStore(dir);
    const state = second.state;
    await second.close();

    expect(state.tasks).toEqual([task]);
    expect(state.jobs).toEqual([{ ...job, extraField: 'kept' }]);
    expect(state.enrollmentTokens).toHaveLength(1);
    expect(state.settings).toEqual({ retentionDays: 7, retentionPerJob: 1000, agentGraceSec: 60 });
    expect(state.secrets).toEqual({ adminToken: 'x' });
  });

  it('creates a new store with defaults', async () => {
    const store = await openStore(dir);
    await store.close();

    const written = JSON.parse(await readFile(join(dir, 'farmboy.json'), 'utf8')) as StoreState;
    expect(written.schemaVersion).toBe(SCHEMA_VERSION);
    expect(written.tasks).toEqual([]);
    expect(written.settings).toEqual({ retentionDays: 30, retentionPerJob: 1000, agentGraceSec: 60 });
  });

  it('coalesces many saves into few writes', async () => {
    const store = await openStore(dir, { flushIntervalMs: 100 });
    const write = vi.spyOn(AtomicJsonFile.prototype, 'write');

    for (let index = 1; index <= 100; index += 1) {
      store.state.settings.retentionDays = index;
      store.save();
      if (index % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await store.flush();
    await store.close();

    expect(write.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(write.mock.calls.length).toBeLessThanOrEqual(3);
    const written = JSON.parse(await readFile(join(dir, 'farmboy.json'), 'utf8')) as StoreState;
    expect(written.settings.retentionDays).toBe(100);
  });

  it('writes after the flush interval without flush', async () => {
    const store = await openStore(dir, { flushIntervalMs: 20 });
    store.state.settings.agentGraceSec = 99;

    store.save();
    await vi.waitFor(async () => {
      const written = JSON.parse(await readFile(join(dir, 'farmboy.json'), 'utf8')) as StoreState;
      expect(written.settings.agentGraceSec).toBe(99);
    });
    await store.close();
  });

  it('keeps state and retries after write failure', async () => {
    const errors: StoreError[] = [];
    const store = await openStore(dir, { flushIntervalMs: 10, onError: (error) => errors.push(error) });
    // A directory in place of the file makes every rename over it fail.
    await rm(join(dir, 'farmboy.json'));
    await mkdir(join(dir, 'farmboy.json'));

    store.state.settings.retentionDays = 12;
    store.save();
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0));
    await rm(join(dir, 'farmboy.json'), { recursive: true });

    expect(errors[0]?.code).toBe('store_unwritable');
    expect(errors[0]?.file).toBe(join(dir, 'farmboy.json'));
    expect(store.state.settings.retentionDays).toBe(12);
    await vi.waitFor(
      async () => {
        const written = JSON.parse(await readFile(join(dir, 'farmboy.json'), 'utf8')) as StoreState;
        expect(written.settings.retentionDays).toBe(12);
      },
      { timeout: 5000 },
    );
    await store.close();
  });
});

describe('unusable definitions file', () => {
  const cases: Array<{ name: string; bytes: () => Buffer; reason: RegExp }> = [
    { name: '0-byte file', bytes: () => Buffer.alloc(0), reason: /is empty/ },
    { name: '4 KB of NUL bytes', bytes: () => Buffer.alloc(4096), reason: /only NUL bytes/ },
    { name: 'NUL bytes after JSON', bytes: () => Buffer.concat([Buffer.from(validFile()), Buffer.alloc(100)]), reason: /NUL bytes from offset/ },
    { name: 'truncated JSON', bytes: () => Buffer.from(validFile().slice(0, 60)), reason: /not valid JSON/ },
    { name: 'JSON array', bytes: () => Buffer.from('[1,2]'), reason: /JSON object/ },
    { name: 'missing schemaVersion', bytes: () => Buffer.from('{"tasks":[]}'), reason: /schemaVersion/ },
    { name: 'tasks not an array', bytes: () => Buffer.from(validFile({ tasks: 'none' as unknown as Task[] })), reason: /at tasks/ },
    { name: 'job with a bad field', bytes: () => Buffer.from(validFile({ jobs: [{ ...job, overlap: 'sometimes' as 'skip' }] })), reason: /at jobs\.0\.overlap/ },
  ];

  for (const { name, bytes, reason } of cases) {
    it(`rejects ${name} untouched`, async () => {
      const path = join(dir, 'farmboy.json');
      const content = bytes();
      await writeFile(path, content);

      const error = await openError();

      expect(error.code).toBe('store_corrupt');
      expect(error.file).toBe(path);
      expect(error.message).toContain(path);
      expect(error.message).toMatch(reason);
      expect(error.message).toContain('It was left as it is.');
      expect(error.message).toContain('There is no backup');
      expect(await readFile(path)).toEqual(content);
      await expect(stat(join(dir, 'farmboy.lock'))).rejects.toThrow();
    });
  }

  it('keeps secrets out of JSON error messages', async () => {
    await writeFile(join(dir, 'farmboy.json'), 'secret-token-value');

    const error = await openError();

    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).not.toContain('secret-token-value');
  });

  it('names a usable backup and its restore', async () => {
    const first = await openStore(dir);
    first.state.tasks.push(task);
    first.save();
    await first.close();
    await (await openStore(dir)).close();
    await writeFile(join(dir, 'farmboy.json'), Buffer.alloc(0));

    const error = await openError();
    await copyFile(join(dir, 'farmboy.json.bak'), join(dir, 'farmboy.json'));
    const restored = await openStore(dir);
    const tasks = restored.state.tasks;
    await restored.close();

    expect(error.code).toBe('store_corrupt');
    expect(error.message).toContain(`A backup from `);
    expect(error.message).toContain(`is at ${join(dir, 'farmboy.json.bak')}: to use it, stop Farmboy and copy it over farmboy.json.`);
    expect(tasks).toEqual([task]);
  });

  it('refuses a missing file with a backup', async () => {
    const first = await openStore(dir);
    first.state.tasks.push(task);
    first.save();
    await first.close();
    await (await openStore(dir)).close();
    const backup = await readFile(join(dir, 'farmboy.json.bak'));
    await rm(join(dir, 'farmboy.json'));

    const error = await openError();

    expect(error.code).toBe('store_corrupt');
    expect(error.message).toContain('is missing, but its backup exists');
    expect(await readFile(join(dir, 'farmboy.json.bak'))).toEqual(backup);
  });

  it('says when the backup is unusable too', async () => {
    await writeFile(join(dir, 'farmboy.json'), '{');
    await writeFile(join(dir, 'farmboy.json.bak'), Buffer.alloc(10));

    const error = await openError();

    expect(error.code).toBe('store_corrupt');
    expect(error.message).toContain(`The backup at ${join(dir, 'farmboy.json.bak')} cannot be used either`);
  });

  it('rejects a newer schema version', async () => {
    const content = validFile({ schemaVersion: SCHEMA_VERSION + 1 });
    await writeFile(join(dir, 'farmboy.json'), content);

    const error = await openError();

    expect(error.code).toBe('store_too_new');
    expect(error.message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect(await readFile(join(dir, 'farmboy.json'), 'utf8')).toBe(content);
  });
});

describe('migrations', () => {
  const renameGrace = (data: Record<string, unknown>): Record<string, unknown> => {
    const settings = { ...(data.settings as Record<string, unknown>) };
    settings.agentGraceSec = settings.graceSeconds;
    delete settings.graceSeconds;
    return { ...data, settings };
  };

  it('applies migrations and bumps the version', () => {
    const data = { schemaVersion: 1, settings: { graceSeconds: 15 } };

    const migrated = migrateData(data, [renameGrace]);

    expect(migrated).toEqual({ schemaVersion: 2, settings: { agentGraceSec: 15 } });
  });

  it('leaves a current file unchanged', () => {
    const data = { schemaVersion: 2, settings: {} };

    const migrated = migrateData(data, [renameGrace]);

    expect(migrated).toBe(data);
  });

  it('migrates a file before validating it', () => {
    const old = { ...(JSON.parse(validFile()) as StoreState), schemaVersion: 1, settings: { graceSeconds: 15 } };

    const { state, migratedFrom } = parseDefinitions(Buffer.from(JSON.stringify(old)), '/x/farmboy.json', [renameGrace]);

    expect(migratedFrom).toBe(1);
    expect(state.schemaVersion).toBe(2);
    expect(state.settings.agentGraceSec).toBe(15);
    expect(state.tasks).toEqual([task]);
  });
});
