/**
 * Expected failures of the agent command. `main()` prints their message as
 * one sentence, without a stack, and exits with their `exitCode`.
 */
export type AgentErrorCode = 'usage' | 'hub_refused' | 'hub_untrusted' | 'hub_unreachable' | 'identity_invalid' | 'data_dir_unusable' | 'data_dir_locked';

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly exitCode: number;

  constructor(code: AgentErrorCode, message: string, exitCode = 1) {
    super(message);
    this.name = 'AgentError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A bad option or environment variable; exit code 2. */
export class UsageError extends AgentError {
  constructor(message: string) {
    super('usage', message, 2);
    this.name = 'UsageError';
  }
}
