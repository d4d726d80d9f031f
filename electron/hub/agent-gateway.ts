/**
 * The agents' gateway: the /agent socket.io namespace on the agent port.
 * It checks each handshake, parses every incoming payload against the
 * protocol before anything else sees it, and turns the run manager's
 * requests into messages to one agent.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import {
  ACK_TIMEOUT_MS,
  AGENT_NAMESPACE,
  LIMITS,
  PROTOCOL_VERSION,
  agentAuthSchema,
  agentToHubSchemas,
  assignReplySchema,
  parseMessage,
  type AgentToHubEvents,
  type AssignReply,
  type Assignment,
  type CancelReason,
  type HubToAgentEvents,
  type ParseResult,
  type Refusal,
  type RefusalCode,
  type RunRef,
} from 'farmboy-agent/protocol';
import type { Fleet } from './fleet.js';
import { RateLimitedLog, type Logger } from './logger.js';
import type { AgentLink, RunManager } from './runs.js';

interface AgentSocketData {
  agentId: string;
  name: string;
  version: string;
}

type AgentSocket = Socket<AgentToHubEvents, HubToAgentEvents, Record<string, never>, AgentSocketData>;

export interface AgentGatewayOptions {
  httpServer: HttpServer;
  fleet: Fleet;
  runs: RunManager;
  log: Logger;
  /** True when the token may enroll an agent. */
  acceptsToken(token: string): boolean;
  /** Called after an agent joins, leaves or reports; the hub persists and pushes it. */
  onAgentChanged(agentId: string): void;
  hubVersion: string;
}

/** Builds the error a socket.io middleware passes to refuse a connection; the agent reads `data`. */
function refusal(code: RefusalCode, message: string): Error & { data: Refusal } {
  return Object.assign(new Error(message), { data: { code, message } });
}

export class AgentGateway implements AgentLink {
  private readonly io: Server<AgentToHubEvents, HubToAgentEvents, Record<string, never>, AgentSocketData>;
  private readonly sockets = new Map<string, AgentSocket>();
  private readonly invalid: RateLimitedLog;

  constructor(private readonly options: AgentGatewayOptions) {
    this.invalid = new RateLimitedLog(options.log);
    this.io = new Server(options.httpServer, {
      maxHttpBufferSize: LIMITS.maxMessageBytes,
      // Under the idle timeout of common proxies (30-60 s), and a dead peer is noticed within 20 s.
      pingInterval: 10_000,
      pingTimeout: 10_000,
      serveClient: false,
      cors: { origin: false },
    });
    const namespace = this.io.of(AGENT_NAMESPACE);
    namespace.use((socket, next) => next(this.authenticate(socket)));
    namespace.on('connection', (socket) => this.onConnection(socket));
  }

  private authenticate(socket: AgentSocket): Error | undefined {
    const address = socket.handshake.address;
    const auth = parseMessage(agentAuthSchema, socket.handshake.auth);
    if (!auth.ok) {
      this.invalid.warn(`handshake:${address}`, { address, reason: auth.reason }, 'agent handshake rejected: invalid');
      return refusal('invalid_handshake', `The hub could not read this agent's handshake: ${auth.reason}`);
    }
    const { agentId, name, version, protocolVersion, token } = auth.value;
    if (protocolVersion !== PROTOCOL_VERSION) {
      this.invalid.warn(`protocol:${agentId}`, { agentId, address, protocolVersion }, 'agent handshake rejected: protocol version');
      return refusal(
        'protocol_mismatch',
        `This agent speaks protocol version ${protocolVersion} but the hub (Farmboy ${this.options.hubVersion}) speaks version ${PROTOCOL_VERSION}. Install the farmboy-agent release that matches the hub.`,
      );
    }
    if (!this.options.acceptsToken(token)) {
      this.invalid.warn(`token:${address}`, { agentId, address }, 'agent handshake rejected: enrollment token');
      return refusal('bad_token', 'The hub did not accept the enrollment token. Copy the join command from the hub again.');
    }
    socket.data = { agentId, name, version };
    return undefined;
  }

