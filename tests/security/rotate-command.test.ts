import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../electron/hub/index.js';
import { certificateFingerprint } from '../../electron/hub/tls.js';
import { ROOT, cleanup, onCleanup, startAgent, startAgents, startTestHub, tempDir, waitFor } from '../helpers/fleet.js';

afterEach(cleanup);

const HUB_BIN = join(ROOT, 'bin', 'farmboy-hub.js');

interface HubProcess {
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `farmboy-hub` with the arguments; the test's cleanup stops it. */
function spawnHub(args: string[], env: Record<string, string> = {}): HubProcess {
  const child = spawn(process.execPath, [HUB_BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  return { output: () => output, exited };
}

/** Starts a hub process on free ports and returns what its banner shows. */
async function startHubProcess(dataDir: string): Promise<{ agentUrl: string; agentToken: string; fingerprint: string }> {
  const hub = spawnHub(['--data-dir', dataDir, '--agent-port', '0', '--ui-port', '0'], { FARMBOY_AGENT_TOKEN: 'join-secret' });
  const banner = await waitFor(() => /Join an agent[^\n]*\n[^\n]+\n/.exec(hub.output())?.input, 20_000, 'banner');
  const match = /--hub (https:\/\/\S+) --token (\S+) --fingerprint (sha256:[0-9a-f]{64})/.exec(banner);
  if (!match) throw new Error(`no join command in the banner:\n${banner}`);
  const agentUrl = (match[1] as string).replace(/\/\/[^:/]+:/, '//127.0.0.1:');
  return { agentUrl, agentToken: match[2] as string, fingerprint: match[3] as string };
}

async function runRotate(args: string[]): Promise<{ code: number | null; output: string }> {
  const command = spawnHub(['rotate-certificate', ...args]);
  const code = await command.exited;
  return { code, output: command.output() };
}

async function storedPin(dataDir: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(join(dataDir, 'hub-trust.json'), 'utf8')) as { fingerprint: string }).fingerprint;
  } catch {
    return null;
  }
}

describe('farmboy-hub rotate-certificate', () => {
  it('asks a running hub process', async () => {
    const dataDir = await tempDir('rotate-live');
    const hub = await startHubProcess(dataDir);
    // startAgent reads only these three fields of a hub.
    const target = { agentUrl: hub.agentUrl, agentToken: hub.agentToken, fingerprint: hub.fingerprint } as unknown as Hub;
    const agent = await startAgent(target, { name: 'follower' });
    await waitFor(async () => (await storedPin(agent.dataDir)) === hub.fingerprint, 15_000, 'pin stored');

    const result = await runRotate(['--data-dir', dataDir]);

    const next = /New fingerprint: (sha256:[0-9a-f]{64})/.exec(result.output)?.[1];
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('rotated by the running hub');
    expect(result.output).toContain(`Old fingerprint: ${hub.fingerprint}`);
    expect(next).toBeDefined();
    expect(next).not.toBe(hub.fingerprint);
    expect(result.output).toContain('Agents that followed: 1 of 1 connected');
    await waitFor(async () => (await storedPin(agent.dataDir)) === next, 10_000, 'agent pin moved');
    expect(certificateFingerprint(await readFile(join(dataDir, 'hub-cert.pem')))).toBe(next);
  });

  it('rejects a wrong admin token', async () => {
    const dataDir = await tempDir('rotate-token');
    const hub = await startHubProcess(dataDir);

    const result = await runRotate(['--data-dir', dataDir, '--token', 'not-the-token']);

    expect(result.code).toBe(1);
    expect(result.output).toContain('did not rotate its certificate');
    expect(result.output).toContain('Pass the admin token with --token');
    expect(certificateFingerprint(await readFile(join(dataDir, 'hub-cert.pem')))).toBe(hub.fingerprint);
  });

  it('rotates the files without a hub', async () => {
    const first = await startTestHub();
    const old = first.fingerprint;
    await first.stop();

    const result = await runRotate(['--data-dir', first.dataDir]);
    const again = await startTestHub({ dataDir: first.dataDir });

    const next = /New fingerprint: (sha256:[0-9a-f]{64})/.exec(result.output)?.[1];
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('no hub is running');
    expect(result.output).toContain(`Old fingerprint: ${old}`);
    expect(result.output).toContain('Agents that followed: 0');
    expect(again.fingerprint).toBe(next);
    expect(next).not.toBe(old);
  });

  it('moves a running agent on reconnect', { timeout: 60_000 }, async () => {
    const first = await startTestHub();
    const [agent] = await startAgents(first, [{ name: 'follower' }]);
    const dataDir = agent?.dataDir as string;
    await waitFor(async () => (await storedPin(dataDir)) === first.fingerprint, 10_000, 'pin stored');
    await first.stop();

    const result = await runRotate(['--data-dir', first.dataDir]);
    const again = await startTestHub({ dataDir: first.dataDir, agentPort: first.agentPort });
    await waitFor(() => again.service.listAgents()[0]?.status === 'online', 30_000, 'agent back online');

    expect(result.code, result.output).toBe(0);
    expect(again.fingerprint).not.toBe(first.fingerprint);
    await waitFor(async () => (await storedPin(dataDir)) === again.fingerprint, 10_000, 'agent pin moved');
    expect(agent?.process.exitCode).toBeNull();
  });

  it('fails on a directory without certificate', async () => {
    const dataDir = await tempDir('rotate-empty');

    const result = await runRotate(['--data-dir', dataDir]);

    expect(result.code).toBe(1);
    expect(result.output).toContain('contains no hub certificate yet');
  });

  it('rejects an invalid --url', async () => {
    const dataDir = await tempDir('rotate-usage');

    const result = await runRotate(['--data-dir', dataDir, '--url', 'not a url']);

    expect(result.code).toBe(2);
    expect(result.output).toContain('--url must be an http:// address');
  });
});
