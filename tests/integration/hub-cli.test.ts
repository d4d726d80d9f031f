import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanup, onCleanup, tempDir, waitFor } from '../helpers/fleet.js';

afterEach(cleanup);

const HUB_BIN = join(ROOT, 'bin', 'farmboy-hub.js');

interface HubProcess {
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

function runHub(args: string[], env: Record<string, string> = {}): HubProcess {
  const child = spawn(process.execPath, [HUB_BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(() => void child.kill('SIGKILL'));
  return { output: () => output, exited, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}

/** IPv4 addresses with a socket listening on `port`, from /proc/net/tcp (Linux). */
function listeningAddresses(port: number): string[] {
  const listening = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[3] === '0A' && Number.parseInt(fields[1]?.split(':')[1] ?? '', 16) === port);
  // The address is four bytes in host order (little-endian here), written in hex.
  return listening.map((fields) => (fields[1]?.split(':')[0]?.match(/../g) ?? []).reverse().map((byte) => Number.parseInt(byte, 16)).join('.'));
}

describe('farmboy-hub command', () => {
  it('prints the UI address and a join command', async () => {
    const dataDir = await tempDir('cli');
    const hub = runHub(['--data-dir', dataDir, '--agent-port', '0', '--agent-host', '127.0.0.1', '--ui-port', '0'], { FARMBOY_ADMIN_TOKEN: 'admin-secret', FARMBOY_AGENT_TOKEN: 'join-secret' });

    const banner = await waitFor(() => /Join an agent[^\n]*\n[^\n]+\n/.exec(hub.output())?.input, 20_000, 'banner');
    const uiUrl = /Web UI:\s+(http:\/\/127\.0\.0\.1:\d+)\/#token=admin-secret/.exec(banner)?.[1];
    const health = await fetch(`${uiUrl}/api/health`, { headers: { authorization: 'Bearer admin-secret' } });
    const agentPort = Number(/--hub https:\/\/127\.0\.0\.1:(\d+) --token join-secret --fingerprint sha256:[0-9a-f]{64}/.exec(banner)?.[1]);
    // Read while the hub runs: a hub already stopping may have closed the port.
    const listening = listeningAddresses(agentPort);
    hub.kill('SIGTERM');

    expect(agentPort).toBeGreaterThan(0);
    expect(listening).toEqual(['127.0.0.1']);
    expect(health.status).toBe(200);
    expect(await hub.exited).toBe(0);
    expect(hub.output()).not.toContain('"admin-secret"');
  });

  it.each([
    [['--ui-port', 'http'], '--ui-port must be a port number'],
    [['--agent-port', '70000'], '--agent-port must be a port number'],
    [['--colour'], "Unknown option '--colour'"],
    [['--log-level', 'loud'], '--log-level must be one of'],
    [['--agent-host', ''], '--agent-host needs an address'],
  ])('rejects bad options %j', async (args, message) => {
    const hub = runHub(args);

    expect(await hub.exited).toBe(2);
    expect(hub.output()).toContain(message);
  });

  it('explains an agent address this machine does not have', async () => {
    // 192.0.2.1 is reserved for documentation, so no machine here has it; binding fails without any traffic.
    const hub = runHub(['--data-dir', await tempDir('cli-host'), '--agent-host', '192.0.2.1', '--agent-port', '0', '--ui-port', '0']);

    expect(await hub.exited).toBe(1);
    expect(hub.output()).toContain('give --agent-host or --ui-host one of its own addresses');
  });

  it('explains a data dir it cannot create', async () => {
    const hub = runHub(['--data-dir', '/etc/passwd', '--agent-port', '0', '--ui-port', '0']);

    expect(await hub.exited).toBe(1);
    expect(hub.output()).toContain('cannot start');
    expect(hub.output()).not.toMatch(/\n\s+at /);
  });

  it('prints help', async () => {
    const hub = runHub(['--help']);

    expect(await hub.exited).toBe(0);
    expect(hub.output()).toContain('--data-dir DIR');
    expect(hub.output()).toContain('FARMBOY_ADMIN_TOKEN');
  });

  it('refuses a second hub on the same data', async () => {
    const dataDir = await tempDir('cli-lock');
    const first = runHub(['--data-dir', dataDir, '--agent-port', '0', '--ui-port', '0']);
    await waitFor(() => first.output().includes('is running'), 20_000, 'first hub');

    const second = runHub(['--data-dir', dataDir, '--agent-port', '0', '--ui-port', '0']);

    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('cannot start');
    expect(second.output()).toMatch(/lock/i);
  });
});
