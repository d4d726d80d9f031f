/**
 * A simulated agent: it speaks the agent protocol of agent/src/protocol over
 * a real socket.io connection (TLS, WebSocket) but runs no process. Each
 * assignment is accepted and finished at once with `started`, an optional
 * log event and `finished`, sent the way the real outbox sends them: one
 * batch in flight, everything that arrived meanwhile in the next one. Many
 * of them in one load generator put the hub under the load of a large fleet.
 */
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import {
  ACK_TIMEOUT_MS,
  AGENT_NAMESPACE,
  PROTOCOL_VERSION,
  assignmentSchema,
  encodeEventBatch,
  eventBatchPayload,
  parseMessage,
  type AgentToHubEvents,
  type HubToAgentEvents,
  type RunEvent,
} from '../../agent/src/protocol/index.js';

export interface SimAgentOptions {
  url: string;
  token: string;
  name: string;
  slots: number;
  /** Interval of load reports in ms; 0 sends none. */
  loadIntervalMs: number;
  /** Output lines reported by each run, in one log event. */
  linesPerRun: number;
}

const MAX_EVENTS_PER_BATCH = 5_000;

export class SimAgent {
  readonly agentId = randomUUID();
  /** Assignments accepted so far. */
  assigned = 0;
  private readonly socket: Socket<HubToAgentEvents, AgentToHubEvents>;
  private queue: RunEvent[] = [];
  private inFlight = false;
  private loadTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: SimAgentOptions) {
    this.socket = io(`${options.url}${AGENT_NAMESPACE}`, {
      auth: { protocolVersion: PROTOCOL_VERSION, agentId: this.agentId, name: options.name, version: 'bench', token: options.token },
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      autoConnect: false,
      // The hub's certificate is self-signed; the real agent pins its fingerprint, a load generator on loopback need not.
      rejectUnauthorized: false,
    });
    this.socket.on('assign', (payload: unknown, ack: unknown) => this.handleAssign(payload, ack));
  }

  /** Connects and sends `hello`; resolves once the hub acknowledged it. */
  async connect(timeoutMs = 30_000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.options.name}: no connection within ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once('connect_error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      this.socket.connect();
    });
    await this.socket.timeout(timeoutMs).emitWithAck('hello', {
      facts: { hostname: 'sim', platform: 'linux', arch: 'x64', cpus: 2, memoryBytes: 8 * 1024 ** 3, nodeVersion: process.version },
      tags: [],
      slots: this.options.slots,
      maxLoad: null,
      runs: [],
    });
    if (this.options.loadIntervalMs > 0) {
      this.loadTimer = setInterval(() => this.sendLoad(), this.options.loadIntervalMs);
    }
  }

  close(): void {
    if (this.loadTimer !== null) clearInterval(this.loadTimer);
    this.socket.close();
  }

  private sendLoad(): void {
    this.socket.volatile.emit('load', { load: 0.1, cpu: 0.1, freeMemoryBytes: 4 * 1024 ** 3, running: 0 });
  }

  private handleAssign(payload: unknown, ack: unknown): void {
    const parsed = parseMessage(assignmentSchema, payload);
    if (typeof ack !== 'function') return;
    if (!parsed.ok) {
      ack({ accepted: false, reason: 'invalid' });
      return;
    }
    ack({ accepted: true });
    this.assigned += 1;
    const { runId, attempt } = parsed.value;
    const at = Date.now();
    const base = { runId, attempt, at };
    this.queue.push({ ...base, seq: 1, type: 'started', pid: null });
    let seq = 2;
    if (this.options.linesPerRun > 0) {
      const lines = Array.from({ length: this.options.linesPerRun }, (_, index) => ({ t: at, s: 'stdout' as const, m: `line ${index + 1}` }));
      this.queue.push({ ...base, seq: seq++, type: 'log', lines });
    }
    this.queue.push({ ...base, seq, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false });
    this.flush();
  }

  /** Sends what is queued when no batch is in flight. */
  private flush(): void {
    if (this.inFlight || this.queue.length === 0 || !this.socket.connected) return;
    const batch = this.queue.slice(0, MAX_EVENTS_PER_BATCH);
    this.queue = this.queue.slice(batch.length);
    this.inFlight = true;
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      // Sent as the real agent sends it, so the hub does the same work for it.
      .emitWithAck('events', eventBatchPayload(encodeEventBatch(batch.map((event) => Buffer.from(JSON.stringify(event))))))
      .then(
        () => {
          this.inFlight = false;
          this.flush();
        },
        () => {
          // Resent in front of what came meanwhile, as the real outbox does after a missing ack.
          this.inFlight = false;
          this.queue = batch.concat(this.queue);
          setTimeout(() => this.flush(), 100);
        },
      );
  }
}

/** Connects `count` simulated agents, `concurrency` at a time, and returns them once all are connected. */
export async function connectSimAgents(count: number, concurrency: number, make: (index: number) => SimAgent): Promise<SimAgent[]> {
  const agents: SimAgent[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const agent = make(next++);
      agents.push(agent);
      await agent.connect();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return agents;
}
