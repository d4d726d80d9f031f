/**
 * Processes started ahead of their runs, one unused process per free slot.
 *
 * Node task hosts: starting Node takes tens of milliseconds (about 60 ms on
 * a 2-core VM), most of it before any task code could run, so a node run
 * gets a host that is ready at once.
 *
 * Shells: forking the agent, a large process, blocks it for a millisecond
 * or two. So a shell run writes its launch commands to a shell that exists
 * already (`warm-shell.ts`).
 *
 * A process is used by one run only: taking it removes it from the pool, and
 * the run's end ends the process. Nothing of one run is seen by the next,
 * because the next run gets another process. A process receives everything
 * specific to its run (task, config, environment, working directory) after
 * it was taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../logger.js';
import { parseMessage } from '../protocol/index.js';
import { hostToAgentSchema } from '../task-host-protocol.js';
import { signalProcessTree } from './process-tree.js';

/** The kind of process a pool keeps ready, and the event that marks one ready. */
export interface WarmProcessKind {
  /** Names the processes in log lines. */
  name: string;
  start(cwd: string, env: NodeJS.ProcessEnv): ChildProcess;
  /** `message`: ready once it sends `ready` over IPC; `spawn`: ready once it exists. */
  readyOn: 'message' | 'spawn';
  /** Whether a ready process can still be handed to a run. */
  usable(child: ChildProcess): boolean;
}

export interface WarmPoolOptions {
  kind: WarmProcessKind;
  /** Working directory of an unused process; a run moves it to the run's scratch directory. */
  idleCwd: string;
  /** Environment of every process: the agent's, without its token. */
  env: NodeJS.ProcessEnv;
  /** Most unused processes kept, whatever the number of free slots; 0 turns the pool off. */
  maxProcesses: number;
  /** A process that has not reported ready after this long is killed. */
  readyTimeoutMs: number;
  /** Wait after a slot frees before a replacement starts, so a busy agent does not start processes it kills again. */
  refillDelayMs?: number;
  /**
   * How long the pool must have been larger than the free slots before the
   * surplus processes end. Without it, an agent whose slots keep filling and
   * freeing ended and started a process every few runs.
   */
  trimDelayMs?: number;
  log: Logger;
}

/** Spawn options shared by pooled and cold hosts, so a run cannot tell which kind it got. */
export function taskHostSpawnOptions(cwd: string, env: NodeJS.ProcessEnv) {
  return {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json' as const,
    windowsHide: true,
  };
}

/** Node task hosts, which send `ready` over IPC once they can load a task module. */
export function taskHostKind(taskHostPath: string): WarmProcessKind {
  return {
    name: 'task host',
    start: (cwd, env) => spawn(process.execPath, [taskHostPath], taskHostSpawnOptions(cwd, env)),
    readyOn: 'message',
    usable: (child) => child.connected,
  };
}

interface PooledProcess {
  child: ChildProcess;
  ready: boolean;
  readyTimer: NodeJS.Timeout;
  /** Detaches the pool's listeners, before the process is handed over or after it died. */
  release(): void;
}

/** Processes that may die before ready in a row before the pool stops starting more. */
const MAX_FAILED_STARTS = 3;
const DEFAULT_REFILL_DELAY_MS = 200;
const DEFAULT_TRIM_DELAY_MS = 1_000;

export class WarmPool {
  private readonly processes = new Set<PooledProcess>();
  private target = 0;
  private failedStarts = 0;
  private stopped = false;
  private refillTimer: NodeJS.Timeout | null = null;
  /** Lowest target since the refill timer was set: a process starts only for a slot that stayed free. */
  private refillTarget = 0;
  private trimTimer: NodeJS.Timeout | null = null;
  /** Highest target since the trim timer was set: only processes surplus all along end. */
  private trimTarget = 0;

  constructor(private readonly options: WarmPoolOptions) {}

  /** Unused processes, ready or starting. */
  get size(): number {
    return this.processes.size;
  }

  /** Processes that are ready to take a run now. */
  get readyCount(): number {
    let ready = 0;
    for (const entry of this.processes) if (entry.ready) ready += 1;
    return ready;
  }

  /** Process ids of the unused processes, ready or starting. */
  hostPids(): number[] {
    return [...this.processes].flatMap((entry) => (entry.child.pid === undefined ? [] : [entry.child.pid]));
  }

  /**
   * Sets the number of free slots. Surplus unused processes end once the pool
   * has been too large for the trim delay, or at once with `now` (an agent
   * that drains or stops), so a full agent soon has none. Missing ones start
   * after the refill delay, one at a time.
   */
  resize(freeSlots: number, now = false): void {
    if (this.stopped) return;
    this.target = Math.max(0, Math.min(freeSlots, this.options.maxProcesses));
    this.refillTarget = Math.min(this.refillTarget, this.target);
    this.trimTarget = Math.max(this.trimTarget, this.target);
    if (now) this.trim(this.target);
    else this.scheduleTrim();
    this.scheduleRefill();
  }

