/**
 * The agent's socket.io connection to the hub's /agent namespace: handshake,
 * hello on every connect, load reports, reconnects, and the parsing of every
 * message the hub sends. Handlers are registered once, when the socket is
 * created, so a reconnect never adds a second copy.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { AgentError } from './errors.js';
import { PinnedAgent, type PinMismatchError } from './pinning.js';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import {
  ACK_TIMEOUT_MS,
  AGENT_NAMESPACE,
  TERMINAL_REFUSALS,
  assignmentSchema,
  cancelSchema,
  drainSchema,
  eventBatchPayload,
  helloReplySchema,
  parseMessage,
  refusalSchema,
  rotateSchema,
  type AgentAuth,
  type AgentToHubEvents,
  type AssignReply,
  type Assignment,
  type CancelRequest,
  type EncodedEventBatch,
  type Hello,
  type HelloReply,
  type HubToAgentEvents,
  type LoadReport,
} from './protocol/index.js';

export interface ConnectionHandlers {
  buildHello(): Hello;
  handleHelloReply(reply: HelloReply): void;
  handleAssign(assignment: Assignment): AssignReply;
  handleCancel(request: CancelRequest): void;
  handleDrain(draining: boolean): void;
  /** The hub announced its next certificate, already verified; the agent stores the new pin. */
  handleRotate(fingerprint: string): void;
  buildLoadReport(): LoadReport;
  /** The connection is gone; events in flight count as unsent. */
  handleDisconnect(): void;
  /** The hub refused this agent for good, or was never reachable; the agent must exit. */
  handleFatal(error: AgentError): void;
}

export interface ConnectionOptions {
  hubUrl: string;
  auth: AgentAuth;
  /** Pinned certificate fingerprint of the hub; null for a plain http:// hub (--insecure). */
  fingerprint: string | null;
  /** Limit for the first successful connection; later ones are retried forever. */
  connectTimeoutMs: number;
  loadIntervalMs: number;
  log: Logger;
  handlers: ConnectionHandlers;
}

type AgentSocket = Socket<HubToAgentEvents, AgentToHubEvents>;

const RECONNECT_DELAY_MS = 1_000;
const RECONNECT_DELAY_MAX_MS = 30_000;

export class HubConnection {
  private readonly socket: AgentSocket;
  private readonly warnings: RateLimitedLog;
  private everConnected = false;
  private helloDone = false;
  private closed = false;
  /** Counts connections, so an ack that arrives after a reconnect is recognised as stale. */
  private connectionNumber = 0;
  private reconnectAttempt = 0;
  private lastError = 'no response';
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectDeadline: NodeJS.Timeout | null = null;
  private loadTimer: NodeJS.Timeout | null = null;
  private pinned: PinnedAgent | null = null;

  constructor(private readonly options: ConnectionOptions) {
    this.warnings = new RateLimitedLog(options.log);
    const socketOptions: Partial<ManagerOptions & SocketOptions> = {
      auth: options.auth,
      autoConnect: false,
      // WebSocket only: its connect errors carry the system's reason (ECONNREFUSED, ENOTFOUND...).
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: RECONNECT_DELAY_MS,
      reconnectionDelayMax: RECONNECT_DELAY_MAX_MS,
      randomizationFactor: 0.5,
    };
    if (options.fingerprint !== null) {
      this.pinned = new PinnedAgent(options.fingerprint, {
        onMismatch: (error) => this.handlePinMismatch(error),
        onFollow: (fingerprint) => this.followRotation(fingerprint),
      });
      // engine.io-client types `agent` as string | boolean, but on Node it hands the value to `ws`, which takes an https.Agent.
      Reflect.set(socketOptions, 'agent', this.pinned);
    }
    this.socket = io(`${options.hubUrl}${AGENT_NAMESPACE}`, socketOptions);
    this.registerHandlers();
  }

  get isConnected(): boolean {
    return this.socket.connected && this.helloDone;
  }

  start(): void {
    this.connectDeadline = setTimeout(() => this.handleConnectDeadline(), this.options.connectTimeoutMs);
    this.loadTimer = setInterval(() => this.sendLoad(), this.options.loadIntervalMs);
    this.socket.connect();
  }

  /** Sends one batch of run events; resolves with the hub's raw ack. */
  async sendEvents(batch: EncodedEventBatch): Promise<unknown> {
    if (!this.isConnected) throw new Error('not connected to the hub');
    return this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('events', eventBatchPayload(batch));
  }

  /** Authenticates later connections with the credential the hub issued instead of the enrollment token. */
  useCredential(credential: string): void {
    const { token: _token, ...auth } = this.options.auth;
    this.socket.auth = { ...auth, credential };
  }

