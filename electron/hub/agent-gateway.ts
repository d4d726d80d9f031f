/**
 * The agents' gateway: the /agent socket.io namespace on the agent port.
 * It checks each handshake, parses every incoming payload against the
 * protocol before anything else sees it, and turns the run manager's
 * requests into messages to one agent.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
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
  decodeEventBatch,
  parseMessage,
  rotateReplySchema,
  type AgentToHubEvents,
  type AssignReply,
  type Assignment,
  type CancelReason,
  type HubToAgentEvents,
  type ParseResult,
  type Refusal,
  type RefusalCode,
  type RotateRequest,
  type RunEvent,
  type RunRef,
} from 'farmboy-agent/protocol';
import { HubError } from './errors.js';
import { TlsIdentityError, commitRotation, prepareRotation, stapleRotations, type HubTlsIdentity, type RotationStapler } from './tls.js';
import type { AgentAuthority } from './agent-auth.js';
import { OutputMasker, RunSecrets, isSealed, type SecretBox } from './secrets.js';
import { isFinal } from './model.js';
import { CappedRuns, DEFAULT_OUTPUT_RATE, OutputBucket, limitBatch, type OutputRate, type RunTotals } from './event-limits.js';
import type { Fleet } from './fleet.js';
import { RateLimitedLog, type Logger } from './logger.js';
import type { AgentLink, RunManager } from './runs.js';

interface AgentSocketData {
  agentId: string;
  name: string;
  version: string;
  /** Enrollment token of a handshake without a credential; the hello reply then carries a new credential. */
  enrollTokenId: string | null;
  /** Set after a credential was issued, until the agent's next message shows it received the hello reply. */
  credentialUnconfirmed: boolean;
}

type AgentSocket = Socket<AgentToHubEvents, HubToAgentEvents, Record<string, never>, AgentSocketData>;

export interface AgentGatewayOptions {
  httpServer: HttpServer | HttpsServer;
  fleet: Fleet;
  runs: RunManager;
  log: Logger;
  /** Checks enrollment tokens and agent credentials, and issues credentials. */
  authority: AgentAuthority;
  /** Called after an agent joins, leaves or reports; the hub persists and pushes it. */
  onAgentChanged(agentId: string): void;
  hubVersion: string;
  /** Per-agent limit on output volume; the default suits real fleets, tests set a small one. */
  outputRate?: OutputRate;
  /** Opens the sealed secret values of job environments. */
  secrets: SecretBox;
  /** The TLS identity of the agent port and where it is kept; null when the port runs without TLS. */
  tls: { dataDir: string; identity: HubTlsIdentity } | null;
}

/** Builds the error a socket.io middleware passes to refuse a connection; the agent reads `data`. */
function refusal(code: RefusalCode, message: string): Error & { data: Refusal } {
  return Object.assign(new Error(message), { data: { code, message } });
}

export class AgentGateway implements AgentLink {
  private readonly io: Server<AgentToHubEvents, HubToAgentEvents, Record<string, never>, AgentSocketData>;
  private readonly sockets = new Map<string, AgentSocket>();
  private readonly invalid: RateLimitedLog;
  /**
   * Output volume per agent id, kept across reconnects so that reconnecting
   * does not refill it, and dropped once a disconnected agent's bucket is
   * full again, as a new one would be.
   */
  private readonly buckets = new Map<string, OutputBucket>();
  /** Disconnected agents whose bucket is still refilling. */
  private readonly refilling = new Set<string>();
  private refillTimer: NodeJS.Timeout | null = null;
  private readonly capped = new CappedRuns();
  /** Secret values of active runs, kept across hub restarts, to mask them in what agents report. */
  private readonly runSecrets: RunSecrets;
  private readonly masker = new OutputMasker();
  private rotating = false;
  private readonly stapler: RotationStapler | null;
  private readonly outputRate: OutputRate;

