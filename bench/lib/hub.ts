/**
 * Starts a hub in its own process (hub-host.ts) and talks to it: over IPC
 * for usage figures and run transitions, over the HTTP API for everything a
 * user would do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { BenchContext } from './context.js';
import { HUB_HOST } from './build.js';
import type { HubHostMessage, HubHostOptions, HubHostRequest, WatchRequest } from './hub-host-protocol.js';

export interface HubProcess {
  readonly pid: number;
  readonly uiUrl: string;
  readonly agentUrl: string;
  readonly adminToken: string;
  readonly agentToken: string;
  /** Fingerprint of the agent port's TLS certificate, for the agents' --fingerprint. */
  readonly fingerprint: string | null;
  readonly dataDir: string;
  readonly logFile: string;
  /** Wall-clock ms (performance.timeOrigin based) at which the host reported ready. */
  readonly readyAt: number;
  api<T = unknown>(method: string, route: string, body?: unknown): Promise<ApiResponse<T>>;
  /** Messages the host sends on its own: run transitions and output lines, once `watch` is on. */
  onMessage(listener: (message: HubHostMessage) => void): () => void;
  watch(request: WatchRequest): Promise<void>;
  usage(): Promise<{ cpu: NodeJS.CpuUsage; memory: NodeJS.MemoryUsage }>;
  /** Dispatch passes that placed runs since the last call: ms per run placed, sending included. */
  dispatchTimings(): Promise<number[]>;
  /** Placement decisions since the last call, in ms, from the hub's `farmboy:placement` diagnostics channel. */
  placementTimings(): Promise<number[]>;
  /** Stops the hub gracefully (store flushed, lock released) and waits for the process to exit. */
  stop(): Promise<void>;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export interface HubProcessOptions {
  dataDir?: string;
  logLevel?: string;
  tickMs?: number;
  /** How long to wait for the hub to be ready; large stores take longer. */
  readyTimeoutMs?: number;
  /** Built renderer the hub serves at `/`. */
  rendererDir?: string;
}

/**
 * Node options that write a CPU profile of the process when
 * FARMBOY_BENCH_CPU_PROF names a directory, to find where a missed budget's
 * time goes.
 */
export function profileArgs(kind: string): string[] {
  const dir = process.env.FARMBOY_BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', path.join(dir, kind)] : [];
}

/** Starts a hub process with fresh tokens and a data directory of its own unless one is given. */
export async function startHubProcess(context: BenchContext, options: HubProcessOptions = {}): Promise<HubProcess> {
  const dataDir = options.dataDir ?? path.join(await context.tempDir('hub'), 'data');
  const hostOptions: HubHostOptions = {
    dataDir,
    adminToken: randomBytes(24).toString('hex'),
    agentToken: randomBytes(24).toString('hex'),
    logLevel: options.logLevel ?? 'info',
    ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
    ...(options.rendererDir === undefined ? {} : { rendererDir: options.rendererDir }),
  };
  const logFile = path.join(await context.tempDir('hub-log'), 'hub.log');
  const logFd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...profileArgs('hub'), HUB_HOST], {
    env: { ...process.env, FARMBOY_BENCH_HUB: JSON.stringify(hostOptions) },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let handle: HubProcess | null = null;
  context.defer(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // A graceful stop flushes the store and lets --cpu-prof write its profile; SIGKILL after 15 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    if (handle) await handle.stop();
    else child.kill('SIGKILL');
    await exited;
    clearTimeout(timer);
  });
  const ready = await waitReady(child, options.readyTimeoutMs ?? 30_000, logFile);
  handle = createHandle(child, ready, hostOptions, logFile, exited);
  return handle;
}

function waitReady(child: ChildProcess, timeoutMs: number, logFile: string): Promise<Extract<HubHostMessage, { type: 'ready' }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub host not ready within ${timeoutMs} ms; see ${logFile}`)), timeoutMs);
    child.on('message', (message: HubHostMessage) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub host exited with code ${code} before it was ready; see ${logFile}`));
    });
  });
}

function createHandle(
  child: ChildProcess,
  ready: Extract<HubHostMessage, { type: 'ready' }>,
  options: HubHostOptions,
  logFile: string,
  exited: Promise<void>,
): HubProcess {
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  const listeners = new Set<(message: HubHostMessage) => void>();
  child.on('message', (message: HubHostMessage) => {
    if (message.type === 'reply') {
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    } else {
      for (const listener of listeners) listener(message);
    }
  });
  const request = (method: HubHostRequest['method'], params?: unknown): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, method, params } satisfies HubHostRequest);
    });

  return {
    pid: ready.pid,
    uiUrl: ready.uiUrl,
    agentUrl: ready.agentUrl,
    adminToken: options.adminToken,
    agentToken: options.agentToken,
    fingerprint: ready.fingerprint,
    dataDir: options.dataDir,
    logFile,
    readyAt: ready.readyAt,
    api: (method, route, body) => callApi(ready.uiUrl, options.adminToken, method, route, body),
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    watch: async (watchRequest) => void (await request('watch', watchRequest)),
    usage: async () => (await request('usage')) as { cpu: NodeJS.CpuUsage; memory: NodeJS.MemoryUsage },
    dispatchTimings: async () => (await request('dispatchTimings')) as number[],
    placementTimings: async () => (await request('placementTimings')) as number[],
    async stop() {
      // The host exits once the hub has stopped; its reply may be lost with the channel, so the exit is what counts.
      if (child.connected) void request('stop');
      await exited;
    },
  };
}

/**
 * One keep-alive connection pool for every API call. A call through node:http
 * takes about 0.15 ms of the client's own time on loopback, fetch about
 * 0.5 ms, which the dispatch figures would count as the hub's.
 */
const apiAgent = new http.Agent({ keepAlive: true });

export function callApi<T>(baseUrl: string, token: string, method: string, route: string, body?: unknown): Promise<ApiResponse<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const request = http.request(`${baseUrl}${route}`, { method, headers, agent: apiAgent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', reject);
      response.on('end', () => {
        const isJson = response.headers['content-type']?.includes('application/json') ?? false;
        resolve({ status: response.statusCode ?? 0, body: (isJson && text ? JSON.parse(text) : text) as T });
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}

/** Creates a task through the API and returns its id; throws with the API's reply when it is rejected. */
export async function createTask(hub: HubProcess, runtime: 'shell' | 'node', source: string, defaultConfig: Record<string, unknown> = {}): Promise<string> {
  const response = await hub.api<{ id: string }>('POST', '/api/tasks', { name: `bench ${runtime} task`, runtime, source, defaultConfig });
  if (response.status !== 201) throw new Error(`task not created: ${JSON.stringify(response.body)}`);
  return response.body.id;
}

export async function createJob(hub: HubProcess, job: Record<string, unknown>): Promise<string> {
  const response = await hub.api<{ id: string }>('POST', '/api/jobs', job);
  if (response.status !== 201) throw new Error(`job not created: ${JSON.stringify(response.body)}`);
  return response.body.id;
}

/** Queues an ad-hoc run of a task through the API ("run now") and returns the run id. */
export async function runTask(hub: HubProcess, taskId: string, tags: string[] = []): Promise<string> {
  const response = await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, tags.length > 0 ? { tags } : {});
  if (response.status !== 201) throw new Error(`run not queued: ${JSON.stringify(response.body)}`);
  return response.body.id;
}
