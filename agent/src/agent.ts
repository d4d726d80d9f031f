/**
 * One agent process: its connection to the hub, its outbox and its runs,
 * and the graceful stop that ties them together.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { HubConnection } from './connection.js';
import type { AgentError } from './errors.js';
import type { Logger } from './logger.js';
import { LoadSampler, readMachineFacts, readNormalizedLoad } from './machine.js';
import type { AgentOptions } from './options.js';
import { Outbox } from './outbox.js';
import type { Recovered } from './recovery.js';
import { PROTOCOL_VERSION, type CancelReason, type Hello, type HelloReply, type RunRef } from './protocol/index.js';
import { RunManager } from './runs.js';
import { writeTrust, type HubTrust } from './trust.js';
import { agentEnvironment } from './runner/run.js';
import { LeftoverSweeper } from './runner/leftovers.js';
import { SpareFiles } from './runner/spare-files.js';
import type { RunSettings } from './runner/types.js';
import { WarmPool, taskHostKind } from './runner/warm-pool.js';
import { shellChangingVariable, warmShellKind } from './runner/warm-shell.js';
import { AGENT_VERSION } from './version.js';

export interface AgentConfig extends AgentOptions {
  agentId: string;
  /** The pin and the token or credential this start connects with. */
  trust: HubTrust;
  log: Logger;
  /** Defaults to the compiled task host beside this module. */
  taskHostPath?: string;
  /** The spool and what the previous agent process left; without it, events live in memory only. */
  recovered?: Recovered;
}

/** A hello lists at most this many runs, which keeps it far below LIMITS.maxMessageBytes. */
const MAX_HELLO_RUNS = 2_000;
const FLUSH_TIMEOUT_MS = 5_000;
const STDIO_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 15_000;
const SHELL_REFILL_DELAY_MS = 50;

export class Agent {
  /** Resolves after a graceful stop; rejects with an AgentError when the hub refuses the agent or cannot be reached. */
  readonly done: Promise<void>;
  private readonly outbox: Outbox;
  private readonly runs: RunManager;
  private readonly warmHosts: WarmPool | null;
  private readonly warmShells: WarmPool | null;
  private readonly spares: SpareFiles;
  private readonly leftovers: LeftoverSweeper;
  private readonly baseEnv = agentEnvironment();
  private readonly connection: HubConnection;
  private readonly loadSampler = new LoadSampler();
  private stopping: Promise<void> | null = null;
  private resolveDone: () => void = () => undefined;
  private rejectDone: (error: AgentError) => void = () => undefined;

