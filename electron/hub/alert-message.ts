/**
 * Bodies of failure alert webhooks. Slack's incoming webhooks take `{ text }`
 * with Slack's own link syntax. A generic JSON webhook gets the same text
 * plus the run's facts as fields, so a script can act on them without
 * parsing text.
 */
import type { Run } from './model.js';

/** Facts about a run that the run record does not carry. */
export interface AlertContext {
  taskName: string | null;
  agentName: string | null;
  /** Address of the run's page in the UI. */
  runUrl: string;
}

export type AlertBody = Record<string, unknown>;

const STATUS_WORDS: Record<string, string> = { failed: 'failed', lost: 'was lost', timed_out: 'timed out' };

function subject(run: Run, context: AlertContext): string {
  if (run.jobName) return `Job "${run.jobName}"`;
  return `Test run of task "${context.taskName ?? run.taskId}"`;
}

function errorText(run: Run): string {
  if (run.error !== null) return run.error;
  return run.exitCode === null ? 'none' : `exit code ${run.exitCode}`;
}

function attemptsText(run: Run): string {
  return run.maxAttempts > 1 ? ` after ${run.attempt} of ${run.maxAttempts} attempts` : '';
}

/** Builds the webhook body for a run that ended failed, lost or timed out. */
export function runAlertBody(format: 'slack' | 'json', run: Run, context: AlertContext): AlertBody {
  const headline = `${subject(run, context)} ${STATUS_WORDS[run.status] ?? run.status}${attemptsText(run)}`;
  const facts = [`Run: ${run.id}`, `Agent: ${context.agentName ?? run.agentId ?? 'none'}`, `Error: ${errorText(run)}`];
  if (format === 'slack') {
    return { text: `:red_circle: ${headline}\n${facts.join('\n')}\n<${context.runUrl}|Open the run>` };
  }
  return {
    event: 'run.failed',
    text: `${headline}. ${facts.join('. ')}. ${context.runUrl}`,
    run: {
      id: run.id,
      status: run.status,
      jobId: run.jobId,
      jobName: run.jobName,
      taskId: run.taskId,
      taskName: context.taskName,
      agentId: run.agentId,
      agentName: context.agentName,
      attempt: run.attempt,
      maxAttempts: run.maxAttempts,
      exitCode: run.exitCode,
      error: run.error,
      finishedAt: run.finishedAt === null ? null : new Date(run.finishedAt).toISOString(),
      url: context.runUrl,
    },
  };
}

/** Builds the body of the Settings page's test message. */
export function testAlertBody(format: 'slack' | 'json', hubUrl: string): AlertBody {
  const text = `Test message from the Farmboy hub at ${hubUrl}: failure alerts reach this webhook.`;
  return format === 'slack' ? { text } : { event: 'test', text };
}
