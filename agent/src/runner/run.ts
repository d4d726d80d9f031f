/**
 * One run of a task in its own process group: output, timeout, cancel and
 * the final status. The runtime-specific parts (shell script or node task
 * host) come from a launcher.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { RunKey } from '../outbox.js';
import { LIMITS, type AgentFinalStatus, type Assignment, type Json } from '../protocol/index.js';
import { describeExit, type ProcessExit } from './exit-reasons.js';
import { LineSplitter } from './lines.js';
import { startNodeTask } from './node.js';
import { RunOutput, type RunEventSink } from './output.js';
import { forgetProcess, recordProcess } from './orphans.js';
import { isProcessTreeAlive, signalProcessTree } from './process-tree.js';
import { startShellTask } from './shell.js';
import { removeScratchDir } from './spare-files.js';
import type { Launcher, RunSettings, RunStopReason, TaskProcess } from './types.js';

/** The part of the outbox a run uses: where events go, and whether to hold back output. */
export interface RunSink extends RunEventSink {
  readonly isUnderPressure: boolean;
  onceRelieved(listener: () => void): () => void;
}

export interface RunOutcome {
  status: AgentFinalStatus;
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  result: Json | null;
  logTruncated: boolean;
}

const LAUNCHERS: Record<Assignment['runtime'], Launcher> = { shell: startShellTask, node: startNodeTask };

const STOP_REASONS: Record<RunStopReason, string> = {
  user: 'cancelled by a user',
  timeout: 'timed out',
  stale: 'cancelled because the hub moved the run to a newer attempt',
  hub_lost_track: 'cancelled because the hub no longer tracks this run',
  agent_stopping: 'cancelled because the agent is stopping',
};

