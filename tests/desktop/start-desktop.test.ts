import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const emptyDir = mkdtempSync(join(tmpdir(), 'farmboy-no-electron-'));
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

function runScript(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/start-desktop.mjs', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The script must exit by itself; kill it if it hangs so no process outlives the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('missing Electron binary explains itself', async () => {
  // electron's own index.js resolves the binary under this folder, which is empty.
  const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: emptyDir };

  const result = await runScript(['preview'], env);

  expect(result.code).toBe(1);
  expect(result.stderr).toContain('Electron binary is not installed');
  expect(result.stderr).toContain('node node_modules/electron/install.js');
  expect(result.stderr).toContain('npx farmboy-hub');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).toBe('');
});

test('unknown mode exits with usage', async () => {
  const result = await runScript(['launch'], process.env);

  expect(result.code).toBe(2);
  expect(result.stderr).toContain("Unknown mode 'launch'");
});
