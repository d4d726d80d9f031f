/**
 * The run manager: queues runs, places them on agents, applies what agents
 * report and enforces the hub's side of timeouts, cancels and lost agents.
 *
 * It owns every run that is not final (`active`); final runs are only in the
 * store. Agent events are applied once each: a run attempt accepts sequence
 * number `lastSeq + 1` and nothing else, so a resend after a reconnect is
 * acknowledged without being stored twice. An acknowledgement is sent only
 * once what it covers is on disk (`Store.persist`). Output lines carry their
 * event's sequence number, so a hub restarted after a crash takes `lastSeq`
 * from what it stored, and neither loses nor doubles a resent event.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  ACK_ALL,
  type AssignReply,
  type Assignment,
  type CancelReason,
  type EventBatchAck,
  type Hello,
  type HelloCancel,
  type RunEvent,
  type RunRef,
} from 'farmboy-agent/protocol';
import { isFinal, isUnrun, type FireWindow, type Job, type Json, type Run, type RunTrigger, type StoredLogLine, type Task } from './model.js';
import { DispatchQueue, freeSlots, placementChannel, type DispatchPass, type PlaceOutcome, type PlacementDecision } from './dispatch-queue.js';
import { pickAgent } from './placement.js';
import { assign, cancelQueued, createRun, finishAttempt, markStarted, unassign, type AttemptOutcome } from './run-state.js';
import type { Fleet } from './fleet.js';
import { RateLimitedLog, type Logger } from './logger.js';
import type { Store } from './store/index.js';

/** The run manager's link to agents, implemented by the agent gateway. */
export interface AgentLink {
  /** Resolves with the agent's reply, or null when it is offline or did not reply in time. */
  assign(agentId: string, assignment: Assignment): Promise<AssignReply | null>;
  cancel(agentId: string, ref: RunRef, reason: CancelReason): void;
  /** Lists the keys of an environment whose sealed values this hub cannot decrypt. */
  unreadableSecrets(env: Record<string, string>): string[];
}

export interface RunManagerEvents {
  run: [Run];
  log: [runId: string, lines: StoredLogLine[]];
  records: [runId: string, records: Json[]];
}

export interface RunTimings {
  /** A run whose agent stays offline this long is lost. */
  agentGraceMs: () => number;
  /** How long an agent may take to confirm a cancel before the hub ends the run itself. */
  cancelGraceMs: number;
  /** How long an assigned run may wait for its `started` event before it is queued again. */
  assignTimeoutMs: number;
  /** Margin past a run's timeout before the hub cancels it itself, then as much again before it ends it. */
  timeoutMarginMs: number;
  /**
   * How long runs found queued at start wait before they are placed, so an
   * agent that received one just before the previous hub stopped can report
   * it first. Agents retry a lost connection after 0.5 to 1.5 s, then 1 to 3 s.
   */
  restoreHoldMs: number;
}

export const DEFAULT_TIMINGS: Omit<RunTimings, 'agentGraceMs'> = {
  cancelGraceMs: 30_000,
  assignTimeoutMs: 30_000,
  timeoutMarginMs: 15_000,
  restoreHoldMs: 5_000,
};

const RESTORE_HOLD_REASON = 'waiting a few seconds for agents to reconnect after the hub restarted';

