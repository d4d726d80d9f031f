/**
 * The runs an agent executes: admission of assignments (slots, load,
 * draining, idempotency), cancel and the stop of all runs.
 */
import { createHash } from 'node:crypto';
import type { Logger } from './logger.js';
import type { AssignReply, Assignment, RunRef } from './protocol/index.js';
import { Run, type RunSink } from './runner/run.js';
import type { RunSettings, RunStopReason } from './runner/types.js';

export interface RunManagerOptions {
  slots: number;
  /** Normalized load above which no new run is accepted; null for no limit. */
  maxLoad: number | null;
  readLoad: () => number | null;
  sink: RunSink;
  settings: RunSettings;
  log: Logger;
  /** Called whenever a run ends, so the caller can report the freed slot. */
  onRunEnded?: () => void;
}

type RefusalReason = Extract<AssignReply, { accepted: false }>['reason'];

/** How many attempts are remembered, so a repeated assignment gets the reply `duplicate`. */
const MAX_REMEMBERED_ATTEMPTS = 10_000;

export class RunManager {
  /** Keyed by `runId#attempt`, because an older attempt may still be stopping while a newer one starts. */
  private readonly running = new Map<string, Run>();
  /** Highest attempt seen per run id, in insertion order so the oldest is forgotten first. */
  private readonly seenAttempts = new Map<string, number>();
  private hubDraining = false;
  private stopping = false;
  /**
   * Set by the first node run. Until then the agent keeps no warm node task
   * hosts: about 46 MB and 60 ms of CPU each, for nothing on an agent that
   * runs only shell tasks.
   */
  private nodeRunSeen = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: RunManagerOptions) {
    this.resizeWarmPool();
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Whether new assignments are refused, because the hub asked or the agent is stopping. */
  get isDraining(): boolean {
    return this.hubDraining || this.stopping;
  }

  runningKeys(): RunRef[] {
    return [...this.running.values()].map((run) => run.key);
  }

  setDraining(draining: boolean): void {
    if (draining !== this.hubDraining) this.options.log.info({ draining }, 'hub changed draining');
    this.hubDraining = draining;
    this.resizeWarmPool();
  }

  /** Accepts and starts an assignment, or returns the reason for rejecting it. */
  assign(assignment: Assignment): AssignReply {
    const refusal = this.checkAdmission(assignment);
    if (refusal !== null) {
      this.options.log.info({ runId: assignment.runId, attempt: assignment.attempt, reason: refusal }, 'assignment rejected');
      return { accepted: false, reason: refusal };
    }
    for (const run of this.running.values()) {
      if (run.key.runId === assignment.runId) run.cancel('stale');
    }

    this.rememberAttempt(assignment.runId, assignment.attempt);
    if (assignment.runtime === 'node') this.nodeRunSeen = true;
    const run = new Run(assignment, this.options.sink, this.options.settings);
    this.running.set(runKey(run.key), run);
    void run.finished.then(() => this.handleRunEnded(run));
    // Resized once the run has its process: a run takes a warm process first, so the pool does not end one too many.
    void run.start().then(() => this.resizeWarmPool());
    return { accepted: true };
  }

  /** Cancels a run attempt if it still runs here; unknown runs and other attempts are ignored. */
  cancel(ref: RunRef, reason: RunStopReason): void {
    const run = this.running.get(runKey(ref));
    if (run === undefined) {
      this.options.log.debug({ runId: ref.runId, attempt: ref.attempt }, 'cancel for a run not running here, ignored');
      return;
    }
    run.cancel(reason);
  }

  /** Refuses new assignments from now on. */
  beginStop(): void {
    this.stopping = true;
    this.resizeWarmPool();
  }

  cancelAll(reason: RunStopReason): void {
    for (const run of this.running.values()) run.cancel(reason);
  }

  /** Sends SIGKILL to every run's process group at once; safe to call from an 'exit' handler. */
  killAllNow(): void {
    for (const run of this.running.values()) run.killNow();
  }

  /** Resolves true once no run is left, or false after `timeoutMs`. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((candidate) => candidate !== waiter);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(waiter);
    });
  }

  /**
   * Keeps one unused node task host per free slot once a node run came, and
   * one shell per free slot while at most half the slots are busy. Keeps
   * none while no new run can come. A warm shell costs a second exec per
   * run, and CPU limits an agent with most slots busy more than start
   * latency does, so such an agent spawns cold.
   */
  private resizeWarmPool(): void {
    const { warmHosts, warmShells } = this.options.settings;
    if (this.isDraining) {
      warmHosts?.resize(0, true);
      warmShells?.resize(0, true);
      return;
    }
    const free = this.options.slots - this.running.size;
    warmHosts?.resize(this.nodeRunSeen ? free : 0);
    warmShells?.resize(this.running.size * 2 <= this.options.slots ? free : 0);
  }

  private checkAdmission(assignment: Assignment): RefusalReason | null {
    const seen = this.seenAttempts.get(assignment.runId);
    if (seen !== undefined && assignment.attempt <= seen) return 'duplicate';
    if (!hashMatches(assignment)) return 'invalid';
    if (this.isDraining) return 'draining';
    if (this.running.size >= this.options.slots) return 'no_free_slot';
    // The protocol has no separate reason for load; a busy machine has no slot to give.
    const load = this.options.readLoad();
    if (this.options.maxLoad !== null && load !== null && load > this.options.maxLoad) return 'no_free_slot';
    return null;
  }

  private rememberAttempt(runId: string, attempt: number): void {
    this.seenAttempts.delete(runId);
    this.seenAttempts.set(runId, attempt);
    if (this.seenAttempts.size > MAX_REMEMBERED_ATTEMPTS) {
      const oldest = this.seenAttempts.keys().next().value;
      if (oldest !== undefined) this.seenAttempts.delete(oldest);
    }
  }

  private handleRunEnded(run: Run): void {
    this.running.delete(runKey(run.key));
    this.resizeWarmPool();
    this.options.onRunEnded?.();
    if (this.running.size > 0) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

function runKey(ref: RunRef): string {
  return `${ref.runId}#${ref.attempt}`;
}

/** Checks the code against the SHA-256 that the hub sent with it, which fails when the code was damaged in transit. */
function hashMatches(assignment: Assignment): boolean {
  return createHash('sha256').update(assignment.code).digest('hex') === assignment.hash;
}
