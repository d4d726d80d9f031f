/**
 * Detects wall-clock jumps and system sleep without relying on OS events.
 *
 * Every interval it compares how far the wall clock moved with how far the
 * monotonic clock moved. They differ when the system time is set, or after
 * a sleep. Node's performance.now() follows a monotonic clock that stops
 * while the machine is suspended (CLOCK_MONOTONIC on Linux, the mach
 * absolute clock on macOS), but the wall clock keeps real time.
 */
import type { Logger } from 'pino';

export interface ClockWatchOptions {
  intervalMs: number;
  /** Smallest difference between the two clocks reported as a jump. */
  thresholdMs: number;
  now: () => number;
  monotonicNow: () => number;
  /** Called with the jump size: positive when the wall clock moved ahead (or the machine slept). */
  onJump: (jumpMs: number) => void;
  log: Logger;
}

export class ClockWatch {
  private timer: NodeJS.Timeout | null = null;
  private lastWall = 0;
  private lastMonotonic = 0;

  constructor(private readonly options: ClockWatchOptions) {}

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.lastWall = this.options.now();
    this.lastMonotonic = this.options.monotonicNow();
    this.timer = setInterval(() => this.check(), this.options.intervalMs);
    // The hub's servers keep the process alive; this check must not.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Compares the two clocks now; runs on every interval and may be called directly. */
  check(): void {
    const wall = this.options.now();
    const monotonic = this.options.monotonicNow();
    const jumpMs = wall - this.lastWall - (monotonic - this.lastMonotonic);
    this.lastWall = wall;
    this.lastMonotonic = monotonic;
    if (Math.abs(jumpMs) < this.options.thresholdMs) return;
    try {
      this.options.onJump(jumpMs);
    } catch (error: unknown) {
      this.options.log.error({ err: error, jumpMs }, 'handling a wall clock jump failed');
    }
  }
}
