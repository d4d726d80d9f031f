/**
 * Real agent processes, started from the built `farmboy-agent` command with
 * their output in a log file beside their data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AGENT_BIN } from './build.js';
import { waitUntil, type BenchContext } from './context.js';
import { profileArgs, type HubProcess } from './hub.js';

export interface AgentProcess {
  readonly pid: number;
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Stops the agent with SIGTERM and waits for it; SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export interface AgentProcessOptions {
  name: string;
  slots: number;
  tags?: string[];
  /** Extra environment, such as FARMBOY_MAX_RUN_LOG_BYTES. */
  env?: Record<string, string>;
  logLevel?: string;
}

export async function startAgentProcess(context: BenchContext, hub: HubProcess, options: AgentProcessOptions): Promise<AgentProcess> {
  const root = await context.tempDir(`agent-${options.name}`);
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'agent.log');
  const logFd = openSync(logFile, 'a');
  const args = [...profileArgs('agent'), AGENT_BIN, '--hub', hub.agentUrl, '--token', hub.agentToken, '--name', options.name, '--data-dir', dataDir, '--slots', String(options.slots)];
  args.push(...(hub.fingerprint === null ? ['--insecure'] : ['--fingerprint', hub.fingerprint]));
  if (options.tags && options.tags.length > 0) args.push('--tags', options.tags.join(','));
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: options.logLevel ?? 'info', FARMBOY_STOP_GRACE_MS: '2000', FARMBOY_KILL_GRACE_MS: '1000', ...options.env },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  context.defer(stop);
  if (child.pid === undefined) throw new Error(`agent ${options.name} did not start; see ${logFile}`);
  return { pid: child.pid, name: options.name, child, logFile, stop };
}

interface AgentListEntry {
  name: string;
  status: string;
}

/** Starts agents and waits until the hub lists all of them online. */
export async function startAgentProcesses(context: BenchContext, hub: HubProcess, list: AgentProcessOptions[]): Promise<AgentProcess[]> {
  const agents = await Promise.all(list.map((options) => startAgentProcess(context, hub, options)));
  const names = new Set(list.map((options) => options.name));
  try {
    await waitUntil(
      async () => {
        const response = await hub.api<AgentListEntry[]>('GET', '/api/agents');
        return response.body.filter((agent) => names.has(agent.name) && agent.status === 'online').length === names.size;
      },
      30_000,
      `${names.size} agents online`,
      50,
    );
  } catch (error: unknown) {
    const tails = agents.map((agent) => `--- ${agent.name}:\n${tailOf(agent.logFile)}`).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tails}`);
  }
  return agents;
}

/** Returns the last lines of a log file, for error messages. */
export function tailOf(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
