/**
 * Physical limits that the benchmark figures are read against, measured in
 * the same run on the same machine: starting a process, a loopback round
 * trip, a socket.io round trip.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { io, type Socket as ClientSocket } from 'socket.io-client';
import { BARE_SERVER } from './build.js';
import type { BenchContext } from './context.js';
import { nowMs } from './stats.js';

export interface SpawnTiming {
  /** From spawn() until the child runs (Node's 'spawn' event). */
  startMs: number;
  /** From spawn() until the child exited and its pipes closed: start and reap. */
  reapMs: number;
}

const SPAWN_PROBE = fileURLToPath(new URL('./spawn-probe.mjs', import.meta.url));

/** Runs spawn-probe.mjs in a fresh Node process and returns what it printed. */
function probe<T>(mode: 'serial' | 'rate' | 'boundary', count: number, concurrency: number, command: string, args: string[], cwd?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SPAWN_PROBE, mode, String(count), String(concurrency), command, ...args], { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

/** Spawns `command` `count` times one after another, as the agent does (piped output), from a fresh Node process. */
export async function spawnSamples(count: number, command: string, args: string[], cwd?: string): Promise<SpawnTiming[]> {
  const result = await probe<{ startMs: number[]; reapMs: number[] }>('serial', count, 1, command, args, cwd);
  return result.startMs.map((startMs, index) => ({ startMs, reapMs: result.reapMs[index] ?? Number.NaN }));
}

/** Runs `total` spawns of `command` with `concurrency` at a time from a fresh Node process and returns processes per second. */
export async function spawnRate(total: number, concurrency: number, command: string, args: string[], cwd?: string): Promise<number> {
  return (await probe<{ perSecond: number }>('rate', total, concurrency, command, args, cwd)).perSecond;
}

/** Lateness in ms of spawning `command` from a timer set for each of the next `count` second boundaries, in a fresh Node process. */
export async function boundarySpawnLateness(count: number, command: string, args: string[]): Promise<number[]> {
  return (await probe<{ latenessMs: number[] }>('boundary', count, 1, command, args)).latenessMs;
}

/** Round trips of one byte over a loopback TCP connection, in ms. */
export async function tcpRoundTrips(count: number): Promise<number[]> {
  const server = net.createServer((socket) => socket.on('data', (data) => socket.write(data)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const samples: number[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      const started = nowMs();
      await new Promise<void>((resolve) => {
        client.once('data', () => resolve());
        client.write('x');
      });
      samples.push(nowMs() - started);
    }
  } finally {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return samples;
}

/** Runs `use` with a socket.io server and client on loopback, set up as the hub and an agent use them (WebSocket only). */
export async function withSocketIoPair<T>(use: (emit: (payload: unknown) => Promise<unknown>) => Promise<T>): Promise<T> {
  const httpServer = createHttpServer();
  const server = new Server(httpServer, { serveClient: false });
  server.of('/limit').on('connection', (socket) => socket.on('echo', (payload: unknown, ack: (reply: unknown) => void) => ack(payload)));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  const client = io(`http://127.0.0.1:${port}/limit`, { transports: ['websocket'], reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    return await use((payload) => client.emitWithAck('echo', payload));
  } finally {
    client.close();
    await server.close();
  }
}

/** Round trips of a small socket.io message with an ack on loopback, in ms. */
export async function socketIoRoundTrips(count: number): Promise<number[]> {
  return withSocketIoPair(async (emit) => {
    const samples: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const started = nowMs();
      await emit({ runId: 'x', seq: index });
      samples.push(nowMs() - started);
    }
    return samples;
  });
}

/** Starts `node -e 0` `count` times from a fresh Node process and returns each start-to-exit time in ms. */
export async function nodeStarts(count: number): Promise<number[]> {
  const samples = await spawnSamples(count, process.execPath, ['-e', '0']);
  return samples.map((sample) => sample.reapMs);
}

export interface BareServer {
  pid: number;
  url: string;
}

/** Starts bare-server.ts in its own process; it ends with the benchmark. */
export async function startBareServer(context: BenchContext): Promise<BareServer> {
  const child = spawn(process.execPath, [BARE_SERVER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  context.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare socket.io server not ready within 30 s')), 30_000);
    child.on('message', (message: { type: string; url: string; pid: number }) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({ pid: message.pid, url: message.url });
    });
  });
}

/** Connects `count` socket.io clients to the bare server's /agent namespace over TLS. */
export async function connectBareClients(url: string, count: number, concurrency = 50): Promise<ClientSocket[]> {
  const clients: ClientSocket[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const client = io(`${url}/agent`, { transports: ['websocket'], forceNew: true, reconnection: false, rejectUnauthorized: false });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('connect_error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return clients;
}

/** Acknowledged messages per second through the bare server, each client keeping one in flight for `durationMs`. */
export async function bareAckRate(clients: ClientSocket[], durationMs: number): Promise<number> {
  let done = 0;
  const deadline = nowMs() + durationMs;
  const started = nowMs();
  await Promise.all(
    clients.map(async (client, index) => {
      while (nowMs() < deadline) {
        await client.emitWithAck('echo', { runId: `run-${index}`, seq: done });
        done += 1;
      }
    }),
  );
  return done / ((nowMs() - started) / 1000);
}
