/**
 * CPU time and resident memory of a process, read from /proc (Linux only),
 * so a benchmark can measure a hub or an agent from outside without
 * changing it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Figure } from './report.js';

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

/**
 * CPU time every process of the machine has used since boot, in ms: user,
 * nice, system, interrupts and steal from the `cpu` line of /proc/stat. The
 * difference of two samples divided by the runs between them is what one run
 * costs the whole machine (hub, agents, task processes, the load generator
 * and the kernel), which bounds the rate the machine's cores allow.
 */
export function machineCpuMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / clockTicks();
}

/** Returns `process.cpuUsage()` (user plus system, in microseconds) in ms. */
export function cpuUsageMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/**
 * Returns what `runs` cost the whole machine (`machineMs` from machineCpuMs),
 * and the rate its cores would allow at that cost if nothing else ran, to
 * read a measured `rate` against.
 */
export function machineFigures(machineMs: number, runs: number, rate: number): Figure[] {
  const perRun = machineMs / runs;
  const cores = availableParallelism();
  return [
    { key: 'machine-cpu-per-run', label: 'machine CPU time per run, every process and the kernel', unit: 'ms', value: perRun },
    {
      key: 'machine-cpu-bound',
      label: `runs per second that ${cores} cores allow at that cost`,
      unit: 'runs/s',
      value: (cores * 1000) / perRun,
      note: `the measured rate uses ${Math.round(((rate * perRun) / (cores * 1000)) * 100)} % of the cores`,
    },
  ];
}
