import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_BIN, makeTempDir, removeDir } from './helpers.js';

// A private mount namespace lets the test mount a read-only file system without touching the machine's mounts.
const canMount = process.platform === 'linux' && spawnSync('unshare', ['--mount', '--propagation', 'private', 'mount', '-t', 'tmpfs', '-o', 'ro', 'none', '/mnt']).status === 0;

/** Runs the agent with its data directory below a read-only mount and returns its exit code and stderr. */
function runOnReadOnlyMount(mountPoint: string): Promise<{ code: number | null; stderr: string }> {
  const dataDir = path.join(mountPoint, 'agent');
  const script = 'mount -t tmpfs -o ro none "$1" && shift && exec "$@"';
  const args = ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', mountPoint, process.execPath, AGENT_BIN, '--hub', 'http://127.0.0.1:1', '--insecure', '--token', 'unused', '--data-dir', dataDir];
  const child = spawn('unshare', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe.skipIf(!canMount)('unusable data directory', () => {
  let mountPoint = '';

  beforeEach(async () => {
    mountPoint = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(mountPoint);
  });

  it('names a read-only file system', async () => {
    const { code, stderr } = await runOnReadOnlyMount(mountPoint);

    expect(code).toBe(1);
    expect(stderr).toContain(`${mountPoint} is on a read-only file system`);
  });
});