  close(): void {
    this.closed = true;
    for (const timer of [this.reconnectTimer, this.connectDeadline]) if (timer !== null) clearTimeout(timer);
    if (this.loadTimer !== null) clearInterval(this.loadTimer);
    this.socket.close();
  }

  private registerHandlers(): void {
    const socket = this.socket;
    socket.on('connect', () => this.handleConnect());
    socket.on('connect_error', (error) => this.handleConnectError(error));
    socket.on('disconnect', (reason) => this.handleDisconnect(reason));
    socket.on('bye', (payload: unknown) => this.handleBye(payload));
    socket.on('assign', (payload: unknown, ack: unknown) => {
      const reply = this.replyToAssign(payload);
      if (typeof ack === 'function') ack(reply);
    });
    socket.on('cancel', (payload: unknown) => this.guard('cancel', () => this.handleCancel(payload)));
    socket.on('drain', (payload: unknown) => this.guard('drain', () => this.handleDrain(payload)));
    socket.on('rotate', (payload: unknown, ack: unknown) => {
      const accepted = this.acceptRotation(payload);
      if (typeof ack === 'function') ack({ accepted });
    });
  }

  private handleConnect(): void {
    this.everConnected = true;
    this.connectionNumber += 1;
    if (this.connectDeadline !== null) clearTimeout(this.connectDeadline);
    this.connectDeadline = null;
    this.options.log.info({ hub: this.options.hubUrl }, 'connected to the hub');
    void this.sendHello(this.connectionNumber);
  }

  private async sendHello(connection: number): Promise<void> {
    let raw: unknown;
    try {
      raw = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('hello', this.options.handlers.buildHello());
    } catch (error: unknown) {
      if (connection !== this.connectionNumber || !this.socket.connected) return;
      this.options.log.warn({ err: error }, 'hello not acknowledged by the hub, reconnecting');
      this.restart();
      return;
    }
    if (connection !== this.connectionNumber) return;
    const parsed = parseMessage(helloReplySchema, raw);
    if (!parsed.ok) {
      this.warnings.warn('invalid_hello_reply', { reason: parsed.reason }, 'invalid hello reply from the hub, reconnecting');
      this.restart();
      return;
    }
    this.helloDone = true;
    this.reconnectAttempt = 0;
    this.guard('hello reply', () => this.options.handlers.handleHelloReply(parsed.value));
  }

  private handleConnectError(error: Error & { data?: unknown; description?: unknown }): void {
    const refusal = parseMessage(refusalSchema, error.data);
    if (refusal.ok && TERMINAL_REFUSALS.has(refusal.value.code)) {
      this.fail(new AgentError('hub_refused', `Hub refused this agent: ${refusal.value.message}`));
      return;
    }
    this.lastError = describeConnectError(error);
    const hint = connectHint(this.lastError, this.options.fingerprint === null);
    this.warnings.warn('connect_error', { reason: this.lastError, ...(hint ? { hint } : {}) }, 'cannot connect to the hub, retrying');
    // A refusal by the hub's middleware leaves the socket inactive: socket.io does not retry those by itself.
    if (!this.socket.active) this.scheduleReconnect();
  }

  private handleDisconnect(reason: string): void {
    this.helloDone = false;
    this.options.handlers.handleDisconnect();
    if (this.closed) return;
    this.options.log.warn({ reason }, 'disconnected from the hub');
    // socket.io reconnects by itself after transport drops, but not after the server ended the connection.
    if (reason === 'io server disconnect' || reason === 'io client disconnect') this.scheduleReconnect();
  }

  private handleBye(payload: unknown): void {
    const parsed = parseMessage(refusalSchema, payload);
    if (!parsed.ok) {
      this.warnings.warn('invalid_bye', { reason: parsed.reason }, 'invalid bye from the hub, ignored');
      return;
    }
    if (TERMINAL_REFUSALS.has(parsed.value.code)) {
      this.fail(new AgentError('hub_refused', `Hub refused this agent: ${parsed.value.message}`));
      return;
    }
    this.options.log.warn({ code: parsed.value.code }, 'hub ended the connection, reconnecting');
  }

  private replyToAssign(payload: unknown): AssignReply {
    const parsed = parseMessage(assignmentSchema, payload);
    if (!parsed.ok) {
      this.warnings.warn('invalid_assign', { reason: parsed.reason }, 'invalid assign from the hub, rejected');
      return { accepted: false, reason: 'invalid' };
    }
    try {
      return this.options.handlers.handleAssign(parsed.value);
    } catch (error: unknown) {
      this.options.log.error({ err: error, runId: parsed.value.runId }, 'assign handler failed');
      return { accepted: false, reason: 'invalid' };
    }
  }

