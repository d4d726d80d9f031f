import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanup, onCleanup, tempDir, waitFor } from '../helpers/fleet.js';

afterEach(cleanup);

const HUB_BIN = join(ROOT, 'bin', 'farmboy-hub.js');

function runHub(args: string[]): { output(): string; exited: Promise<number | null> } {
  const env = { ...process.env, LOG_LEVEL: 'warn', FARMBOY_ADMIN_TOKEN: 'admin-secret', FARMBOY_AGENT_TOKEN: 'join-secret' };
  const child = spawn(process.execPath, [HUB_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  return { output: () => output, exited };
}

describe('farmboy-hub transport banner', () => {
  it('prints the certificate fingerprint', async () => {
    const dataDir = await tempDir('cli-tls');
    const hub = runHub(['--data-dir', dataDir, '--agent-port', '0', '--ui-port', '0']);

    const banner = await waitFor(() => /Join an agent[^\n]*\n[^\n]+\n/.exec(hub.output())?.input, 20_000, 'banner');

    const fingerprint = /Agents:\s+port \d+, TLS certificate (sha256:[0-9a-f]{64})/.exec(banner)?.[1];
    expect(fingerprint).toBeDefined();
    expect(banner).toContain(`--fingerprint ${fingerprint}`);
    expect(banner).not.toContain('WARNING');
  });

  it('warns when started insecure', async () => {
    const dataDir = await tempDir('cli-plain');
    const hub = runHub(['--data-dir', dataDir, '--agent-port', '0', '--ui-port', '0', '--insecure']);

    const output = await waitFor(() => hub.output().includes('WARNING') && hub.output(), 20_000, 'warning');

    expect(output).toContain('WARNING: --insecure: the agent port runs without TLS');
    expect(output).toMatch(/npx farmboy-agent --hub http:\/\/\S+:\d+ --token join-secret --insecure/);
    expect(output).toContain('plain http without TLS (--insecure)');
  });
});
