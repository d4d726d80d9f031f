/** Finding a task's processes in /proc, for tests that check process trees. */
import { readFileSync, readdirSync } from 'node:fs';

/** PIDs of live (not zombie) processes whose command line contains the marker. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes(marker) && state !== 'Z') found.push(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return found;
}

/** Returns the direct children of a process, from /proc (Linux); empty once it has ended. */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(' ').map(Number);
  } catch {
    return [];
  }
}

/** Returns the name of a process's executable, from /proc (Linux); empty once it has ended. */
export function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Kills every process whose command line contains the marker. */
export function killProcessesWith(marker: string): void {
  for (const pid of processesWith(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Sleep durations no other process on the machine uses, so a test can find its task's processes. */
export function uniqueDurations(count: number): number[] {
  const base = 100_000 + Math.floor(Math.random() * 800_000);
  return Array.from({ length: count }, (_, i) => base + i);
}
