/**
 * Node task hosts started ahead of their runs. Starting Node takes tens of
 * milliseconds (about 60 ms on a 2-core VM), most of it before any task
 * code could run. So the agent keeps one unused, already started host per
 * free slot and hands a node run a host that is ready at once.
 *
 * A host is used by one run only: taking it removes it from the pool, and
 * the run's end ends the process. Nothing of one run is seen by the next,
 * because the next run gets another process. A host receives everything
 * specific to its run (module, config, environment, working directory) in
 * the `run` message after it was taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../logger.js';
import { parseMessage } from '../protocol/index.js';
import { hostToAgentSchema } from '../task-host-protocol.js';
import { signalProcessTree } from './process-tree.js';

export interface WarmPoolOptions {
  taskHostPath: string;
  /** Working directory of an unused host; a run moves its host to the run's scratch directory. */
  idleCwd: string;
  /** Environment of every host: the agent's, without its token. */
  env: NodeJS.ProcessEnv;
  /** Most unused hosts kept, whatever the number of free slots; 0 turns the pool off. */
  maxHosts: number;
  /** A host that has not reported ready after this long is killed. */
  readyTimeoutMs: number;
  /** Wait after a slot frees before a replacement host starts, so a busy agent does not start hosts it kills again. */
  refillDelayMs?: number;
  /**
   * How long the pool must have been larger than the free slots before the
   * surplus hosts end. Without it, an agent whose slots keep filling and
   * freeing ended and started a host every few runs.
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

interface PooledHost {
  child: ChildProcess;
  ready: boolean;
  readyTimer: NodeJS.Timeout;
  /** Detaches the pool's listeners, before the host is handed over or after it died. */
  release(): void;
}

/** Hosts that may die before ready in a row before the pool stops starting more. */
const MAX_FAILED_STARTS = 3;
const DEFAULT_REFILL_DELAY_MS = 200;
const DEFAULT_TRIM_DELAY_MS = 1_000;

export class WarmPool {
  private readonly hosts = new Set<PooledHost>();
  private target = 0;
  private failedStarts = 0;
  private stopped = false;
  private refillTimer: NodeJS.Timeout | null = null;
  /** Lowest target since the refill timer was set: a host starts only for a slot that stayed free. */
  private refillTarget = 0;
  private trimTimer: NodeJS.Timeout | null = null;
  /** Highest target since the trim timer was set: only hosts surplus all along end. */
  private trimTarget = 0;

  constructor(private readonly options: WarmPoolOptions) {}

  /** Unused hosts, ready or starting. */
  get size(): number {
    return this.hosts.size;
  }

  /** Hosts that are ready to take a run now. */
  get readyCount(): number {
    let ready = 0;
    for (const host of this.hosts) if (host.ready) ready += 1;
    return ready;
  }

  /** Process ids of the unused hosts, ready or starting. */
  hostPids(): number[] {
    return [...this.hosts].flatMap((host) => (host.child.pid === undefined ? [] : [host.child.pid]));
  }

  /**
   * Sets the number of free slots. Surplus unused hosts end once the pool
   * has been too large for the trim delay, or at once with `now` (an agent
   * that drains or stops), so a full agent soon has none. Missing ones start
   * after the refill delay, one at a time.
   */
  resize(freeSlots: number, now = false): void {
    if (this.stopped) return;
    this.target = Math.max(0, Math.min(freeSlots, this.options.maxHosts));
    this.refillTarget = Math.min(this.refillTarget, this.target);
    this.trimTarget = Math.max(this.trimTarget, this.target);
    if (now) this.trim(this.target);
    else this.scheduleTrim();
    this.scheduleRefill();
  }

  /** Takes a ready host out of the pool for one run, or returns null when none is ready. */
  take(): ChildProcess | null {
    for (const host of this.hosts) {
      if (!host.ready || !host.child.connected) continue;
      this.hosts.delete(host);
      host.release();
      return host.child;
    }
    return null;
  }

  /** Ends every unused host and starts no more. */
  stop(): void {
    this.stopped = true;
    if (this.refillTimer !== null) clearTimeout(this.refillTimer);
    this.refillTimer = null;
    if (this.trimTimer !== null) clearTimeout(this.trimTimer);
    this.trimTimer = null;
    for (const host of [...this.hosts]) this.discard(host);
  }

