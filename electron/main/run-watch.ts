/**
 * Follows the hub's runs for the desktop shell: the number running for the
 * tray, and one native notification per run that ends badly. Pure apart
 * from the callbacks, so tests drive it with plain run objects.
 */
import { isFinal, type Run } from '../hub/model.js';

export interface RunWatchCallbacks {
  /** Called when the number of runs not final changes. */
  onActiveCount(count: number): void;
  onFailure(notice: FailureNotice): void;
}

export interface FailureNotice {
  runId: string;
  title: string;
  body: string;
}

/** Final statuses worth a notification; a cancel was asked for by a user and is not one. */
const NOTIFIED = new Set(['failed', 'timed_out', 'lost']);
/** Run ids already notified, kept so a replayed final event does not notify twice. */
const MAX_REMEMBERED = 1000;

function endingOf(run: Run): string {
  if (run.status === 'timed_out') return `timed out after ${run.timeoutSec ?? '?'} s`;
  if (run.status === 'lost') return 'was lost with its agent';
  if (run.error) return run.error;
  if (run.exitCode !== null) return `exited with code ${run.exitCode}`;
  return 'failed';
}

export function failureNotice(run: Run): FailureNotice | null {
  if (!NOTIFIED.has(run.status)) return null;
  const name = run.jobName ?? 'An ad-hoc run';
  const reason = endingOf(run);
  return { runId: run.id, title: `${name} ${run.status === 'failed' ? 'failed' : run.status.replace('_', ' ')}`, body: `Attempt ${run.attempt} of ${run.maxAttempts} ${reason}.` };
}

export class RunWatch {
  private readonly active = new Set<string>();
  private readonly notified = new Set<string>();

  constructor(private readonly callbacks: RunWatchCallbacks) {}

  /** Seeds the count with the runs not final when the shell starts. */
  start(runs: readonly Run[]): void {
    for (const run of runs) if (!isFinal(run.status)) this.active.add(run.id);
    this.callbacks.onActiveCount(this.active.size);
  }

  update(run: Run): void {
    const before = this.active.size;
    if (isFinal(run.status)) this.active.delete(run.id);
    else this.active.add(run.id);
    if (this.active.size !== before) this.callbacks.onActiveCount(this.active.size);
    const notice = isFinal(run.status) && !this.notified.has(run.id) ? failureNotice(run) : null;
    if (!notice) return;
    this.notified.add(run.id);
    if (this.notified.size > MAX_REMEMBERED) this.notified.delete(this.notified.values().next().value as string);
    this.callbacks.onFailure(notice);
  }

  get activeCount(): number {
    return this.active.size;
  }
}

/** Returns the tray's tooltip for a number of active runs. */
export function trayTooltip(active: number): string {
  if (active === 0) return 'Farmboy: no runs active';
  return `Farmboy: ${active} ${active === 1 ? 'run' : 'runs'} active`;
}

/** Text of the quit confirmation, or null when nothing is running and quitting needs no question. */
export function quitQuestion(active: number): { message: string; detail: string } | null {
  if (active === 0) return null;
  return {
    message: `Quit Farmboy while ${active} ${active === 1 ? 'run is' : 'runs are'} active?`,
    detail: 'Quitting stops the hub, so schedules stop firing. Runs already on agents keep going and report back if the hub starts again within the agent grace period; otherwise they are marked lost.',
  };
}
