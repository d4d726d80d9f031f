/**
 * The hub as a real process (`node bin/farmboy-hub.js`), for tests that kill
 * it or restart it on the same data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Hub } from '../../../electron/hub/index.js';
import { ROOT, onCleanup, waitFor } from '../../helpers/fleet.js';

export interface HubProcess {
  process: ChildProcess;
  uiPort: number;
  agentPort: number;
  /** Fingerprint of the agent port's certificate, or null without TLS. */
  fingerprint: string | null;
  adminToken: string;
  agentToken: string;
  exited: Promise<number | null>;
  output(): string;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** What `startAgent` from the fleet helpers needs, pointing agents at `agentUrl`. */
  asHub(agentUrl: string): Hub;
}

export interface HubProcessOptions {
  /** Tokens to reuse across restarts on one data directory. */
  adminToken?: string;
  agentToken?: string;
  env?: Record<string, string>;
}

const HUB_BIN = join(ROOT, 'bin', 'farmboy-hub.js');

/** Starts the hub command on ephemeral ports and waits for its banner. */
export async function startHubProcess(dataDir: string, options: HubProcessOptions = {}): Promise<HubProcess> {
  const adminToken = options.adminToken ?? randomBytes(24).toString('hex');
  const agentToken = options.agentToken ?? randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [HUB_BIN, '--data-dir', dataDir, '--agent-port', '0', '--ui-port', '0', '--log-level', process.env.TEST_LOG_LEVEL ?? 'warn'], {
    env: { ...process.env, FARMBOY_ADMIN_TOKEN: adminToken, FARMBOY_AGENT_TOKEN: agentToken, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  onCleanup(async () => void (await kill('SIGKILL')));

  const banner = await waitFor(() => parseBanner(output) ?? (child.exitCode !== null ? 'exited' : null), 20_000, 'the hub banner').catch(() => null);
  if (banner === null || banner === 'exited') throw new Error(`the hub did not start:\n${output}`);
  const uiUrl = `http://127.0.0.1:${banner.uiPort}`;

  const api = async <T,>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${uiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = response.headers.get('content-type')?.includes('application/json') && text ? JSON.parse(text) : text;
    return { status: response.status, body: parsed as T };
  };
  return {
    process: child,
    ...banner,
    adminToken,
    agentToken,
    exited,
    output: () => output,
    api,
    kill,
    asHub: (agentUrl) => ({ agentUrl, agentToken, fingerprint: banner.fingerprint, insecure: banner.fingerprint === null }) as unknown as Hub,
  };
}

/** Reads the ports and the certificate fingerprint from the banner the hub prints once it listens. */
function parseBanner(output: string): { uiPort: number; agentPort: number; fingerprint: string | null } | null {
  const ui = /Web UI:\s+http:\/\/[^\s/]+:(\d+)\//.exec(output);
  const agents = /Agents:\s+port (\d+)(?:, TLS certificate (\S+))?/.exec(output);
  if (ui === null || agents === null) return null;
  return { uiPort: Number(ui[1]), agentPort: Number(agents[1]), fingerprint: agents[2] ?? null };
}