  /** Starting hosts go first, then ready ones, so that hosts already paid for are kept. */
  private pickSurplus(): PooledHost | undefined {
    let surplus: PooledHost | undefined;
    for (const host of this.hosts) {
      surplus = host;
      if (!host.ready) break;
    }
    return surplus;
  }

  private trim(size: number): void {
    while (this.hosts.size > size) {
      const host = this.pickSurplus();
      if (host === undefined) break;
      this.discard(host);
    }
  }

  /** Ends the hosts that stayed surplus for the whole trim delay. */
  private scheduleTrim(): void {
    if (this.trimTimer !== null || this.hosts.size <= this.target) return;
    this.trimTarget = this.target;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = null;
      if (this.stopped) return;
      this.trim(this.trimTarget);
      this.scheduleTrim();
    }, this.options.trimDelayMs ?? DEFAULT_TRIM_DELAY_MS);
    this.trimTimer.unref();
  }

  /** Starts the next missing host after `delayMs` if its slot stayed free meanwhile; hosts start one at a time. */
  private scheduleRefill(delayMs = this.options.refillDelayMs ?? DEFAULT_REFILL_DELAY_MS): void {
    if (this.stopped || this.refillTimer !== null || this.hosts.size >= this.target || this.isStarting()) return;
    this.refillTarget = this.target;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      if (this.stopped || this.isStarting()) return;
      if (this.hosts.size < Math.min(this.refillTarget, this.target)) this.startHost();
      else this.scheduleRefill();
    }, delayMs);
    this.refillTimer.unref();
  }

  private isStarting(): boolean {
    for (const host of this.hosts) if (!host.ready) return true;
    return false;
  }

  private startHost(): void {
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [this.options.taskHostPath], taskHostSpawnOptions(this.options.idleCwd, this.options.env));
    } catch (error: unknown) {
      this.noteFailedStart(error);
      return;
    }
    // Output of an unused host stays in its pipes; the run that takes it reads it.
    child.on('error', (error) => this.options.log.debug({ err: error }, 'warm task host error'));
    const host: PooledHost = {
      child,
      ready: false,
      readyTimer: setTimeout(() => this.handleReadyTimeout(host), this.options.readyTimeoutMs),
      release: () => {
        clearTimeout(host.readyTimer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      },
    };
    const onMessage = (raw: unknown): void => this.handleMessage(host, raw);
    const onExit = (): void => this.handleExit(host);
    child.on('message', onMessage);
    child.on('exit', onExit);
    this.hosts.add(host);
  }

  private handleMessage(host: PooledHost, raw: unknown): void {
    const parsed = parseMessage(hostToAgentSchema, raw);
    if (!parsed.ok || parsed.value.type !== 'ready' || host.ready) return;
    host.ready = true;
    clearTimeout(host.readyTimer);
    this.failedStarts = 0;
    this.scheduleRefill(0);
  }

  private handleExit(host: PooledHost): void {
    if (!this.hosts.delete(host)) return;
    host.release();
    if (!host.ready) this.noteFailedStart(new Error(`exit code ${String(host.child.exitCode)}, signal ${String(host.child.signalCode)}`));
    else this.options.log.warn({ pid: host.child.pid }, 'unused warm task host exited, starting another');
    this.scheduleRefill();
  }

  private handleReadyTimeout(host: PooledHost): void {
    if (!this.hosts.has(host) || host.ready) return;
    this.discard(host);
    this.noteFailedStart(new Error(`not ready within ${this.options.readyTimeoutMs} ms`));
    this.scheduleRefill();
  }

  private noteFailedStart(error: unknown): void {
    this.failedStarts += 1;
    if (this.failedStarts < MAX_FAILED_STARTS) {
      this.options.log.warn({ err: error }, 'warm task host failed to start');
      return;
    }
    // Node runs still start cold hosts, which report the failure on the run itself.
    this.options.log.error({ err: error, failedStarts: this.failedStarts }, 'warm task hosts keep failing to start, pool turned off');
    this.stop();
  }

  private discard(host: PooledHost): void {
    this.hosts.delete(host);
    host.release();
    if (host.child.exitCode === null && host.child.signalCode === null) signalProcessTree(host.child, 'SIGKILL');
  }
}