  constructor(private readonly options: AgentGatewayOptions) {
    this.invalid = new RateLimitedLog(options.log);
    this.outputRate = options.outputRate ?? DEFAULT_OUTPUT_RATE;
    this.runSecrets = new RunSecrets(options.secrets, options.log);
    this.runSecrets.restore((runId) => {
      const run = options.runs.get(runId);
      return run !== undefined && !isFinal(run.status);
    });
    this.io = new Server(options.httpServer, {
      maxHttpBufferSize: LIMITS.maxMessageBytes,
      // Under the idle timeout of common proxies (30-60 s), and a dead peer is noticed within 20 s.
      pingInterval: 10_000,
      pingTimeout: 10_000,
      serveClient: false,
      cors: { origin: false },
    });
    const tls = options.tls;
    this.stapler = tls ? stapleRotations(options.httpServer as HttpsServer, tls.dataDir, options.log) : null;
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
    const { agentId, name, version, protocolVersion } = auth.value;
    if (protocolVersion !== PROTOCOL_VERSION) {
      this.invalid.warn(`protocol:${agentId}`, { agentId, address, protocolVersion }, 'agent handshake rejected: protocol version');
      return refusal(
        'protocol_mismatch',
        `This agent speaks protocol version ${protocolVersion} but the hub (Farmboy ${this.options.hubVersion}) speaks version ${PROTOCOL_VERSION}. Install the farmboy-agent release that matches the hub.`,
      );
    }
    const decision = this.options.authority.authenticate(auth.value, Date.now());
    if (!decision.ok) {
      this.invalid.warn(`auth:${address}`, { agentId, address, code: decision.code }, 'agent handshake rejected: token or credential');
      return refusal(decision.code, decision.message);
    }
    const live = this.sockets.get(agentId);
    if (live && decision.via !== 'credential') {
      this.options.log.warn({ agentId, address, liveAddress: live.handshake.address }, 'agent handshake rejected: agent id in use and no credential');
      return refusal('agent_id_in_use', 'An agent with this id is connected, and only a connection with its credential may replace it.');
    }
    socket.data = { agentId, name, version, enrollTokenId: decision.via === 'token' ? decision.tokenId : null, credentialUnconfirmed: false };
    return undefined;
  }