const MAX_ERROR_CHARS = 4000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Run {
  readonly key: RunKey;
  /** Resolves once the `finished` event is queued; never rejects. */
  readonly finished: Promise<RunOutcome>;
  private readonly output: RunOutput;
  private readonly runDir: string;
  /** Name of the run's scratch directory and of its process record. */
  private readonly name: string;
  private resolveFinished: (outcome: RunOutcome) => void = () => undefined;
  private task: TaskProcess | null = null;
  private splitters: LineSplitter[] = [];
  private exit: ProcessExit | null = null;
  /** Reason the run was stopped, or null when the stop came after the task had exited by itself. */
  private stopReason: RunStopReason | null = null;
  private stopRequested = false;
  private startError: string | null = null;
  private done = false;
  private paused = false;
  private releasePressure: (() => void) | null = null;
  private timeoutTimer: NodeJS.Timeout | null = null;
  private stdioTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly assignment: Assignment,
    private readonly sink: RunSink,
    private readonly settings: RunSettings,
  ) {
    this.key = { runId: assignment.runId, attempt: assignment.attempt };
    this.output = new RunOutput(this.key, sink, secretValues(assignment), {
      maxLineBytes: LIMITS.maxLineBytes,
      maxRunLogBytes: settings.maxRunLogBytes,
    });
    this.name = runDirName(assignment);
    this.runDir = path.join(settings.dataDir, 'runs', this.name);
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  get isDone(): boolean {
    return this.done;
  }

  /** Starts the task; a failure to start becomes a failed run, never a rejection. */
  async start(): Promise<void> {
    try {
      // One microtask, so that a cancel in the same turn as the start ends the run before its process exists.
      await Promise.resolve();
      this.createRunDir();
      if (this.stopReason !== null) {
        this.finalize();
        return;
      }
      this.task = await LAUNCHERS[this.assignment.runtime]({
        assignment: this.assignment,
        settings: this.settings,
        runDir: this.runDir,
        output: this.output,
        baseEnv: this.settings.baseEnv ?? agentEnvironment(),
        onOutput: () => this.applyPressure(),
      });
    } catch (error: unknown) {
      this.startError = `could not start the task: ${errorMessage(error)}`;
      this.finalize();
      return;
    }
    this.attach(this.task);
  }

  /** Stops the run with SIGTERM, then SIGKILL after the grace period; repeated calls do nothing. */
  cancel(reason: RunStopReason): void {
    if (this.done || this.stopRequested) return;
    this.stopRequested = true;
    if (this.exit === null) this.stopReason = reason;
    // Before the process exists, start() checks stopReason and attach() signals the new process.
    if (this.task !== null) this.signalStop(this.task, reason);
  }

  /** Sends SIGKILL to the process group at once, for an agent that exits now. */
  killNow(): void {
    if (this.task !== null && isProcessTreeAlive(this.task.child)) signalProcessTree(this.task.child, 'SIGKILL');
  }

  private attach(task: TaskProcess): void {
    const { child } = task;
    this.sink.push(this.key, { type: 'started', pid: child.pid ?? null });
    this.settings.log.info({ runId: this.key.runId, attempt: this.key.attempt, taskPid: child.pid }, 'run started');
    // The record goes right after the outbox's send of `started` (its immediate was queued first), so the hub
    // learns of the start without waiting for the file. The trade: an agent killed with SIGKILL (or by the OOM
    // killer) in the one turn of the event loop in between leaves its task unrecorded. Its next start then finds
    // that task only by the run ids in its environment (Linux only, leftovers.ts). Every other way out of the
    // agent kills its process groups itself.
    setImmediate(() => {
      if (!this.done) this.recordProcessGroup(child.pid);
    });
    const lineCap = Math.max(LIMITS.maxLineBytes, LIMITS.maxRecordBytes + 64);
    if (child.stdout !== null) {
      this.readLines(child.stdout, new LineSplitter(lineCap, (text, bytes) => {
        if (!task.handleStdoutLine(text, bytes)) this.output.line('stdout', text, bytes);
      }));
    }
    if (child.stderr !== null) {
      this.readLines(child.stderr, new LineSplitter(lineCap, (text, bytes) => this.output.line('stderr', text, bytes)));
    }
    child.on('exit', (exitCode, signal) => this.handleExit({ exitCode, signal }));
    child.on('close', () => this.finalize());
    child.on('error', (error) => {
      if (child.pid !== undefined) {
        this.settings.log.warn({ runId: this.key.runId, err: error }, 'task process error');
        return;
      }
      this.startError ??= `could not start the task: ${error.message}`;
      this.finalize();
    });
    if (this.stopReason !== null) this.signalStop(task, this.stopReason);
    const timeoutSec = this.assignment.timeoutSec;
    if (timeoutSec !== null) {
      // setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days), so longer limits are capped there.
      const delay = Math.min(timeoutSec * 1000, MAX_TIMER_MS);
      this.timeoutTimer = setTimeout(() => this.cancel('timeout'), delay);
    }
  }

  private readLines(stream: Readable, splitter: LineSplitter): void {
    this.splitters.push(splitter);
    stream.on('data', (chunk: Buffer) => {
      splitter.write(chunk);
      this.applyPressure();
    });
    stream.on('end', () => splitter.end());
    stream.on('error', () => splitter.end());
  }

  /** Stops reading output while the outbox is over its bound, so the child blocks instead of memory growing. */
  private applyPressure(): void {
    if (this.paused || this.done || !this.sink.isUnderPressure || this.task === null) return;
    this.paused = true;
    const { child } = this.task;
    child.stdout?.pause();
    child.stderr?.pause();
    this.task.setPaused(true);
    this.releasePressure = this.sink.onceRelieved(() => {
      this.paused = false;
      this.releasePressure = null;
      child.stdout?.resume();
      child.stderr?.resume();
      this.task?.setPaused(false);
    });
  }

  private handleExit(exit: ProcessExit): void {
    this.exit = exit;
    if (this.timeoutTimer !== null) clearTimeout(this.timeoutTimer);
    this.stdioTimer = setTimeout(() => this.handleStdioStillOpen(), this.settings.stdioGraceMs);
  }

  /** Finalises a run whose stdout or stderr a background process still keeps open after the task exited. */
  private handleStdioStillOpen(): void {
    const task = this.task;
    if (this.done || task === null) return;
    if (this.paused) {
      // The pipes are open because the run is waiting for the outbox, not because of a leftover process.
      this.stdioTimer = setTimeout(() => this.handleStdioStillOpen(), this.settings.stdioGraceMs);
      return;
    }
    const seconds = this.settings.stdioGraceMs / 1000;
    this.output.system(`the task exited but its output was still open ${seconds} s later; killing the processes left in its group`);
    signalProcessTree(task.child, 'SIGKILL');
    task.child.stdout?.destroy();
    task.child.stderr?.destroy();
    this.finalize();
  }

  /** Ends what the run left running; a stopped run's processes first get the kill grace period that escalate() gives them. */
  private sweepLeftovers(): void {
    const { leftovers, killGraceMs } = this.settings;
    if (!leftovers) return;
    const sweep = () => leftovers.sweep(this.key, this.task?.child.pid);
    if (this.stopReason === null) sweep();
    else setTimeout(sweep, killGraceMs).unref();
  }

  private stopText(reason: RunStopReason): string {
    const limit = this.assignment.timeoutSec;
    return reason === 'timeout' && limit !== null ? `timed out after ${limit} s` : STOP_REASONS[reason];
  }

  private signalStop(task: TaskProcess, reason: RunStopReason): void {
    this.settings.log.info({ runId: this.key.runId, attempt: this.key.attempt, reason }, 'stopping run');
    // The hub writes its own line for a user's cancel; the other reasons are known here only.
    if (reason !== 'user') this.output.system(`${this.stopText(reason)}; sending SIGTERM`);
    task.beforeStop(reason);
    signalProcessTree(task.child, 'SIGTERM');
    const timer = setTimeout(() => this.escalate(task), this.settings.killGraceMs);
    timer.unref();
  }

  private escalate(task: TaskProcess): void {
    if (!isProcessTreeAlive(task.child)) return;
    this.output.system(`still running ${this.settings.killGraceMs} ms after SIGTERM; sending SIGKILL`);
    signalProcessTree(task.child, 'SIGKILL');
  }

  private finalize(): void {
    if (this.done) return;
    this.done = true;
    if (this.timeoutTimer !== null) clearTimeout(this.timeoutTimer);
    if (this.stdioTimer !== null) clearTimeout(this.stdioTimer);
    this.releasePressure?.();
    for (const splitter of this.splitters) splitter.end();
    this.output.flush();

    const outcome = this.decideOutcome();
    this.sink.push(this.key, { type: 'finished', ...outcome });
    this.task?.dispose();
    this.sweepLeftovers();
    // NOTE: the record goes before the outbox has written `finished` to its spool. An agent killed in those few
    // milliseconds reports the run as interrupted at its next start.
    this.forgetProcessGroup();
    this.settings.log.info({ runId: this.key.runId, attempt: this.key.attempt, status: outcome.status }, 'run finished');
    removeScratchDir(this.runDir).catch((error: unknown) => {
      this.settings.log.warn({ runId: this.key.runId, err: error }, 'could not remove the run directory');
    });
    this.resolveFinished(outcome);
  }

  /**
   * Creates the scratch directory synchronously, as a spare moved into place
   * for a shell run (with the empty `config.json` it writes), because a
   * trip to libuv's thread pool would only delay the task's start.
   */
  private createRunDir(): void {
    if (this.assignment.runtime === 'shell' && this.settings.spares?.takeDir(this.runDir) === true) return;
    mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
  }

  /** Records the process group, so an agent killed with SIGKILL can end it at its next start. */
  private recordProcessGroup(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      recordProcess(this.settings.dataDir, this.name, this.key, pid, this.settings.spares);
    } catch (error: unknown) {
      this.settings.log.warn({ runId: this.key.runId, err: error }, 'could not record the run process group');
      this.output.system(`could not record this run's process group in the data directory (${errorMessage(error)}); if the agent is killed, its next start cannot end them`);
    }
  }

  private forgetProcessGroup(): void {
    forgetProcess(this.settings.dataDir, this.name).catch((error: unknown) => {
      this.settings.log.warn({ runId: this.key.runId, err: error }, 'could not remove the run process record');
    });
  }

  private decideOutcome(): RunOutcome {
    const exit = this.exit ?? { exitCode: null, signal: null };
    const base = { exitCode: exit.exitCode, signal: exit.signal, logTruncated: this.output.logTruncated };
    const result = this.task === null ? null : this.output.maskJson(this.task.result() ?? null);

    if (this.stopReason !== null) return { ...base, status: this.stopReason === 'timeout' ? 'timed_out' : 'cancelled', error: this.stopText(this.stopReason), result };
    if (this.startError !== null) return { ...base, status: 'failed', error: this.cutError(this.startError), result: null };

    const failure = this.task?.failure(exit) ?? null;
    if (failure !== null) return { ...base, status: 'failed', error: this.cutError(failure), result };
    const resultBytes = Buffer.byteLength(JSON.stringify(result));
    if (resultBytes > LIMITS.maxRecordBytes) {
      const error = `the result is ${resultBytes} bytes of JSON, over the limit of ${LIMITS.maxRecordBytes}`;
      return { ...base, status: 'failed', error, result: null };
    }
    if (exit.exitCode === 0) return { ...base, status: 'succeeded', error: null, result };
    return { ...base, status: 'failed', error: describeExit(exit), result };
  }

  private cutError(text: string): string {
    return this.output.mask(text).slice(0, MAX_ERROR_CHARS);
  }
}

/**
 * Removes the scratch directories of runs from an earlier agent process,
 * which an agent that was killed could not clean up. No run of this process exists yet.
 */
export async function removeLeftoverRunDirs(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, 'runs'), { recursive: true, force: true });
}

function secretValues(assignment: Assignment): string[] {
  return assignment.secretEnv.map((key) => assignment.env[key]).filter((value): value is string => value !== undefined);
}

/** Run ids come from the hub and may hold any character, so unusual ones are hashed into a safe name. */
function runDirName(assignment: Assignment): string {
  const safe = /^[A-Za-z0-9_-]{1,64}$/.test(assignment.runId)
    ? assignment.runId
    : createHash('sha256').update(assignment.runId).digest('hex').slice(0, 32);
  return `${safe}-${assignment.attempt}`;
}

/** Tasks inherit the agent's environment, but never its enrollment token. */
export function agentEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.FARMBOY_AGENT_TOKEN;
  return env;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