export class RunManager extends EventEmitter<RunManagerEvents> {
  private readonly active = new Map<string, Run>();
  /** Runs whose counters or progress changed since they were last written. */
  private readonly dirty = new Set<string>();
  /** Lines in each active run's log, agent and system lines alike, so watchers can join a live log without gaps. */
  private readonly logLineCounts = new Map<string, number>();
  private readonly assignedAt = new Map<string, number>();
  private readonly timeoutCancelSent = new Set<string>();
  /**
   * Retried runs whose previous attempt ended with a `finished` event that the
   * agent has not been sent the acknowledgement of yet. The agent applies an
   * acknowledgement to a run id, whatever the attempt, so an acknowledgement
   * that arrives after the next attempt started there would drop that
   * attempt's first events. The run goes to that agent only once it is sent.
   */
  private readonly endUnacked = new Map<string, { agentId: string; seq: number; since: number }>();
  private readonly queue = new DispatchQueue();
  private dispatchQueued = false;
  /** Set by `tick`: the next pass recomputes the waiting reason of every queued run. */
  private refreshWaiting = true;
  private dirtyTimer: NodeJS.Timeout | null = null;
  private readonly warnings: RateLimitedLog;
  /** The first event of the last gap each run's agent sent, to tell a gap it cannot fill. */
  private readonly gaps = new Map<string, { attempt: number; seq: number; lastSeq: number }>();
  /** Run attempts whose late output got a line in the run's log, so each gets one. */
  private readonly droppedOutputNoted = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly fleet: Fleet,
    private readonly link: AgentLink,
    private readonly log: Logger,
    private readonly timings: RunTimings,
  ) {
    super();
    this.warnings = new RateLimitedLog(log);
  }

  /**
   * Loads the runs left unfinished by the previous hub process; their agents
   * must report them again. Each run's `lastSeq` and counters are taken from
   * its output files, which a crash may have left ahead of the run record.
   */
  async restore(now: number): Promise<void> {
    for (const stored of this.store.runs.nonFinal()) {
      const scan = await this.store.logs.scanRun(stored.id, stored.attempt);
      const lastSeq = stored.status === 'queued' ? stored.lastSeq : Math.max(stored.lastSeq, scan.lastSeq);
      if (lastSeq !== stored.lastSeq) {
        this.log.info({ runId: stored.id, recordSeq: stored.lastSeq, outputSeq: scan.lastSeq }, 'run sequence number taken from its stored output');
      }
      const run: Run = { ...stored, lastSeq, logLines: scan.logLines, logBytes: scan.logBytes, recordCount: scan.recordCount };
      // A queued run may have reached an agent just before the previous hub stopped: it waits a moment for agents to report it.
      const restored: Run =
        run.status === 'queued'
          ? { ...run, notBefore: Math.max(run.notBefore ?? 0, now + this.timings.restoreHoldMs), waitingReason: run.waitingReason ?? RESTORE_HOLD_REASON }
          : { ...run, agentOfflineSince: now };
      this.active.set(run.id, restored);
      this.logLineCounts.set(run.id, scan.totalLogLines);
      this.queue.update(run.id, undefined, restored);
      this.dirty.add(run.id);
      if (run.agentId) this.fleet.noteAssigned(run.agentId, run.id, 0);
    }
    if (this.active.size > 0) this.log.info({ runs: this.active.size }, 'restored unfinished runs');
  }

  get(runId: string): Run | undefined {
    return this.active.get(runId) ?? this.store.runs.get(runId);
  }

  activeRuns(): Run[] {
    return [...this.active.values()];
  }

  /** Counts the runs that are not final, without copying them. */
  activeCount(): number {
    return this.active.size;
  }

  activeForJob(jobId: string): Run[] {
    return this.activeRuns().filter((run) => run.jobId === jobId);
  }

  /** Queues a run of a job; its config is the job's merged over the task's default. */
  enqueueJob(job: Job, task: Task, trigger: RunTrigger, now: number, caughtUp?: FireWindow): Run {
    const run = this.enqueue(task, { ...task.defaultConfig, ...job.config }, trigger, now, job);
    if (caughtUp) this.put({ ...run, fires: caughtUp });
    return this.get(run.id) ?? run;
  }

  /**
   * Stores a history entry that is final from the start (a missed or skipped
   * fire), or an update of one. It is never sent to an agent or retried.
   */
  recordUnrun(entry: Run): void {
    if (!isUnrun(entry.status)) throw new Error(`recordUnrun: status ${entry.status} is not missed or skipped`);
    this.put(entry);
  }

  /** Queues an ad-hoc run of a task, outside any job; with `agentId`, only that agent may take it. */
  enqueueTask(task: Task, config: Record<string, Json>, tags: string[], now: number, agentId: string | null = null): Run {
    const run = this.enqueue(task, { ...task.defaultConfig, ...config }, 'manual', now, null);
    if (tags.length > 0 || agentId !== null) this.put({ ...run, tags, pinnedAgentId: agentId });
    return this.get(run.id) ?? run;
  }

  private enqueue(task: Task, config: Record<string, Json>, trigger: RunTrigger, now: number, job: Job | null): Run {
    const run = createRun({
      id: randomUUID(),
      jobId: job?.id ?? null,
      jobName: job?.name ?? null,
      taskId: task.id,
      taskVersion: task.version,
      trigger,
      config,
      // Kept on the run so that retries after the job is deleted still go to matching agents.
      tags: job?.tags ?? [],
      timeoutSec: job?.timeoutSec ?? null,
      retries: job?.retries ?? 0,
      retryDelaySec: job?.retryDelaySec ?? 0,
      now,
    });
    this.put(run);
    this.log.info({ runId: run.id, jobId: run.jobId, taskId: task.id, trigger }, 'run queued');
    this.dispatchSoon();
    return run;
  }

  /**
   * Cancels a run. A queued run ends at once; a run on an online agent is
   * asked to stop and ends when the agent confirms, or after a grace period;
   * a run whose agent is offline ends at once.
   */
  cancel(runId: string, now: number): Run | undefined {
    const run = this.active.get(runId);
    if (!run) return this.store.runs.get(runId);
    if (run.status === 'queued') return this.commit(cancelQueued(run, now), 'run cancelled');

    const session = run.agentId ? this.fleet.get(run.agentId) : undefined;
    if (run.agentId && session?.online) this.link.cancel(run.agentId, { runId, attempt: run.attempt }, 'user');
    const requested: Run = { ...run, cancelRequestedAt: run.cancelRequestedAt ?? now };
    if (session?.online) {
      this.put(requested);
      this.systemLine(runId, now, 'cancel requested');
      return requested;
    }
    return this.finish(requested, { ...endedByHub('cancelled', 'cancelled while its agent was offline'), at: now });
  }

  // -------------------------------------------------------------------------
  // Agent reports

  /**
   * Applies a batch of run events from one agent and resolves with the
   * acknowledgement once everything it acknowledges is on disk. When the
   * store cannot write, it acknowledges nothing, so the agent keeps the
   * events and sends them again later.
   */
  async applyEvents(agentId: string, events: readonly RunEvent[], now: number): Promise<EventBatchAck> {
    const acked: Record<string, number> = {};
    const cancel: RunRef[] = [];
    const lastApplied = new Map<string, RunEvent['type']>();
    const gapsSeen = new Set<string>();
    for (const event of events) {
      const run = this.get(event.runId);
      if (!run || run.agentId !== agentId || run.attempt !== event.attempt || isFinal(run.status)) {
        this.noteStale(agentId, event, run, now);
        // The agent applies `acked` per run id, so ACK_ALL here would also drop a newer attempt this agent has.
        if (!hasNewerAttemptOn(run, agentId, event.attempt)) acked[event.runId] = ACK_ALL;
        if (event.type !== 'finished') cancel.push({ runId: event.runId, attempt: event.attempt });
        continue;
      }
      let current = run;
      if (event.seq > run.lastSeq + 1 && !gapsSeen.has(run.id)) {
        gapsSeen.add(run.id);
        if (this.agentCannotFill(run, event)) {
          this.systemLine(run.id, now, `events ${run.lastSeq + 1} to ${event.seq - 1} of attempt ${run.attempt} are missing: they were acknowledged, then lost from the store; the run continues`);
          current = { ...run, lastSeq: event.seq - 1 };
        }
      }
      if (event.seq <= current.lastSeq || event.seq > current.lastSeq + 1) {
        // A duplicate, or a gap the agent fills by resending from lastSeq + 1.
        acked[event.runId] = current.lastSeq;
        continue;
      }
      this.gaps.delete(run.id);
      this.applyEvent({ ...current, lastSeq: event.seq }, event, now);
      acked[event.runId] = event.seq;
      lastApplied.set(run.id, event.type);
    }
    // Output lines carry their sequence number; a progress event leaves a trace only in the run record.
    for (const [runId, type] of lastApplied) if (type === 'progress') this.putDirty(runId);
    this.flushDirtySoon();
    const stored = await this.persist(Object.keys(acked));
    return stored ? { acked, cancel: dedupeRefs(cancel) } : { acked: {}, cancel: [] };
  }

  /** Waits until what was applied to these runs is on disk; false, logged, when the store cannot write. */
  async persist(runIds: Iterable<string>): Promise<boolean> {
    try {
      await this.store.persist(runIds);
      return true;
    } catch (error: unknown) {
      this.warnings.warn('persist', { err: error }, 'cannot store run events, leaving them unacknowledged');
      return false;
    }
  }

  private applyEvent(run: Run, event: RunEvent, now: number): void {
    switch (event.type) {
      case 'started': {
        this.assignedAt.delete(run.id);
        // Without a pid the process never existed, and the run ends with "could not start the task".
        if (run.agentId && event.pid !== null) this.fleet.noteStarted(run.agentId);
        this.commit(markStarted(run, event.at), 'run started', { pid: event.pid }, 'debug');
        return;
      }
      case 'log': {
        this.store.logs.appendLog(run.id, event.lines, { attempt: run.attempt, seq: event.seq });
        this.countLines(run.id, event.lines.length);
        const bytes = event.lines.reduce((sum, line) => sum + Buffer.byteLength(line.m), 0);
        this.markDirty({ ...run, logLines: run.logLines + event.lines.length, logBytes: run.logBytes + bytes });
        this.emit('log', run.id, event.lines);
        return;
      }
      case 'progress': {
        this.markDirty({ ...run, progress: { percent: event.percent, message: event.message } });
        return;
      }
      case 'records': {
        this.store.logs.appendRecords(run.id, event.records, { attempt: run.attempt, seq: event.seq });
        this.markDirty({ ...run, recordCount: run.recordCount + event.records.length });
        this.emit('records', run.id, event.records);
        return;
      }
      case 'finished': {
        if (run.agentId && isStartFailure(run, event)) this.noteStartFailure(run.agentId, event.error ?? 'the task ended before it started', now);
        // The agent's time of the end, so a report delayed by an outage does not stretch the run. It is
        // kept between the start and now, as the agent's clock may be off.
        const at = Math.min(now, Math.max(event.at, run.startedAt ?? run.queuedAt));
        const next = this.finish(run, { ...event, at });
        if (next?.status === 'queued' && run.agentId) this.endUnacked.set(run.id, { agentId: run.agentId, seq: event.seq, since: now });
        return;
      }
    }
  }

  private noteStartFailure(agentId: string, error: string, now: number): void {
    if (!this.fleet.noteStartFailure(agentId, error, now)) return;
    const unhealthy = this.fleet.get(agentId)?.unhealthy;
    this.log.warn({ agentId, until: unhealthy?.until, reason: unhealthy?.reason }, 'agent left out of placement after runs failed to start on it');
  }

  /**
   * Called by the agent gateway once an acknowledgement was sent to an agent:
   * runs held back from that agent until it had the acknowledgement of their
   * previous attempt's end may go there again.
   */
  acknowledgementSent(agentId: string, acked: Record<string, number>): void {
    let released = false;
    for (const [runId, seq] of Object.entries(acked)) {
      const hold = this.endUnacked.get(runId);
      if (hold?.agentId !== agentId || seq < hold.seq) continue;
      this.endUnacked.delete(runId);
      released = true;
    }
    if (released) this.dispatchSoon();
  }

  /**
   * Reconciles the runs an agent reports on connecting with what the hub
   * expects of it: reported runs it still wants carry on; runs it holds for
   * that agent but the agent does not report were never received (queued
   * again) or died with the agent's previous process (lost).
   */
  async reconcile(agentId: string, reported: Hello['runs'], now: number): Promise<{ cancel: HelloCancel[]; acked: Record<string, number> }> {
    const cancel: HelloCancel[] = [];
    const acked: Record<string, number> = {};
    const carried = new Set<string>();
    for (const ref of reported) {
      const run = this.get(ref.runId);
      if (run && run.agentId === agentId && run.attempt === ref.attempt && !isFinal(run.status)) {
        carried.add(run.id);
        acked[run.id] = run.lastSeq;
        this.fleet.noteAssigned(agentId, run.id, 0);
        if (run.agentOfflineSince !== null) {
          this.put({ ...run, agentOfflineSince: null });
          this.systemLine(run.id, now, 'agent reconnected and still has this run');
        }
        // A cancel sent while the connection was failing may never have arrived.
        const reason = this.pendingCancelReason(run, now);
        if (reason !== null) cancel.push({ ...ref, reason });
        continue;
      }
      if (run && run.status === 'queued' && run.attempt === ref.attempt && this.adopt(run, agentId, now)) {
        // The assignment reached the agent, but the hub stopped before it stored it: the agent's copy is the run.
        carried.add(run.id);
        acked[run.id] = run.lastSeq;
        continue;
      }
      acked[ref.runId] = ACK_ALL;
      cancel.push(ref);
      // The agent may still hold events of this older attempt until it reads the hello reply.
      if (run && !isFinal(run.status) && run.agentId !== agentId) this.endUnacked.set(run.id, { agentId, seq: 0, since: now });
    }
    const reportedIds = new Set(reported.map((ref) => ref.runId));
    for (const [runId, hold] of this.endUnacked) {
      if (hold.agentId === agentId && !reportedIds.has(runId)) this.endUnacked.delete(runId);
    }
    for (const run of this.active.values()) {
      if (run.agentId !== agentId || carried.has(run.id)) continue;
      if (run.status === 'assigned') this.requeue(run, 'the agent reconnected without having received the run');
      else if (run.status === 'running') {
        this.finish(run, { ...endedByHub('lost', 'the agent restarted and no longer runs it'), at: now });
      }
    }
    this.dispatchSoon();
    // The acked numbers must be on disk before the agent drops what they cover.
    if (!(await this.persist(Object.keys(acked)))) return { cancel, acked: {} };
    return { cancel, acked };
  }

  /**
   * Takes a queued run as assigned to the agent that reports running it. A
   * hub that stopped between sending an assignment and storing it restarts
   * with the run queued; sending it again would run it twice.
   */
  private adopt(run: Run, agentId: string, now: number): boolean {
    const recorded = this.recordAssignment(run, agentId, now, (agentName) => `attempt ${run.attempt} was already on agent ${agentName} when the hub restarted; it continues there`);
    if (!recorded) return false;
    this.log.info({ runId: run.id, agentId, attempt: run.attempt }, 'run taken over from the agent that reported it');
    return true;
  }

  /** Returns the reason the hub still wants a carried run stopped, or null when it does not. */
  private pendingCancelReason(run: Run, now: number): CancelReason | null {
    if (run.cancelRequestedAt !== null) return 'user';
    if (run.timeoutSec === null || run.startedAt === null) return null;
    return now - (run.startedAt + run.timeoutSec * 1000) >= this.timings.timeoutMarginMs ? 'timeout' : null;
  }

  /** Starts the grace period for every run of an agent that went offline. */
  agentDisconnected(agentId: string, now: number): void {
    for (const run of this.active.values()) {
      if (run.agentId === agentId && run.agentOfflineSince === null && run.status !== 'queued') {
        this.put({ ...run, agentOfflineSince: now });
        this.systemLine(run.id, now, 'agent went offline; the run continues if it comes back in time');
      }
    }
  }

  /** Agent forgotten by the user: its runs are lost at once. */
  agentForgotten(agentId: string, now: number): void {
    for (const run of this.activeRuns()) {
      if (run.agentId === agentId && run.status !== 'queued') {
        this.finish(run, { ...endedByHub('lost', 'its agent was removed from the fleet'), at: now });
      }
    }
  }

  // -------------------------------------------------------------------------
  // Periodic checks

  /** Enforces grace periods and the hub's side of timeouts; called about once a second. */
  tick(now: number): void {
    this.refreshWaiting = true;
    // A hold lasts at most the assignment timeout, so a run can still go to an agent whose acknowledgement never left (the store kept failing).
    for (const [runId, hold] of this.endUnacked) if (now - hold.since >= this.timings.assignTimeoutMs) this.endUnacked.delete(runId);
    const grace = this.timings.agentGraceMs();
    for (const run of this.activeRuns()) {
      if (run.agentOfflineSince !== null && now - run.agentOfflineSince >= grace) {
        const seconds = Math.round(grace / 1000);
        this.finish(run, { ...endedByHub('lost', `the agent was offline for more than ${seconds} s`), at: now });
      } else if (run.cancelRequestedAt !== null && now - run.cancelRequestedAt >= this.timings.cancelGraceMs) {
        this.finish(run, { ...endedByHub('cancelled', 'the agent did not confirm the cancel in time'), at: now });
      } else if (run.status === 'assigned') {
        this.checkAssigned(run, now);
      } else if (run.status === 'running') {
        this.checkTimeout(run, now);
      }
    }
    this.dispatchSoon();
  }

  private checkAssigned(run: Run, now: number): void {
    const since = this.assignedAt.get(run.id);
    if (since === undefined || now - since < this.timings.assignTimeoutMs) return;
    if (run.agentId) this.link.cancel(run.agentId, { runId: run.id, attempt: run.attempt }, 'stale');
    this.requeue(run, 'the agent did not start the run in time');
  }

  private checkTimeout(run: Run, now: number): void {
    if (run.timeoutSec === null || run.startedAt === null) return;
    const overdue = now - (run.startedAt + run.timeoutSec * 1000);
    const margin = this.timings.timeoutMarginMs;
    if (overdue >= 2 * margin) {
      this.finish(run, { ...endedByHub('timed_out', 'the agent did not report the end of the run after its timeout'), at: now });
    } else if (overdue >= margin && run.agentId && !this.timeoutCancelSent.has(run.id)) {
      this.timeoutCancelSent.add(run.id);
      this.link.cancel(run.agentId, { runId: run.id, attempt: run.attempt }, 'timeout');
    }
  }

  // -------------------------------------------------------------------------
  // Dispatch

  /**
   * Dispatches once the current synchronous work is done. Changes made
   * together (a batch of events, a burst of fires) share one pass, and a run
   * queued by an API request is on its way to an agent before the reply is
   * written.
   */
  dispatchSoon(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(() => {
      this.dispatchQueued = false;
      this.dispatch(Date.now());
    });
  }

  /**
   * Places queued runs, oldest first, while eligible agents remain. Once every
   * slot of the online fleet is taken, runs that already show a waiting reason
   * are passed over, and the pass after each tick recomputes every reason.
   */
  dispatch(now: number): void {
    if (this.queue.size === 0) return;
    const refresh = this.refreshWaiting;
    this.refreshWaiting = false;
    const snapshotStarted = performance.now();
    const candidates = this.fleet.candidates();
    const snapshotMs = performance.now() - snapshotStarted;
    const pass: DispatchPass = { now, candidates, free: freeSlots(candidates), unplaceable: new Map(), snapshotMs };
    for (const runId of this.queue.ids()) {
      if (pass.free <= 0 && !refresh) break;
      this.dispatchOne(runId, pass);
    }
    // With the fleet full, only runs queued since the last pass still need a waiting reason.
    if (pass.free <= 0 && !refresh) for (const runId of this.queue.withoutReason()) this.dispatchOne(runId, pass);
  }

  private dispatchOne(runId: string, pass: DispatchPass): void {
    const run = this.active.get(runId);
    if (!run || run.status !== 'queued') return;
    const outcome = this.placeOne(run, pass);
    if (outcome.kind === 'placed') pass.free -= 1;
    // A waiting reason is recomputed after a restart, so it is not worth a line in the run segment of its own.
    else if (outcome.kind === 'waiting' && outcome.reason !== run.waitingReason) this.put({ ...run, waitingReason: outcome.reason }, 'memory');
  }

  /** Tries to place one run on an agent. */
  private placeOne(run: Run, pass: DispatchPass): PlaceOutcome {
    if (run.notBefore !== null && run.notBefore > pass.now) return { kind: 'waiting', reason: run.waitingReason };
    const task = this.store.state.tasks.find((entry) => entry.id === run.taskId);
    if (!task) {
      this.finish(run, { ...endedByHub('failed', TASK_DELETED), at: pass.now, noRetry: true });
      return { kind: 'ended' };
    }
    const job = run.jobId ? this.store.state.jobs.find((entry) => entry.id === run.jobId) : undefined;
    const limit = job ? (job.overlap === 'parallel' ? job.maxParallel : 1) : Infinity;
    const busy = run.jobId ? this.queue.busy(run.jobId) : 0;
    if (busy >= limit) return { kind: 'waiting', reason: `waiting for ${limit === 1 ? 'the previous run' : `one of ${limit} running runs`} of this job to finish` };

    // Candidates only get busier during a pass, so tags no agent could take stay unplaceable until it ends.
    const tags = job?.tags ?? run.tags;
    const pinned = run.pinnedAgentId ?? null;
    const hold = this.endUnacked.get(run.id);
    // A run held back from one agent may be placeable where other runs with its tags are not, and the reverse.
    let tagsKey: string | null = null;
    if (hold === undefined) tagsKey = pinned === null ? tags.join(',') : `${tags.join(',')}@${pinned}`;
    const known = tagsKey === null ? undefined : pass.unplaceable.get(tagsKey);
    if (known !== undefined) return { kind: 'waiting', reason: known };
    const decisionStarted = performance.now();
    const placement = pickAgent(pass.candidates, { tags, avoid: run.previousAgentIds, pinned, exclude: hold ? [hold.agentId] : [] });
    const decisionMs = performance.now() - decisionStarted + pass.snapshotMs;
    // The fleet snapshot counts once per pass, with its first decision.
    pass.snapshotMs = 0;
    if (placementChannel.hasSubscribers) placementChannel.publish({ runId: run.id, agentId: placement.agentId, decisionMs } satisfies PlacementDecision);
    if (placement.agentId === null) {
      if (tagsKey !== null) pass.unplaceable.set(tagsKey, placement.waitingReason);
      return { kind: 'waiting', reason: placement.waitingReason };
    }
    // Checked only once an agent is found, because decrypting costs more than placing.
    const unreadable = job ? this.link.unreadableSecrets(job.env) : [];
    if (unreadable.length > 0) {
      this.finish(run, { ...endedByHub('failed', unreadableSecretsError(unreadable)), at: pass.now, noRetry: true });
      return { kind: 'ended' };
    }

    // The assignment updates the agent's session, which the pass's live candidates read.
    return this.startAssignment(run, task, placement.agentId, pass.now) ? { kind: 'placed' } : { kind: 'waiting', reason: run.waitingReason };
  }

  /**
   * Stores the run as assigned to the agent, counts it against the agent and
   * writes `line` (given the agent's name) to the run's log. Returns false
   * when the run cannot be assigned from its state.
   */
  private recordAssignment(run: Run, agentId: string, now: number, line: (agentName: string) => string): boolean {
    const assigned = assign(run, agentId);
    if (!assigned) return false;
    this.put(assigned);
    this.fleet.noteAssigned(agentId, run.id, now);
    this.assignedAt.set(run.id, now);
    this.systemLine(run.id, now, line(this.fleet.get(agentId)?.record.name ?? agentId));
    return true;
  }

  /** Assigns the run and sends it to the agent; false when the run cannot be assigned from its state. */
  private startAssignment(run: Run, task: Task, agentId: string, now: number): boolean {
    const recorded = this.recordAssignment({ ...run, taskVersion: task.version }, agentId, now, (agentName) => `attempt ${run.attempt} assigned to agent ${agentName}`);
    if (!recorded) return false;
    // Logged at debug, as 'run started' is, because at info these two lines cost every run two synchronous log writes.
    this.log.debug({ runId: run.id, agentId, attempt: run.attempt }, 'run assigned');

    const job = run.jobId ? this.store.state.jobs.find((entry) => entry.id === run.jobId) : undefined;
    const assignment: Assignment = {
      runId: run.id,
      attempt: run.attempt,
      jobId: run.jobId,
      jobName: run.jobName,
      taskId: task.id,
      taskName: task.name,
      runtime: task.runtime,
      code: task.code,
      hash: task.hash,
      config: run.config,
      env: job?.env ?? {},
      secretEnv: [],
      timeoutSec: run.timeoutSec,
    };
    this.link.assign(agentId, assignment).then(
      (reply) => this.onAssignReply(run.id, run.attempt, agentId, reply),
      (error: unknown) => this.log.error({ err: error, runId: run.id, agentId }, 'assignment failed'),
    );
    return true;
  }

  private onAssignReply(runId: string, attempt: number, agentId: string, reply: AssignReply | null): void {
    const run = this.active.get(runId);
    if (!run || run.attempt !== attempt || run.agentId !== agentId || run.status !== 'assigned') return;
    // No reply: the agent went offline (its grace period runs) or is slow (checkAssigned requeues it).
    if (reply === null || reply.accepted) return;
    if (reply.reason === 'duplicate') {
      // The attempt was queued again after this agent had it, and an agent never runs an attempt twice, so only a new attempt can run.
      const agentName = this.fleet.get(agentId)?.record.name ?? agentId;
      this.finish(run, { ...endedByHub('lost', `agent ${agentName} had already received attempt ${attempt} and does not run it again`), at: Date.now() });
      return;
    }
    if (reply.reason === 'draining') this.fleet.noteRefusal(agentId, 'stopping');
    if (reply.reason === 'no_free_slot') this.fleet.noteRefusal(agentId, 'busy');
    this.requeue(run, `agent refused the run: ${reply.reason.replace(/_/g, ' ')}`);
  }

  // -------------------------------------------------------------------------
  // State changes

  private requeue(run: Run, reason: string): void {
    this.assignedAt.delete(run.id);
    this.fleet.noteReleased(run.agentId, run.id);
    this.commit(unassign(run, reason), 'run queued again', { reason });
    this.dispatchSoon();
  }

  private finish(run: Run, attemptOutcome: AttemptOutcome): Run | undefined {
    const outcome = this.withoutRetryIfTaskDeleted(run, attemptOutcome);
    const next = finishAttempt(run, outcome);
    if (!next) return run;
    this.assignedAt.delete(run.id);
    this.timeoutCancelSent.delete(run.id);
    this.fleet.noteReleased(run.agentId, run.id);
    if (next.status === 'queued') {
      this.systemLine(run.id, outcome.at, `attempt ${run.attempt} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}; retrying`);
      this.commit(next, 'run will be retried', { status: outcome.status, attempt: next.attempt });
    } else {
      // The hub's own reasons go to the log too; an agent's error is in its output already.
      if (outcome.error && (outcome.status === 'lost' || run.cancelRequestedAt !== null || outcome.noRetry === true)) this.systemLine(run.id, outcome.at, outcome.error);
      this.commit(next, 'run finished', { status: next.status, exitCode: next.exitCode });
      this.logLineCounts.delete(run.id);
      this.gaps.delete(run.id);
    }
    this.dispatchSoon();
    return next;
  }

  /** Another attempt of a run whose task was deleted would only fail again, so its outcome becomes final. */
  private withoutRetryIfTaskDeleted(run: Run, outcome: AttemptOutcome): AttemptOutcome {
    if (outcome.noRetry || outcome.status === 'succeeded' || outcome.status === 'cancelled') return outcome;
    if (this.store.state.tasks.some((task) => task.id === run.taskId)) return outcome;
    const error = outcome.error === null ? TASK_DELETED : `${outcome.error}; not retried because its task was deleted`;
    return { ...outcome, error, noRetry: true };
  }

  /** Records a transition's result, if it was allowed, and logs it. */
  private commit(next: Run | null, message: string, fields: Record<string, unknown> = {}, level: 'info' | 'debug' = 'info'): Run | undefined {
    if (!next) return undefined;
    this.put(next);
    this.log[level]({ runId: next.id, jobId: next.jobId, agentId: next.agentId, ...fields }, message);
    return next;
  }

  /** Records a run's new state; `memory` keeps it off the disk until the run's next write. */
  private put(run: Run, keep: 'disk' | 'memory' = 'disk'): void {
    const previous = this.active.get(run.id);
    if (isFinal(run.status)) {
      this.active.delete(run.id);
      this.endUnacked.delete(run.id);
    } else {
      this.active.set(run.id, run);
    }
    this.queue.update(run.id, previous, isFinal(run.status) ? undefined : run);
    if (keep === 'disk') {
      this.dirty.delete(run.id);
      this.store.runs.put(run);
    } else {
      this.store.runs.update(run);
    }
    this.emit('run', run);
  }

  /** Updates counters in memory; the store gets them with the next flush. */
  private markDirty(run: Run): void {
    const previous = this.active.get(run.id);
    this.active.set(run.id, run);
    this.queue.update(run.id, previous, run);
    this.dirty.add(run.id);
  }

  /** Writes one run's pending changes now. */
  private putDirty(runId: string): void {
    const run = this.active.get(runId);
    if (run && this.dirty.has(runId)) this.put(run);
  }

  private flushDirtySoon(): void {
    if (this.dirtyTimer || this.dirty.size === 0) return;
    this.dirtyTimer = setTimeout(() => this.flushDirty(), 200);
  }

  /** Writes every run whose counters changed; called on a short timer and at stop. */
  flushDirty(): void {
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = null;
    for (const runId of this.dirty) {
      const run = this.active.get(runId);
      if (run) this.put(run);
    }
    this.dirty.clear();
  }

  /** Lines appended so far to a run's log; 0 for a run that is final, whose log no longer grows. */
  lineCount(runId: string): number {
    return this.logLineCounts.get(runId) ?? 0;
  }

  private countLines(runId: string, added: number): void {
    this.logLineCounts.set(runId, (this.logLineCounts.get(runId) ?? 0) + added);
  }

  private systemLine(runId: string, at: number, message: string): void {
    const lines: StoredLogLine[] = [{ t: at, s: 'system', m: message }];
    this.store.logs.appendLog(runId, lines);
    this.countLines(runId, 1);
    this.emit('log', runId, lines);
  }

  /**
   * Tells whether a gap in a run's events can never be filled. The hub
   * acknowledges a gap at its lastSeq, and an agent that still has the
   * missing events resends from there. One that sends the same gap again dropped
   * them once they were acknowledged: the store lost them since (a damaged
   * or restored data directory), and waiting would stall the run for good.
   */
  private agentCannotFill(run: Run, event: RunEvent): boolean {
    const previous = this.gaps.get(run.id);
    if (previous && previous.attempt === event.attempt && previous.seq === event.seq && previous.lastSeq === run.lastSeq) {
      this.gaps.delete(run.id);
      return true;
    }
    this.gaps.set(run.id, { attempt: event.attempt, seq: event.seq, lastSeq: run.lastSeq });
    return false;
  }

  private noteStale(agentId: string, event: RunEvent, run: Run | undefined, now: number): void {
    const fields = { agentId, runId: event.runId, attempt: event.attempt, seq: event.seq, type: event.type, status: run?.status, currentAttempt: run?.attempt };
    this.warnings.warn(`stale:${event.runId}:${event.attempt}`, fields, 'event for a run that is final or moved to another attempt, ignored');
    // Output a user would look for, such as what an attempt printed after it was declared lost, gets a line in the log that marks it missing.
    if (!run || (event.type !== 'log' && event.type !== 'records')) return;
    // A resend of output the final attempt already stored is no loss.
    if (event.attempt === run.attempt && event.seq <= run.lastSeq) return;
    const key = `${run.id}:${event.attempt}`;
    if (this.droppedOutputNoted.has(key)) return;
    if (this.droppedOutputNoted.size >= 10_000) this.droppedOutputNoted.clear();
    this.droppedOutputNoted.add(key);
    this.systemLine(run.id, now, `output of attempt ${event.attempt} that arrived after the attempt had ended was not stored`);
  }
}