  /** Takes a ready process out of the pool for one run, or returns null when none is ready. */
  take(): ChildProcess | null {
    for (const entry of this.processes) {
      if (!entry.ready || !this.options.kind.usable(entry.child)) continue;
      this.processes.delete(entry);
      entry.release();
      return entry.child;
    }
    return null;
  }

  /** Ends every unused process and starts no more. */
  stop(): void {
    this.stopped = true;
    if (this.refillTimer !== null) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    if (this.trimTimer !== null) clearTimeout(this.trimTimer);
    this.trimTimer = null;
    for (const entry of [...this.processes]) this.discard(entry);
  }

  /** Starting processes go first, then ready ones, so that processes already paid for are kept. */
  private pickSurplus(): PooledProcess | undefined {
    let surplus: PooledProcess | undefined;
    for (const entry of this.processes) {
      surplus = entry;
      if (!entry.ready) break;
    }
    return surplus;
  }

  private trim(size: number): void {
    while (this.processes.size > size) {
      const entry = this.pickSurplus();
      if (entry === undefined) break;
      this.discard(entry);
    }
  }

  /** Ends the processes that stayed surplus for the whole trim delay. */
  private scheduleTrim(): void {
    if (this.trimTimer !== null || this.processes.size <= this.target) return;
    this.trimTarget = this.target;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = null;
      if (this.stopped) return;
      this.trim(this.trimTarget);
      this.scheduleTrim();
    }, this.options.trimDelayMs ?? DEFAULT_TRIM_DELAY_MS);
    this.trimTimer.unref();
  }

  /** Starts the next missing process after `delayMs` if its slot stayed free meanwhile; processes start one at a time. */
  private scheduleRefill(delayMs = this.options.refillDelayMs ?? DEFAULT_REFILL_DELAY_MS): void {
    if (this.stopped || this.refillTimer !== null || this.processes.size >= this.target || this.isStarting()) return;
    this.refillTarget = this.target;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      if (this.stopped || this.isStarting()) return;
      if (this.processes.size < Math.min(this.refillTarget, this.target)) this.startProcess();
      else this.scheduleRefill();
    }, delayMs);
    this.refillTimer.unref();
  }

  private isStarting(): boolean {
    for (const entry of this.processes) if (!entry.ready) return true;
    return false;
  }

  private startProcess(): void {
    const { kind } = this.options;
    let child: ChildProcess;
    try {
      child = kind.start(this.options.idleCwd, this.options.env);
    } catch (error: unknown) {
      this.noteFailedStart(error);
      return;
    }
    // Output of an unused process stays in its pipes; the run that takes it reads it.
    child.on('error', (error) => this.options.log.debug({ err: error }, `warm ${kind.name} error`));
    const entry: PooledProcess = {
      child,
      ready: false,
      readyTimer: setTimeout(() => this.handleReadyTimeout(entry), this.options.readyTimeoutMs),
      release: () => {
        clearTimeout(entry.readyTimer);
        child.off('message', onMessage);
        child.off('spawn', onSpawn);
        child.off('exit', onExit);
      },
    };
    const onMessage = (raw: unknown): void => {
      const parsed = parseMessage(hostToAgentSchema, raw);
      if (parsed.ok && parsed.value.type === 'ready') this.markReady(entry);
    };
    const onSpawn = (): void => this.markReady(entry);
    const onExit = (): void => this.handleExit(entry);
    if (kind.readyOn === 'message') child.on('message', onMessage);
    else child.on('spawn', onSpawn);
    child.on('exit', onExit);
    this.processes.add(entry);
  }

  private markReady(entry: PooledProcess): void {
    if (entry.ready) return;
    entry.ready = true;
    clearTimeout(entry.readyTimer);
    this.failedStarts = 0;
    this.scheduleRefill(0);
  }

  private handleExit(entry: PooledProcess): void {
    if (!this.processes.delete(entry)) return;
    entry.release();
    if (!entry.ready) this.noteFailedStart(new Error(`exit code ${String(entry.child.exitCode)}, signal ${String(entry.child.signalCode)}`));
    else this.options.log.warn({ childPid: entry.child.pid }, `unused warm ${this.options.kind.name} exited, starting another`);
    this.scheduleRefill();
  }

  private handleReadyTimeout(entry: PooledProcess): void {
    if (!this.processes.has(entry) || entry.ready) return;
    this.discard(entry);
    this.noteFailedStart(new Error(`not ready within ${this.options.readyTimeoutMs} ms`));
    this.scheduleRefill();
  }

  private noteFailedStart(error: unknown): void {
    this.failedStarts += 1;
    if (this.failedStarts < MAX_FAILED_STARTS) {
      this.options.log.warn({ err: error }, `warm ${this.options.kind.name} failed to start`);
      return;
    }
    // Runs still start cold processes, which report the failure on the run itself.
    this.options.log.error({ err: error, failedStarts: this.failedStarts }, `warm ${this.options.kind.name} processes keep failing to start, pool turned off`);
    this.stop();
  }

  private discard(entry: PooledProcess): void {
    this.processes.delete(entry);
    entry.release();
    if (entry.child.exitCode === null && entry.child.signalCode === null) signalProcessTree(entry.child, 'SIGKILL');
  }
}