  constructor(private readonly config: AgentConfig) {
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.outbox = new Outbox({
      send: (batch) => this.connection.sendEvents(batch),
      onCancel: (refs) => this.cancelRuns(refs),
      log: config.log.child({ component: 'outbox' }),
      spool: config.recovered?.spool,
      maxBufferedBytes: config.outboxMemoryBytes,
      maxSpooledBytes: config.outboxSpoolBytes,
    });
    if (config.recovered) this.outbox.recover(config.recovered.events, config.recovered.interrupted);
    this.spares = new SpareFiles({ dataDir: config.dataDir, count: config.slots, log: config.log.child({ component: 'spares' }) });
    this.leftovers = new LeftoverSweeper(config.log.child({ component: 'leftovers' }));
    this.warmHosts =
      config.warmHosts > 0
        ? new WarmPool({
            kind: taskHostKind(this.taskHostPath()),
            idleCwd: config.dataDir,
            env: this.baseEnv,
            maxProcesses: config.warmHosts,
            readyTimeoutMs: READY_TIMEOUT_MS,
            log: config.log.child({ component: 'warm-hosts' }),
          })
        : null;
    this.warmShells =
      this.warmShellsAllowed(config.warmShells)
        ? new WarmPool({
            kind: warmShellKind,
            idleCwd: config.dataDir,
            env: this.baseEnv,
            maxProcesses: config.warmShells,
            readyTimeoutMs: READY_TIMEOUT_MS,
            // Long enough for the hub to fill a slot that a finished run freed, so a steady queue starts no shells.
            refillDelayMs: SHELL_REFILL_DELAY_MS,
            log: config.log.child({ component: 'warm-shells' }),
          })
        : null;
    this.runs = new RunManager({
      slots: config.slots,
      maxLoad: config.maxLoad,
      readLoad: readNormalizedLoad,
      sink: this.outbox,
      settings: this.runSettings(),
      log: config.log,
    });
    this.connection = new HubConnection({
      hubUrl: config.hubUrl,
      auth: {
        protocolVersion: PROTOCOL_VERSION,
        agentId: config.agentId,
        name: config.name,
        version: AGENT_VERSION,
        ...(config.trust.credential === null ? {} : { credential: config.trust.credential }),
        ...(config.trust.token === null ? {} : { token: config.trust.token }),
      },
      fingerprint: config.trust.fingerprint,
      connectTimeoutMs: config.connectTimeoutMs,
      loadIntervalMs: config.loadIntervalMs,
      log: config.log.child({ component: 'connection' }),
      handlers: {
        buildHello: () => this.buildHello(),
        handleHelloReply: (reply) => this.handleHelloReply(reply),
        handleAssign: (assignment) => this.runs.assign(assignment),
        handleCancel: (request) => this.runs.cancel(request, request.reason),
        handleDrain: (draining) => this.runs.setDraining(draining),
        handleRotate: (fingerprint) => this.handleRotate(fingerprint),
        buildLoadReport: () => this.loadSampler.sample(this.runs.runningCount),
        handleDisconnect: () => this.outbox.pause(),
        handleFatal: (error) => void this.abort(error),
      },
    });
  }

  start(): void {
    const { log, agentId, name, slots, tags } = this.config;
    log.info({ agentId, name, slots, tags, version: AGENT_VERSION, hub: this.config.hubUrl }, 'agent starting');
    this.spares.start();
    this.connection.start();
  }

  /**
   * Stops gracefully: no new runs, running ones get `stopGraceMs` to finish
   * and are cancelled after it, then the outbox is flushed for a bounded time.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopGracefully();
    return this.stopping;
  }

  /** Kills every run's process group at once; for a second signal or process exit. */
  killAllNow(): void {
    this.stopWarmPools();
    this.runs.killAllNow();
  }

  private async stopGracefully(): Promise<void> {
    const { log, stopGraceMs, killGraceMs } = this.config;
    this.runs.beginStop();
    this.spares.stop();
    log.info({ running: this.runs.runningCount, stopGraceMs }, 'agent stopping, waiting for runs');
    if (!(await this.runs.waitIdle(stopGraceMs))) {
      log.warn({ running: this.runs.runningCount }, 'runs still going after the stop grace period, cancelling them');
      this.runs.cancelAll('agent_stopping');
      await this.runs.waitIdle(killGraceMs + STDIO_GRACE_MS + 1_000);
    }
    const flushed = await this.outbox.flush(FLUSH_TIMEOUT_MS);
    if (!flushed) log.warn({ runs: this.outbox.pendingRuns().length }, 'stopping with events the hub has not acknowledged, kept in the spool for the next start');
    this.connection.close();
    this.outbox.close();
    this.stopWarmPools();
    await this.leftovers.flush();
    await this.config.recovered?.spool.close();
    log.info({}, 'agent stopped');
    this.resolveDone();
  }

  /** Decides whether to keep warm shells: not on Windows, where shell tasks run in cmd.exe, nor with an environment that changes how bash runs commands. */
  private warmShellsAllowed(max: number): boolean {
    if (max === 0 || process.platform === 'win32') return false;
    const variable = shellChangingVariable(this.baseEnv);
    if (variable === null) return true;
    this.config.log.info({ variable }, `warm shells off because the agent's environment sets ${variable}; shell runs start cold`);
    return false;
  }

  private stopWarmPools(): void {
    this.warmHosts?.stop();
    this.warmShells?.stop();
  }