  private handleCancel(payload: unknown): void {
    const parsed = parseMessage(cancelSchema, payload);
    if (!parsed.ok) {
      this.warnings.warn('invalid_cancel', { reason: parsed.reason }, 'invalid cancel from the hub, ignored');
      return;
    }
    this.options.handlers.handleCancel(parsed.value);
  }

  private handleDrain(payload: unknown): void {
    const parsed = parseMessage(drainSchema, payload);
    if (!parsed.ok) {
      this.warnings.warn('invalid_drain', { reason: parsed.reason }, 'invalid drain from the hub, ignored');
      return;
    }
    this.options.handlers.handleDrain(parsed.value.draining);
  }

  private acceptRotation(payload: unknown): boolean {
    const parsed = parseMessage(rotateSchema, payload);
    if (!parsed.ok) {
      this.warnings.warn('invalid_rotate', { reason: parsed.reason }, 'invalid certificate rotation from the hub, rejected');
      return false;
    }
    const { fingerprint, signature } = parsed.value;
    if (this.pinned === null || !this.pinned.acceptRotation(fingerprint, signature)) {
      this.options.log.warn({ fingerprint }, 'certificate rotation with a bad signature rejected');
      return false;
    }
    this.guard('rotate', () => this.options.handlers.handleRotate(fingerprint));
    return true;
  }

  /** Moves the pin to a certificate the hub rotated to while this agent was away, as proven in the handshake. */
  private followRotation(fingerprint: string): void {
    this.options.log.info({ fingerprint }, 'missed certificate rotation verified');
    this.guard('rotate', () => this.options.handlers.handleRotate(fingerprint));
  }

  /** Runs a handler so that its exception is logged instead of crashing the agent. */
  private guard(handlerName: string, handler: () => void): void {
    try {
      handler();
    } catch (error: unknown) {
      this.options.log.error({ err: error, handler: handlerName }, 'hub message handler failed');
    }
  }

  private sendLoad(): void {
    if (!this.isConnected) return;
    try {
      this.socket.volatile.emit('load', this.options.handlers.buildLoadReport());
    } catch (error: unknown) {
      this.warnings.warn('load_report', { err: error }, 'could not build the load report');
    }
  }

  /** Drops the connection and opens a new one, which sends a fresh hello. */
  private restart(): void {
    this.socket.disconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return;
    const base = Math.min(RECONNECT_DELAY_MS * 2 ** this.reconnectAttempt, RECONNECT_DELAY_MAX_MS);
    const delay = Math.round(base * (0.5 + Math.random()));
    this.reconnectAttempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private handlePinMismatch(error: PinMismatchError): void {
    const message =
      `Refused the hub at ${this.options.hubUrl}: its certificate fingerprint is ${error.actual}, but this agent expects ${error.expected}. ` +
      'Nothing was sent to it. Check that --hub points at your Farmboy hub, and compare the fingerprint with the one the hub shows ' +
      "(farmboy-hub's output, or Add agent on the Fleet page). If the hub's certificate was replaced on purpose, start the agent with the new --fingerprint.";
    this.fail(new AgentError('hub_untrusted', message));
  }

  private handleConnectDeadline(): void {
    this.connectDeadline = null;
    if (this.everConnected || this.closed) return;
    const hint = connectHint(this.lastError, this.options.fingerprint === null);
    const advice = hint ? `Likely cause: ${hint}.` : 'Check the address and that farmboy-hub is running.';
    const message = `Cannot reach the hub at ${this.options.hubUrl}: ${this.lastError}. ${advice}`;
    this.fail(new AgentError('hub_unreachable', message));
  }

  private fail(error: AgentError): void {
    if (this.closed) return;
    this.close();
    this.options.handlers.handleFatal(error);
  }
}

/** Returns the likely cause of a connect error that names only a low-level symptom, or null. */
export function connectHint(reason: string, insecure: boolean): string | null {
  if (/wrong version number|packet length too long|unknown protocol/i.test(reason)) {
    return 'the port answered without TLS: check that --hub names the agent port from the join command, not the web UI port, and that the hub runs without --insecure';
  }
  if (insecure && /socket hang up|ECONNRESET/i.test(reason)) {
    return 'a hub that serves TLS closes plain connections: if the join command has --fingerprint, use its https:// address and fingerprint instead of --insecure';
  }
  if (/ECONNREFUSED/.test(reason)) return 'nothing listens at that address: check that the hub runs and that the host and port match its join command';
  return null;
}

/** Returns the most specific reason socket.io gives: the system error of the WebSocket, if there is one. */
function describeConnectError(error: Error & { description?: unknown }): string {
  const description = error.description;
  if (description instanceof Error) return description.message;
  if (typeof description === 'object' && description !== null && 'message' in description) {
    const message = (description as { message: unknown }).message;
    if (typeof message === 'string' && message !== '') return message;
  }
  return error.message;
}
