/**
 * The hub as its command (`node bin/farmboy-hub.js`) on ephemeral ports, for
 * fault tests and the soak that kill it or restart it on one data directory,
 * and the small HTTP client every test uses against the API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HUB_BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'farmboy-hub.js');

export type ApiCall = <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

/** Calls the API with a bearer token; JSON replies are parsed, others returned as text. */
export function apiClient(baseUrl: string, token: string): ApiCall {
  return async <T,>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = response.headers.get('content-type')?.includes('application/json') && text ? JSON.parse(text) : text;
    return { status: response.status, body: parsed as T };
  };
}

export interface HubBanner {
  uiPort: number;
  agentPort: number;
  /** Fingerprint of the agent port's certificate, or null without TLS. */
  fingerprint: string | null;
}

export interface HubCommand extends HubBanner {
  process: ChildProcess;
  uiUrl: string;
  adminToken: string;
  agentToken: string;
  /** What the hub printed on stdout, and on stderr unless `onStderr` took it. */
  output(): string;
  api: ApiCall;
}

export interface HubCommandOptions {
  /** Tokens to reuse across restarts on one data directory. */
  adminToken?: string;
  agentToken?: string;
  env?: Record<string, string>;
  logLevel?: string;
  /** Receives stderr instead of `output()`, for long runs that log to a file. */
  onStderr?: (chunk: Buffer) => void;
  startTimeoutMs?: number;
}

/** Starts the hub command and resolves once its banner shows both ports; throws with its output if it exits first. */
export async function startHubCommand(dataDir: string, options: HubCommandOptions = {}): Promise<HubCommand> {
  const adminToken = options.adminToken ?? randomBytes(24).toString('hex');
  const agentToken = options.agentToken ?? randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [HUB_BIN, '--data-dir', dataDir, '--agent-port', '0', '--agent-host', '127.0.0.1', '--ui-port', '0', '--log-level', options.logLevel ?? 'warn'], {
    env: { ...process.env, FARMBOY_ADMIN_TOKEN: adminToken, FARMBOY_AGENT_TOKEN: agentToken, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', options.onStderr ?? ((chunk: Buffer) => (output += chunk.toString())));

  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  let banner = parseHubBanner(output);
  while (banner === null) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the hub did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    banner = parseHubBanner(output);
  }
  const uiUrl = `http://127.0.0.1:${banner.uiPort}`;
  return { process: child, ...banner, uiUrl, adminToken, agentToken, output: () => output, api: apiClient(uiUrl, adminToken) };
}

/** Reads the ports and the certificate fingerprint from the banner the hub prints once it listens. */
export function parseHubBanner(output: string): HubBanner | null {
  const ui = /Web UI:\s+http:\/\/[^\s/]+:(\d+)\//.exec(output);
  const agents = /Agents:\s+port (\d+)(?:, TLS certificate (\S+))?/.exec(output);
  if (ui === null || agents === null) return null;
  return { uiPort: Number(ui[1]), agentPort: Number(agents[1]), fingerprint: agents[2] ?? null };
}

/** Sends a signal and waits for the exit; SIGKILL after `timeoutMs`. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