  private onConnection(socket: AgentSocket): void {
    const { agentId } = socket.data;
    const previous = this.sockets.get(agentId);
    if (previous && previous.id !== socket.id) {
      const addresses = { address: socket.handshake.address, previousAddress: previous.handshake.address };
      this.options.log.warn({ agentId, ...addresses }, 'agent connection replaced by a newer one with a valid credential');
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
    return parsed.ok ? parsed : this.reject(socket, event, parsed.reason);
  }

  /** Logs an invalid message from an agent, at most once per interval for each agent and event, and drops it. */
  private reject(socket: AgentSocket, event: keyof AgentToHubEvents, reason: string): ParseResult<never> {
    const { agentId } = socket.data;
    this.invalid.warn(`${event}:${agentId}`, { agentId, event, reason }, 'invalid message from agent dropped');
    return { ok: false, reason };
  }

  private onHello(socket: AgentSocket, payload: unknown, ack: unknown): void {
    const parsed = this.parse(socket, 'hello', agentToHubSchemas.hello, payload);
    if (!parsed.ok || typeof ack !== 'function') return;
    const { agentId, name, version } = socket.data;
    const now = Date.now();
    const credential = this.credentialFor(socket, now);
    if (credential === null) return;
    const session = this.options.fleet.connect(agentId, name, version, parsed.value, now);
    this.options.log.info({ agentId, name, slots: parsed.value.slots, tags: parsed.value.tags }, 'agent joined');
    this.options.onAgentChanged(agentId);
    // The reply waits until the acknowledged sequence numbers are on disk.
    this.options.runs.reconcile(agentId, parsed.value.runs, now).then(
      (reconciled) => {
        ack({ ...reconciled, draining: session.record.draining, ...(credential === undefined ? {} : { credential }) });
        this.options.runs.acknowledgementSent(agentId, reconciled.acked);
      },
      (error: unknown) => this.options.log.error({ err: error, agentId }, 'reconciling the runs of an agent failed'),
    );
  }

  /**
   * Returns the new credential of an agent that enrolled with a token, or
   * undefined for one that connected with its credential. Returns null, and
   * ends the connection, when the token stopped being usable meanwhile.
   */
  private credentialFor(socket: AgentSocket, now: number): string | undefined | null {
    const { agentId, enrollTokenId } = socket.data;
    if (enrollTokenId === null) {
      this.options.authority.confirm(agentId, now);
      return undefined;
    }
    socket.data.enrollTokenId = null;
    const credential = this.options.authority.issue(agentId, enrollTokenId, now);
    if (credential !== null) {
      socket.data.credentialUnconfirmed = true;
      return credential;
    }
    socket.emit('bye', { code: 'bad_token', message: 'The enrollment token was revoked or used up while this agent connected. Copy a new join command from the hub.' });
    socket.disconnect(true);
    return null;
  }

  /**
   * An agent sends load reports and events only after it processed the hello
   * reply, so the first one after an enrollment shows that the agent has
   * its credential; from then on its agent id can no longer enroll with a token.
   */
  private confirmCredential(socket: AgentSocket): void {
    if (!socket.data.credentialUnconfirmed) return;
    socket.data.credentialUnconfirmed = false;
    this.options.authority.confirm(socket.data.agentId, Date.now());
  }

  private onLoad(socket: AgentSocket, payload: unknown): void {
    const parsed = this.parse(socket, 'load', agentToHubSchemas.load, payload);
    if (!parsed.ok) return;
    this.confirmCredential(socket);
    this.options.fleet.reportLoad(socket.data.agentId, parsed.value, Date.now());
    this.options.onAgentChanged(socket.data.agentId);
    this.options.runs.dispatchSoon();
  }

  private onEvents(socket: AgentSocket, payload: unknown, ack: unknown): void {
    const decoded = decodeEventBatch(payload);
    const parsed = decoded.ok ? this.parse(socket, 'events', agentToHubSchemas.events, decoded.value) : this.reject(socket, 'events', decoded.reason);
    if (!parsed.ok || typeof ack !== 'function') return;
    this.confirmCredential(socket);
    const { agentId } = socket.data;
    const now = Date.now();
    this.options.fleet.noteSeen(agentId, now);
    const bucket = this.bucketOf(agentId, now);
    if (bucket.isExhausted(now)) {
      this.invalid.warn(`rate:${agentId}`, { agentId }, 'agent far over its output rate, batch deferred');
      // Nothing applied and nothing acknowledged: the agent sends the batch again after its retry delay.
      setTimeout(() => ack({ acked: {}, cancel: [] }), this.outputRate.maxAckDelayMs).unref();
      return;
    }
    const masked = parsed.value.events.map((event) => this.masker.maskEvent(event, this.runSecrets.valuesOf(event.runId)));
    const limited = limitBatch(masked, (runId) => this.runTotals(runId), this.capped);
    if (limited.trims.size > 0) {
      this.invalid.warn(`limits:${agentId}`, { agentId, trims: [...limited.trims] }, 'agent output over the size limits trimmed');
    }
    const delayMs = bucket.take(limited.outputBytes, now);
    this.options.runs.applyEvents(agentId, limited.accepted, now).then(
      (reply) => {
        this.forgetFinishedRuns(masked);
        const send = (): void => {
          ack(reply);
          this.options.runs.acknowledgementSent(agentId, reply.acked);
        };
        if (delayMs === 0) send();
        else setTimeout(send, delayMs).unref();
      },
      (error: unknown) => this.options.log.error({ err: error, agentId }, 'applying run events failed'),
    );
  }

  /** Drops the kept secrets of runs that reached a final status; a run between attempts keeps them. */
  private forgetFinishedRuns(events: readonly RunEvent[]): void {
    for (const event of events) {
      if (event.type !== 'finished') continue;
      const run = this.options.runs.get(event.runId);
      if (run === undefined || isFinal(run.status)) this.runSecrets.forget(event.runId);
    }
  }

  private bucketOf(agentId: string, now: number): OutputBucket {
    let bucket = this.buckets.get(agentId);
    if (!bucket) {
      bucket = new OutputBucket(this.outputRate, now);
      this.buckets.set(agentId, bucket);
    }
    return bucket;
  }

  /** Drops a disconnected agent's output bucket once it is full, checking again later while it refills. */
  private releaseBucket(agentId: string, now: number): void {
    const bucket = this.buckets.get(agentId);
    const waitMs = bucket && !this.sockets.has(agentId) ? bucket.msUntilFull(now) : null;
    if (waitMs === null || waitMs === 0) {
      if (waitMs === 0) this.buckets.delete(agentId);
      this.refilling.delete(agentId);
      return;
    }
    this.refilling.add(agentId);
    if (this.refillTimer) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      const later = Date.now();
      for (const id of [...this.refilling]) this.releaseBucket(id, later);
    }, waitMs);
    this.refillTimer.unref();
  }

  private runTotals(runId: string): RunTotals | undefined {
    const run = this.options.runs.get(runId);
    return run ? { logBytes: run.logBytes, logLines: run.logLines, recordCount: run.recordCount, attempt: run.attempt, lastSeq: run.lastSeq } : undefined;
  }

  private onDisconnect(socket: AgentSocket, reason: string): void {
    const { agentId } = socket.data;
    if (this.sockets.get(agentId) !== socket) return;
    this.sockets.delete(agentId);
    const now = Date.now();
    this.releaseBucket(agentId, now);
    this.options.fleet.disconnect(agentId);
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
      const reply: unknown = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('assign', this.openSecrets(assignment));
      const parsed = parseMessage(assignReplySchema, reply);
      if (parsed.ok) return parsed.value;
      this.invalid.warn(`assign-reply:${agentId}`, { agentId, reason: parsed.reason }, 'invalid assignment reply from agent');
      return null;
    } catch {
      return null;
    }
  }

  /**
   * Opens the sealed environment values of an assignment for the agent that
   * runs it, lists their keys in `secretEnv` so the agent masks them, and
   * keeps the values to mask what the agent reports.
   */
  private openSecrets(assignment: Assignment): Assignment {
    const opened = this.options.secrets.openEnv(assignment.env);
    if (opened.failed.length > 0) {
      this.options.log.error({ runId: assignment.runId, keys: opened.failed }, 'secret environment values could not be decrypted; the run gets them empty');
    }
    const secretEnv = [...new Set([...assignment.secretEnv, ...opened.secretKeys])];
    const values = secretEnv.map((key) => opened.env[key] ?? '').filter((value) => value !== '');
    const sealed = Object.fromEntries(
      secretEnv.map((key) => {
        const given = assignment.env[key] ?? '';
        return [key, isSealed(given) ? given : this.options.secrets.seal(key, given)];
      }),
    );
    this.runSecrets.remember(assignment.runId, sealed, values);
    return { ...assignment, env: opened.env, secretEnv };
  }

  cancel(agentId: string, ref: RunRef, reason: CancelReason): void {
    this.sockets.get(agentId)?.emit('cancel', { ...ref, reason });
  }

  unreadableSecrets(env: Record<string, string>): string[] {
    return this.options.secrets.unreadable(env);
  }

  /** Tells the agent to drain or resume. Either also ends a start-failure back-off, because the user has checked the agent. */
  setDraining(agentId: string, draining: boolean): void {
    if (this.options.fleet.clearUnhealthy(agentId)) this.options.log.info({ agentId, draining }, 'start-failure back-off of agent cleared by the user');
    this.sockets.get(agentId)?.emit('drain', { draining });
  }

  /** SHA-256 fingerprint of the certificate new connections get; null without TLS. */
  get fingerprint(): string | null {
    return this.options.tls?.identity.fingerprint ?? null;
  }

  /**
   * Replaces the agent port's key and certificate. Every connected agent is
   * first sent the new fingerprint, signed with the current key, so it can
   * move its pin; then the new pair is written and new connections get it.
   * Connections already open stay as they are. Agents offline meanwhile
   * follow on their next connection: the handshake carries the kept
   * rotations (see stapleRotations).
   */
  async rotateCertificate(): Promise<{ previous: string; fingerprint: string; agents: number; accepted: number }> {
    const tls = this.options.tls;
    if (tls === null) throw new HubError('conflict', 'the agent port runs without TLS (--insecure), so it has no certificate to rotate');
    if (this.rotating) throw new HubError('conflict', 'a certificate rotation is already in progress');
    this.rotating = true;
    try {
      const rotation = await prepareRotation(tls.dataDir, tls.identity).catch((error: unknown) => {
        throw error instanceof TlsIdentityError ? new HubError('unavailable', error.message) : error;
      });
      const next = rotation.identity;
      const request = { fingerprint: next.fingerprint, signature: rotation.endorsement.signature };
      const sockets = [...this.sockets.values()];
      const replies = await Promise.all(sockets.map((socket) => this.announceRotation(socket, request)));
      await commitRotation(tls.dataDir, rotation);
      this.stapler?.update(rotation.rotations);
      (this.options.httpServer as HttpsServer).setSecureContext({ key: next.key, cert: next.cert, minVersion: 'TLSv1.2' });
      const previous = tls.identity.fingerprint;
      tls.identity = next;
      const accepted = replies.filter(Boolean).length;
      this.options.log.info({ previous, fingerprint: next.fingerprint, agents: sockets.length, accepted }, 'hub certificate rotated');
      return { previous, fingerprint: next.fingerprint, agents: sockets.length, accepted };
    } finally {
      this.rotating = false;
    }
  }

  private async announceRotation(socket: AgentSocket, request: RotateRequest): Promise<boolean> {
    try {
      const parsed = parseMessage(rotateReplySchema, await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('rotate', request));
      return parsed.ok && parsed.value.accepted;
    } catch {
      return false;
    }
  }

  /** Revokes a forgotten agent's credential, sends it `bye` and closes its connection. */
  dismiss(agentId: string): void {
    this.options.authority.revoke(agentId);
    this.buckets.delete(agentId);
    const socket = this.sockets.get(agentId);
    if (!socket) return;
    socket.emit('bye', { code: 'agent_forgotten', message: 'This agent was removed from the fleet on the hub.' });
    socket.disconnect(true);
  }

  isConnected(agentId: string): boolean {
    return this.sockets.has(agentId);
  }

  /** Sizes of the per-connection state, for leak checks after agents come and go. */
  connectionStats(): AgentConnectionStats {
    return {
      engineClients: this.io.engine.clientsCount,
      namespaceSockets: this.io.of(AGENT_NAMESPACE).sockets.size,
      agentSockets: this.sockets.size,
      outputBuckets: this.buckets.size,
    };
  }

  async close(): Promise<void> {
    if (this.refillTimer) clearTimeout(this.refillTimer);
    this.io.disconnectSockets(true);
    await this.io.close();
  }
}

export interface AgentConnectionStats {
  /** Engine.IO connections open on the agent port. */
  engineClients: number;
  /** Sockets in the /agent namespace. */
  namespaceSockets: number;
  /** Connected agents the gateway can send to. */
  agentSockets: number;
  /** Output rate buckets kept per agent id. */
  outputBuckets: number;
}
