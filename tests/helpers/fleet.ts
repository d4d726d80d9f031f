/**
 * Test harness: a real hub on loopback with ephemeral ports and a throwaway
 * data directory, real agent processes started from the built agent
 * package, and a small client for the HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { startHub, type Hub, type HubOptions } from '../../electron/hub/index.js';
import { apiClient, type ApiCall } from './hub-command.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const AGENT_BIN = join(ROOT, 'agent', 'bin', 'farmboy-agent.js');

export interface TestHub extends Hub {
  dataDir: string;
  api: ApiCall;
}

const cleanups: Array<() => Promise<void>> = [];

/** Registers a step for `cleanup`, which runs them in reverse order. */
export function onCleanup(step: () => Promise<void> | void): void {
  cleanups.push(async () => step());
}

/** Stops every hub and agent the test started; call it in afterEach. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.().catch(() => undefined);
}

export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `farmboy-${prefix}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function startTestHub(options: Partial<HubOptions> = {}): Promise<TestHub> {
  const dataDir = options.dataDir ?? (await tempDir('hub'));
  const hub = await startHub({
    dataDir,
    agentPort: 0,
    agentHost: '127.0.0.1',
    uiPort: 0,
    uiHost: '127.0.0.1',
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    tickMs: 100,
    ...options,
  });
  cleanups.push(() => hub.stop());
  return Object.assign(hub, { dataDir, api: apiClient(hub.uiUrl, hub.adminToken) });
}

export interface TestAgent {
  process: ChildProcess;
  dataDir: string;
  output(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface AgentOptions {
  name?: string;
  tags?: string[];
  slots?: number;
  /** Enrollment token; null starts the agent without --token, with the credential it stored. */
  token?: string | null;
  /** Fingerprint to pin instead of the hub's own; null starts the agent without --fingerprint. */
  fingerprint?: string | null;
  /** Whether to pass --insecure; by default exactly when the hub runs without TLS. */
  insecure?: boolean;
  dataDir?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  hubUrl?: string;
  /** Command and arguments to start the agent under, such as a namespace or an init. */
  wrapper?: string[];
}

/** Starts a real agent process against the hub. */
export async function startAgent(hub: Hub, options: AgentOptions = {}): Promise<TestAgent> {
  const dataDir = options.dataDir ?? (await tempDir('agent'));
  const fingerprint = options.fingerprint === undefined ? hub.fingerprint : options.fingerprint;
  const args = [
    AGENT_BIN,
    '--hub', options.hubUrl ?? hub.agentUrl,
    ...(options.token === null ? [] : ['--token', options.token ?? hub.agentToken ?? '']),
    // The agent pins the hub's certificate from the join command; a hub started with `insecure` needs the flag on both sides.
    ...((options.insecure ?? hub.fingerprint === null) ? ['--insecure'] : []),
    ...(fingerprint ? ['--fingerprint', fingerprint] : []),
    '--name', options.name ?? 'agent',
    '--data-dir', dataDir,
    '--slots', String(options.slots ?? 4),
    ...(options.tags && options.tags.length > 0 ? ['--tags', options.tags.join(',')] : []),
    ...(options.extraArgs ?? []),
  ];
  const [command, ...commandArgs] = [...(options.wrapper ?? []), process.execPath, ...args];
  const child = spawn(command as string, commandArgs, {
    env: {
      ...process.env,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      FARMBOY_LOAD_INTERVAL_MS: '300',
      FARMBOY_KILL_GRACE_MS: '1000',
      FARMBOY_CONNECT_TIMEOUT_MS: '5000',
      FARMBOY_STOP_GRACE_MS: '2000',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  cleanups.push(async () => void (await stop('SIGKILL')));
  return { process: child, dataDir, output: () => output, exited, stop };
}

/** Starts agents and waits until the hub lists all of them online. */
export async function startAgents(hub: TestHub, list: AgentOptions[]): Promise<TestAgent[]> {
  const agents = await Promise.all(list.map((options) => startAgent(hub, options)));
  try {
    await waitFor(() => hub.service.listAgents().filter((agent) => agent.status === 'online').length >= list.length, 15_000, 'agents online');
  } catch (error) {
    const outputs = agents.map((agent, index) => `--- agent ${index} (exit ${agent.process.exitCode}):\n${agent.output()}`).join('\n');
    throw new Error(`${(error as Error).message}\n${outputs}`);
  }
  return agents;
}

/**
 * Socket.io client options for a hand-made agent connection to the hub's
 * agent port. Such test clients skip the certificate check; the real agent
 * pins the fingerprint instead.
 */
export function rawAgentOptions(hub: Hub) {
  return { transports: ['websocket'], reconnection: false, ...(hub.fingerprint === null ? {} : { rejectUnauthorized: false }) };
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls until the check returns a truthy value, and returns that value. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A shell task that prints its config and finishes; the common fixture of integration tests. */
export async function createShellTask(hub: TestHub, source: string, name = 'shell task', defaultConfig: Record<string, unknown> = {}) {
  const response = await hub.api<{ id: string }>('POST', '/api/tasks', { name, runtime: 'shell', source, defaultConfig });
  if (response.status !== 201) throw new Error(`task not created: ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function createJob(hub: TestHub, job: Record<string, unknown>) {
  const response = await hub.api<{ id: string }>('POST', '/api/jobs', job);
  if (response.status !== 201) throw new Error(`job not created: ${JSON.stringify(response.body)}`);
  return response.body;
}
