/** Facts about this machine for `hello`, and the periodic load report. */
import os from 'node:os';
import type { LoadReport, MachineFacts } from './protocol/index.js';

export function readMachineFacts(): MachineFacts {
  return {
    hostname: os.hostname().slice(0, 255),
    platform: os.platform().slice(0, 32),
    arch: os.arch().slice(0, 32),
    cpus: Math.max(1, os.availableParallelism()),
    memoryBytes: os.totalmem(),
    nodeVersion: process.version.slice(0, 32),
  };
}

/**
 * 1-minute load average divided by the CPU count. Windows reports a load
 * average of zeros, which means "unknown" there, so it becomes null.
 */
export function readNormalizedLoad(): number | null {
  const averages = os.loadavg();
  if (averages.every((value) => value === 0) && os.platform() === 'win32') return null;
  return (averages[0] ?? 0) / Math.max(1, os.availableParallelism());
}

interface CpuTimes {
  busy: number;
  total: number;
}

function readCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}

/** Builds load reports; CPU utilisation comes from the os.cpus() deltas between two reports. */
export class LoadSampler {
  private previous: CpuTimes | null = null;

  sample(running: number): LoadReport {
    const current = readCpuTimes();
    let cpu: number | null = null;
    if (this.previous !== null && current.total > this.previous.total) {
      const share = (current.busy - this.previous.busy) / (current.total - this.previous.total);
      cpu = Math.min(1, Math.max(0, share));
    }
    this.previous = current;
    return { load: readNormalizedLoad(), cpu, freeMemoryBytes: os.freemem(), running };
  }
}
