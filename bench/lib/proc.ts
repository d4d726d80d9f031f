/**
 * CPU time and resident memory of a process, read from /proc (Linux only),
 * so a benchmark can measure a hub or an agent from outside without
 * changing it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessSample {
  /** User plus system CPU time, in ms, at the clock-tick resolution of /proc (usually 10 ms). */
  cpuMs: number;
  rssBytes: number;
  /** When the sample was taken, from performance.now(). */
  at: number;
}

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    const output = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    ticksPerSecond = Number(output) > 0 ? Number(output) : 100;
  }
  return ticksPerSecond;
}

/** Reads one sample of `pid`; throws when the process is gone. */
export function sampleProcess(pid: number): ProcessSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may contain spaces: utime and stime are fields 14 and 15 of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN);
  return { cpuMs: (ticks * 1000) / clockTicks(), rssBytes: rssKb * 1024, at: performance.now() };
}

/** CPU used between two samples as a share of one core: 1 means one core fully busy. */
export function coreShare(from: ProcessSample, to: ProcessSample): number {
  const elapsed = to.at - from.at;
  return elapsed > 0 ? (to.cpuMs - from.cpuMs) / elapsed : Number.NaN;
}

/** Samples `pid` every `intervalMs` until stopped, keeping the peak resident memory. */
export class ProcessWatch {
  private readonly timer: NodeJS.Timeout;
  readonly first: ProcessSample;
  peakRssBytes: number;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.first = sampleProcess(pid);
    this.peakRssBytes = this.first.rssBytes;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): ProcessSample {
    const sample = sampleProcess(this.pid);
    this.peakRssBytes = Math.max(this.peakRssBytes, sample.rssBytes);
    return sample;
  }

  stop(): ProcessSample {
    clearInterval(this.timer);
    return this.sample();
  }
}

export const MB = 1024 * 1024;
