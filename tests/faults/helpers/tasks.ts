/** Task fixtures and log checks shared by the fault tests. */
import { onCleanup } from '../../helpers/fleet.js';
import { killProcessesWith, processesWith, uniqueDurations } from '../../helpers/processes.js';

export interface CountingTask {
  source: string;
  /**
   * The run's processes still alive, found by their companion `sleep`, whose
   * duration is unique to this test and attempt; all attempts without `attempt`.
   */
  alive(attempt?: number): number[];
}

/** Attempts whose companion processes `alive` can tell apart. */
const MAX_ATTEMPTS = 5;

/**
 * A shell task that prints `attempt A line N` for N from 1 to `lines`,
 * pausing `delayMs` after every `burst` lines, next to a companion `sleep`
 * of a duration unique to this test and attempt, so the test can find the
 * run's processes even after its agent died.
 */
export function countingTask(lines: number, delayMs: number, burst = 1): CountingTask {
  const [base = 0] = uniqueDurations(1);
  const marker = (attempt: number) => `sleep ${base + attempt}`;
  onCleanup(() => {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) killProcessesWith(marker(attempt));
  });
  const pause = delayMs > 0 ? `sleep ${(delayMs / 1000).toFixed(3)}` : ':';
  const source = [
    `sleep $((${base} + FARMBOY_ATTEMPT)) &`,
    'companion=$!',
    'i=1',
    `while [ $i -le ${lines} ]; do`,
    '  echo "attempt $FARMBOY_ATTEMPT line $i"',
    `  if [ $((i % ${burst})) -eq 0 ]; then ${pause}; fi`,
    '  i=$((i + 1))',
    'done',
    'kill $companion',
    '',
  ].join('\n');
  const alive = (attempt?: number): number[] => {
    if (attempt !== undefined) return processesWith(marker(attempt));
    return Array.from({ length: MAX_ATTEMPTS }, (_, index) => processesWith(marker(index + 1))).flat();
  };
  return { source, alive };
}

/** Lines a run's log got from its task, without the hub's and the agent's own lines. */
export function taskLines(log: string): string[] {
  return log
    .split('\n')
    .map((line) => /(attempt \d+ line \d+)$/.exec(line)?.[1])
    .filter((line): line is string => line !== undefined);
}

/** The lines `attempt A line 1` to `attempt A line N`. */
export function expectedLines(attempt: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `attempt ${attempt} line ${index + 1}`);
}

/** Lines that appear more than once. */
export function duplicates(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((line) => {
    if (seen.has(line)) return true;
    seen.add(line);
    return false;
  });
}
