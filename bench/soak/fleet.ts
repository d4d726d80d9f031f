/**
 * The processes of the soak: one hub (`bin/farmboy-hub.js`), agents that
 * each reach it through their own loopback TCP proxy, and the memory figures
 * of both, read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcpProxy } from '../../tests/faults/helpers/proxy.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HUB_BIN = path.join(ROOT, 'bin', 'farmboy-hub.js');
const AGENT_BIN = path.join(ROOT, 'agent', 'bin', 'farmboy-agent.js');

export interface SoakHub {
  process: ChildProcess;
  uiUrl: string;
  agentPort: number;
  fingerprint: string | null;
  agentToken: string;
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** Starts the hub command on ephemeral ports and waits for its banner. */
export async function startHub(dataDir: string, logFile: string): Promise<SoakHub> {
  const adminToken = randomBytes(24).toString('hex');
  const agentToken = randomBytes(24).toString('hex');
  const child = spawn(process.execPath, [HUB_BIN, '--data-dir', dataDir, '--agent-port', '0', '--ui-port', '0', '--log-level', 'warn'], {
    env: { ...process.env, FARMBOY_ADMIN_TOKEN: adminToken, FARMBOY_AGENT_TOKEN: agentToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
  const deadline = Date.now() + 30_000;
  let banner: RegExpExecArray | null = null;
  let agents: RegExpExecArray | null = null;
  while (banner === null || agents === null) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the hub did not start (log: ${logFile}):\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    banner = /Web UI:\s+http:\/\/[^\s/]+:(\d+)\//.exec(output);
    agents = /Agents:\s+port (\d+)(?:, TLS certificate (\S+))?/.exec(output);
  }
  const uiUrl = `http://127.0.0.1:${banner[1]}`;
  const api = async <T,>(method: string, route: string, body?: unknown) => {
    const response = await fetch(`${uiUrl}${route}`, {
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
    uiUrl,
    agentPort: Number(agents[1]),
    fingerprint: agents[2] ?? null,
    agentToken,
    api,
    stop: () => stopProcess(child, 'SIGTERM', 20_000),
  };
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

/** Sends a signal and waits for the exit; SIGKILL after `timeoutMs`. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
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