  private onConnection(socket: AgentSocket): void {
    const { agentId } = socket.data;
    const previous = this.sockets.get(agentId);
    if (previous && previous.id !== socket.id) {
      this.options.log.warn({ agentId }, 'agent connection replaced by a newer one');
      previous.emit('bye', { code: 'replaced', message: 'Another connection with the same agent id took over.' });
      previous.disconnect(true);
    }
    this.sockets.set(agentId, socket);

    socket.on('hello', (payload, ack) => this.onHello(socket, payload, ack));
    socket.on('load', (payload) => this.onLoad(socket, payload));
    socket.on('events', (payload, ack) => this.onEvents(socket, payload, ack));
    socket.on('disconnect', (reason) => this.onDisconnect(socket, reason));
  }

  private parse<T>(socket: AgentSocket, event: keyof AgentToHubEvents, schema: z.ZodType<T>, payload: unknown): ParseResult<T> {
    const parsed = parseMessage(schema, payload);
    if (!parsed.ok) {
      const { agentId } = socket.data;
      this.invalid.warn(`${event}:${agentId}`, { agentId, event, reason: parsed.reason }, 'invalid message from agent dropped');
    }
    return parsed;
  }

  private onHello(socket: AgentSocket, payload: unknown, ack: unknown): void {
    const parsed = this.parse(socket, 'hello', agentToHubSchemas.hello, payload);
    if (!parsed.ok || typeof ack !== 'function') return;
    const { agentId, name, version } = socket.data;
    const now = Date.now();
    const session = this.options.fleet.connect(agentId, name, version, parsed.value, now);
    const reconciled = this.options.runs.reconcile(agentId, parsed.value.runs, now);
    ack({ ...reconciled, draining: session.record.draining });
    this.options.log.info({ agentId, name, slots: parsed.value.slots, tags: parsed.value.tags }, 'agent joined');
    this.options.onAgentChanged(agentId);
  }

  private onLoad(socket: AgentSocket, payload: unknown): void {
    const parsed = this.parse(socket, 'load', agentToHubSchemas.load, payload);
    if (!parsed.ok) return;
    this.options.fleet.reportLoad(socket.data.agentId, parsed.value, Date.now());
    this.options.onAgentChanged(socket.data.agentId);
    this.options.runs.dispatchSoon();
  }

  private onEvents(socket: AgentSocket, payload: unknown, ack: unknown): void {
    const parsed = this.parse(socket, 'events', agentToHubSchemas.events, payload);
    if (!parsed.ok || typeof ack !== 'function') return;
    ack(this.options.runs.applyEvents(socket.data.agentId, parsed.value.events, Date.now()));
  }

  private onDisconnect(socket: AgentSocket, reason: string): void {
    const { agentId } = socket.data;
    if (this.sockets.get(agentId) !== socket) return;
    this.sockets.delete(agentId);
    const now = Date.now();
    this.options.fleet.disconnect(agentId, now);
    this.options.runs.agentDisconnected(agentId, now);
    this.options.log.info({ agentId, reason }, 'agent left');
    this.options.onAgentChanged(agentId);
  }

  // -------------------------------------------------------------------------
  // Requests to agents

  async assign(agentId: string, assignment: Assignment): Promise<AssignReply | null> {
    const socket = this.sockets.get(agentId);
    if (!socket) return null;
    try {
      const reply: unknown = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('assign', assignment);
      const parsed = parseMessage(assignReplySchema, reply);
      if (parsed.ok) return parsed.value;
      this.invalid.warn(`assign-reply:${agentId}`, { agentId, reason: parsed.reason }, 'invalid assignment reply from agent');
      return null;
    } catch {
      return null;
    }
  }

  cancel(agentId: string, ref: RunRef, reason: CancelReason): void {
    this.sockets.get(agentId)?.emit('cancel', { ...ref, reason });
  }

  setDraining(agentId: string, draining: boolean): void {
    this.sockets.get(agentId)?.emit('drain', { draining });
  }

  /** Tells a forgotten agent to stop and closes its connection. */
  dismiss(agentId: string): void {
    const socket = this.sockets.get(agentId);
    if (!socket) return;
    socket.emit('bye', { code: 'agent_forgotten', message: 'This agent was removed from the fleet on the hub.' });
    socket.disconnect(true);
  }

  isConnected(agentId: string): boolean {
    return this.sockets.has(agentId);
  }

  async close(): Promise<void> {
    this.io.disconnectSockets(true);
    await this.io.close();
  }
}
