/**
 * The processes of the soak: one hub (`bin/farmboy-hub.js`), agents that
 * each reach it through their own loopback TCP proxy, and the memory figures
 * of both, read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpProxy } from '../../tests/faults/helpers/proxy.js';
import { startHubCommand, stopProcess, type HubCommand } from '../../tests/helpers/hub-command.js';


export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AGENT_BIN = path.join(ROOT, 'agent', 'bin', 'farmboy-agent.js');

export type SoakHub = HubCommand & { stop(): Promise<void> };

/** Starts the hub command on ephemeral ports and waits for its banner; its log goes to `logFile`. */
export async function startHub(dataDir: string, logFile: string): Promise<SoakHub> {
  const hub = await startHubCommand(dataDir, { onStderr: (chunk) => appendFileSync(logFile, chunk), startTimeoutMs: 30_000 });
  return { ...hub, stop: () => stopProcess(hub.process, 'SIGTERM', 20_000) };
}

/** One agent with its proxy; `kill` and `restart` keep its data directory, so it comes back as the same agent. */
export class SoakAgent {
  process: ChildProcess | null = null;
  restarts = 0;

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly proxy: TcpProxy,
    private readonly hub: SoakHub,
    private readonly logFile: string,
  ) {}

  static async create(name: string, dataDir: string, hub: SoakHub, logFile: string): Promise<SoakAgent> {
    return new SoakAgent(name, dataDir, await TcpProxy.start(hub.agentPort), hub, logFile);
  }

  get pid(): number | null {
    return this.process?.pid ?? null;
  }

  start(): void {
    const scheme = this.hub.fingerprint === null ? 'http' : 'https';
    const args = [
      AGENT_BIN,
      '--hub', `${scheme}://127.0.0.1:${this.proxy.port}`,
      '--token', this.hub.agentToken,
      ...(this.hub.fingerprint === null ? ['--insecure'] : ['--fingerprint', this.hub.fingerprint]),
      '--name', this.name,
      '--data-dir', this.dataDir,
      '--slots', '2',
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, LOG_LEVEL: 'warn', FARMBOY_KILL_GRACE_MS: '1000', FARMBOY_STOP_GRACE_MS: '2000', FARMBOY_LOAD_INTERVAL_MS: '1000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => appendFileSync(this.logFile, chunk));
    this.process = child;
  }

  /** SIGKILL: the agent's task processes stay behind until its next start ends them. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (child) await stopProcess(child, 'SIGKILL', 5_000);
  }

  restart(): void {
    this.restarts += 1;
    this.start();
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (child) await stopProcess(child, 'SIGTERM', 15_000);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.proxy.close();
  }
}

/** Resident memory of a process in bytes, from /proc; null where unavailable. */
export function residentBytes(pid: number | null | undefined): number | null {
  if (pid === null || pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}