  /** Stops all runs and rejects `done`, because the hub refused the agent and its runs could never report. */
  private async abort(error: AgentError): Promise<void> {
    this.config.log.error({ code: error.code }, 'agent cannot continue');
    this.runs.beginStop();
    this.spares.stop();
    this.runs.cancelAll('agent_stopping');
    await this.runs.waitIdle(this.config.killGraceMs + 1_000);
    this.outbox.close();
    this.stopWarmPools();
    await this.config.recovered?.spool.close();
    this.rejectDone(error);
  }

  private buildHello(): Hello {
    const runs = new Map<string, RunRef>();
    for (const ref of [...this.runs.runningKeys(), ...this.outbox.pendingRuns()]) runs.set(`${ref.runId}#${ref.attempt}`, ref);
    const listed = [...runs.values()];
    if (listed.length > MAX_HELLO_RUNS) {
      // NOTE: the runs left out still resend their events; the hub applies them idempotently.
      this.config.log.warn({ runs: listed.length, listed: MAX_HELLO_RUNS }, 'too many runs for one hello, listing only part of them');
    }
    return {
      facts: readMachineFacts(),
      tags: this.config.tags,
      slots: this.config.slots,
      maxLoad: this.config.maxLoad,
      runs: listed.slice(0, MAX_HELLO_RUNS),
    };
  }

  private handleHelloReply(reply: HelloReply): void {
    this.cancelRuns(reply.cancel);
    this.runs.setDraining(reply.draining);
    this.outbox.resume(reply.acked);
    this.config.log.info({ draining: reply.draining, cancelled: reply.cancel.length }, 'hello acknowledged');
    if (reply.credential !== undefined) this.connection.useCredential(reply.credential);
    void this.rememberHub(reply.credential ?? null);
  }

  /** Pins the hub's next certificate, announced and signed by the current one, and stores the new pin. */
  private handleRotate(fingerprint: string): void {
    this.config.log.info({ fingerprint }, 'hub certificate rotation accepted');
    this.config.trust.fingerprint = fingerprint;
    this.config.trust.saved = false;
    void this.rememberHub(null);
  }

  /**
   * Stores the hub's fingerprint and the agent's credential after a hello the
   * hub acknowledged, so later starts need only --hub. Written when something
   * changed; a failed write is logged and retried on the next hello.
   */
  private async rememberHub(newCredential: string | null): Promise<void> {
    const trust = this.config.trust;
    if (newCredential === null && trust.saved) return;
    if (newCredential !== null) trust.credential = newCredential;
    try {
      await writeTrust(this.config.dataDir, { hubUrl: trust.hubUrl, fingerprint: trust.fingerprint, credential: trust.credential, savedAt: Date.now() });
      trust.saved = true;
      this.config.log.info({ fingerprint: trust.fingerprint, credentialIssued: newCredential !== null }, 'hub trust stored');
    } catch (error: unknown) {
      this.config.log.error({ err: error, dataDir: this.config.dataDir }, 'could not store the hub trust');
    }
  }

  private cancelRuns(refs: (RunRef & { reason?: CancelReason })[]): void {
    for (const ref of refs) this.runs.cancel(ref, ref.reason ?? 'hub_lost_track');
  }

  private taskHostPath(): string {
    return this.config.taskHostPath ?? fileURLToPath(new URL('./task-host.js', import.meta.url));
  }

  private runSettings(): RunSettings {
    return {
      dataDir: this.config.dataDir,
      agent: { id: this.config.agentId, name: this.config.name, hostname: os.hostname() },
      killGraceMs: this.config.killGraceMs,
      maxRunLogBytes: this.config.maxRunLogBytes,
      stdioGraceMs: STDIO_GRACE_MS,
      readyTimeoutMs: READY_TIMEOUT_MS,
      taskHostPath: this.taskHostPath(),
      ...(this.warmHosts === null ? {} : { warmHosts: this.warmHosts }),
      ...(this.warmShells === null ? {} : { warmShells: this.warmShells }),
      spares: this.spares,
      baseEnv: this.baseEnv,
      leftovers: this.leftovers,
      log: this.config.log,
    };
  }
}