const TASK_DELETED = 'its task was deleted';
/** Start of the error an agent reports for a run whose process it could not create. */
const START_ERROR_PREFIX = 'could not start the task';

/** Tells whether a run ended on its agent before its task started: a failure of the agent, not of the task. */
function isStartFailure(run: Run, event: Extract<RunEvent, { type: 'finished' }>): boolean {
  if (event.status !== 'failed') return false;
  return run.status === 'assigned' || (event.error?.startsWith(START_ERROR_PREFIX) ?? false);
}

/** Tells whether the run's current attempt is newer than `attempt` and on this same agent. */
function hasNewerAttemptOn(run: Run | undefined, agentId: string, attempt: number): boolean {
  return run !== undefined && !isFinal(run.status) && run.agentId === agentId && run.attempt > attempt;
}

function unreadableSecretsError(keys: readonly string[]): string {
  const names = keys.join(', ');
  const subject = keys.length === 1 ? `the secret environment variable ${names}` : `the secret environment variables ${names}`;
  return `${subject} cannot be decrypted by this hub: it was encrypted by another hub or with a secret key this hub no longer has. Enter ${keys.length === 1 ? 'its value' : 'their values'} again in the job.`;
}

function endedByHub(status: AttemptOutcome['status'], error: string): Omit<AttemptOutcome, 'at'> {
  return { status, exitCode: null, signal: null, error, result: null, logTruncated: false };
}

function dedupeRefs(refs: RunRef[]): RunRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = `${ref.runId}:${ref.attempt}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
