/**
 * Checks what the hub stored after the soak against what the tasks printed.
 * Every task prints `soak <runId> attempt <A> line <N>` for N from 1 to the
 * `lines` of its config, so each run's log can be checked line by line.
 */
import type { Run } from '../../electron/hub/model.js';
import type { SoakHub } from './fleet.js';

export interface AuditResult {
  runsStored: number;
  byStatus: Record<string, number>;
  /** Attempts after the first, over all runs. */
  retries: number;
  /** Runs whose final status is `lost`. */
  lostRuns: number;
  /** Attempts that ended lost: those retried, counted from the hub's `attempt N lost` log lines, and the lost runs. */
  lostAttempts: number;
  /** Lines stored more than once in the same run's log. */
  duplicatedLines: number;
  /** Lines of a run's log that no task printed: another run's, or a broken line. */
  foreignLines: number;
  /** Final attempts of succeeded or failed runs: lines their tasks printed, and lines stored. */
  expectedLines: number;
  storedLines: number;
  /** Runs whose final attempt's lines are not exactly 1..N in order, by id. */
  incompleteRuns: string[];
}

const LINE = /soak (\S+) attempt (\d+) line (\d+)$/;

/** Fetches every run the hub stored, newest first, page by page. */
export async function listRuns(hub: SoakHub): Promise<Run[]> {
  const runs: Run[] = [];
  let before: string | undefined;
  for (;;) {
    const query = `/api/runs?limit=1000${before === undefined ? '' : `&before=${encodeURIComponent(before)}`}`;
    const page = (await hub.api<Run[]>('GET', query)).body;
    runs.push(...page);
    if (page.length < 1000) return runs;
    before = page.at(-1)?.id;
  }
}

export async function audit(hub: SoakHub, runs: Run[]): Promise<AuditResult> {
  const result: AuditResult = {
    runsStored: runs.length,
    byStatus: {},
    retries: 0,
    lostRuns: 0,
    lostAttempts: 0,
    duplicatedLines: 0,
    foreignLines: 0,
    expectedLines: 0,
    storedLines: 0,
    incompleteRuns: [],
  };
  for (const run of runs) {
    result.byStatus[run.status] = (result.byStatus[run.status] ?? 0) + 1;
    result.retries += run.attempt - 1;
    if (run.status === 'lost') {
      result.lostRuns += 1;
      result.lostAttempts += 1;
    }
    const log = (await hub.api<string>('GET', `/api/runs/${run.id}/log`)).body;
    checkLog(run, log, result);
  }
  return result;
}

function checkLog(run: Run, log: string, result: AuditResult): void {
  const seen = new Set<string>();
  const finalAttempt: number[] = [];
  for (const line of log.split('\n')) {
    if (/attempt \d+ lost/.test(line)) result.lostAttempts += 1;
    const match = LINE.exec(line);
    if (match === null) continue;
    const key = match[0];
    if (match[1] !== run.id) {
      result.foreignLines += 1;
      continue;
    }
    if (seen.has(key)) {
      result.duplicatedLines += 1;
      continue;
    }
    seen.add(key);
    if (Number(match[2]) === run.attempt) finalAttempt.push(Number(match[3]));
  }
  if (run.status !== 'succeeded' && run.status !== 'failed') return;
  const expected = typeof run.config.lines === 'number' ? run.config.lines : 0;
  result.expectedLines += expected;
  result.storedLines += finalAttempt.length;
  const complete = finalAttempt.length === expected && finalAttempt.every((number, index) => number === index + 1);
  if (!complete) result.incompleteRuns.push(run.id);
}
