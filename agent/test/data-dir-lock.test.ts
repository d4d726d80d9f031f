import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentError } from '../src/errors.js';
import { LOCK_FILE, lockDataDir } from '../src/data-dir-lock.js';
import { makeTempDir, removeDir } from './helpers.js';

describe('data directory lock', () => {
  let dataDir = '';
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await removeDir(dataDir);
  });

  /** A live process whose command line looks like an agent's, or like any other program's. */
  function startProcess(argument: string): number {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', argument], { stdio: 'ignore' });
    children.push(child);
    return child.pid as number;
  }

  it('rejects a directory another agent holds', async () => {
    const owner = startProcess('farmboy-agent');
    await writeFile(path.join(dataDir, LOCK_FILE), `${owner}\n`);

    const attempt = () => lockDataDir(dataDir);

    expect(attempt).toThrow(AgentError);
    expect(attempt).toThrow(`Another farmboy-agent (PID ${owner}) uses the data directory ${dataDir}.`);
  });

  it.each([
    { name: 'a dead owner', owner: () => 2 ** 22 + 1 },
    { name: 'a reused PID', owner: () => startProcess('some-other-program') },
  ])('takes over the lock of $name', async ({ owner }) => {
    await writeFile(path.join(dataDir, LOCK_FILE), `${owner()}\n`);

    lockDataDir(dataDir);

    expect(await readFile(path.join(dataDir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
  });
});
