/**
 * A throwaway hub for the agent's connection tests: a socket.io server on
 * 127.0.0.1 that speaks the protocol, records what the agent sends and lets
 * the test decide how to respond.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server, type Socket } from 'socket.io';
import {
  AGENT_NAMESPACE,
  LIMITS,
  agentAuthSchema,
  helloSchema,
  loadReportSchema,
  type AgentAuth,
  type AgentToHubEvents,
  type Hello,
  type HelloReply,
  type HubToAgentEvents,
  type LoadReport,
  type Refusal,
  type RunEvent,
} from '../src/protocol/index.js';
import { AGENT_BIN, decodeBatch } from './helpers.js';

export type HubSocket = Socket<AgentToHubEvents, HubToAgentEvents>;

export interface FakeHubOptions {
  token?: string;
  /** Refusal sent to every handshake, for refusal tests. */
  refuseWith?: Refusal;
  /** Builds the hello reply; by default it acknowledges what the hub has applied. */
  helloReply?: (hello: Hello, hub: FakeHub) => HelloReply;
  /** Whether to acknowledge `events`; when it returns false the batch is recorded only. */
  ackEvents?: (batchNumber: number, socket: HubSocket) => boolean;
}

export class FakeHub {
  readonly auths: AgentAuth[] = [];
  readonly hellos: Hello[] = [];
  readonly loads: LoadReport[] = [];
  /** Every event received, duplicates included. */
  readonly received: RunEvent[] = [];
  /** How each `events` payload came: as encoded bytes or as an object, with its event count. */
  readonly payloads: Array<{ binary: boolean; events: number }> = [];
  /** Highest contiguous seq applied per run, as a real hub would track it. */
  readonly applied = new Map<string, number>();
  socket: HubSocket | null = null;
  private batchNumber = 0;
  private readonly io: Server<AgentToHubEvents, HubToAgentEvents>;
  private readonly http: HttpServer;

  private constructor(private readonly options: FakeHubOptions) {
    this.http = createServer();
    this.io = new Server(this.http, { maxHttpBufferSize: LIMITS.maxMessageBytes });
    const agents = this.io.of(AGENT_NAMESPACE);
    agents.use((socket, next) => {
      const refusal = this.checkHandshake(socket.handshake.auth);
      if (refusal === null) return next();
      const error = new Error(refusal.message) as Error & { data: Refusal };
      error.data = refusal;
      next(error);
    });
    agents.on('connection', (socket) => this.accept(socket));
  }

  static async start(options: FakeHubOptions = {}): Promise<FakeHub> {
    const hub = new FakeHub(options);
    await new Promise<void>((resolve) => hub.http.listen(0, '127.0.0.1', resolve));
    return hub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** Applied events of one run in seq order, each once. */
  appliedEvents(runId: string): RunEvent[] {
    const bySeq = new Map<number, RunEvent>();
    for (const event of this.received) if (event.runId === runId) bySeq.set(event.seq, event);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    await new Promise<void>((resolve) => this.io.close(() => resolve()));
  }

  private checkHandshake(auth: unknown): Refusal | null {
    if (this.options.refuseWith !== undefined) return this.options.refuseWith;
    const parsed = agentAuthSchema.safeParse(auth);
    if (!parsed.success) return { code: 'invalid_handshake', message: 'the handshake is invalid' };
    if (parsed.data.token !== (this.options.token ?? 'test-token')) return { code: 'bad_token', message: 'the token is not valid' };
    this.auths.push(parsed.data);
    return null;
  }

  private accept(socket: HubSocket): void {
    this.socket = socket;
    socket.on('hello', (payload, ack) => {
      const hello = helloSchema.parse(payload);
      this.hellos.push(hello);
      ack(this.options.helloReply?.(hello, this) ?? this.defaultHelloReply(hello));
    });
    socket.on('load', (payload) => {
      this.loads.push(loadReportSchema.parse(payload));
    });
    socket.on('events', (payload, ack) => {
      const batch = decodeBatch(payload);
      this.payloads.push({ binary: payload instanceof Uint8Array, events: batch.events.length });
      this.received.push(...batch.events);
      this.batchNumber += 1;
      if (!(this.options.ackEvents?.(this.batchNumber, socket) ?? true)) return;
      ack({ acked: this.apply(batch.events), cancel: [] });
    });
  }

  private defaultHelloReply(hello: Hello): HelloReply {
    const acked: Record<string, number> = {};
    for (const run of hello.runs) acked[run.runId] = this.applied.get(run.runId) ?? 0;
    return { cancel: [], acked, draining: false };
  }

  /** Applies events in seq order per run, ignoring duplicates and gaps, and returns the acked seqs. */
  private apply(events: RunEvent[]): Record<string, number> {
    const acked: Record<string, number> = {};
    for (const event of events) {
      const last = this.applied.get(event.runId) ?? 0;
      if (event.seq === last + 1) this.applied.set(event.runId, event.seq);
      acked[event.runId] = this.applied.get(event.runId) ?? 0;
    }
    return acked;
  }
}

export interface AgentProcess {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the built agent command; the test must end it. */
export function startAgent(args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  const child = spawn(process.execPath, [AGENT_BIN, ...args], {
    env: { ...process.env, FARMBOY_LOAD_INTERVAL_MS: '100', FARMBOY_KILL_GRACE_MS: '200', FARMBOY_STOP_GRACE_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

export async function until(condition: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}
