/** Turns how a process ended into the human reason shown as a run's error. */

export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

const SIGNAL_REASONS: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed by SIGKILL',
  SIGTERM: 'terminated by SIGTERM',
  SIGINT: 'interrupted by SIGINT',
  SIGHUP: 'ended by SIGHUP (hangup)',
  SIGQUIT: 'quit by SIGQUIT',
  SIGSEGV: 'crashed with SIGSEGV (invalid memory access)',
  SIGBUS: 'crashed with SIGBUS (bus error)',
  SIGFPE: 'crashed with SIGFPE (arithmetic error)',
  SIGILL: 'crashed with SIGILL (illegal instruction)',
  SIGABRT: 'aborted with SIGABRT',
  SIGPIPE: 'killed by SIGPIPE (wrote to a closed pipe)',
  SIGXCPU: 'killed by SIGXCPU (CPU time limit)',
};

/** Exit codes with a widely used meaning; shells report death by signal N as 128 + N. */
const EXIT_CODE_NOTES: Record<number, string> = {
  126: 'command found but not executable',
  127: 'command not found',
  130: 'interrupted, 128 + SIGINT',
  134: 'aborted, 128 + SIGABRT',
  137: 'killed, 128 + SIGKILL',
  139: 'crashed, 128 + SIGSEGV',
  143: 'terminated, 128 + SIGTERM',
};

export function describeExit({ exitCode, signal }: ProcessExit): string {
  if (signal !== null) return SIGNAL_REASONS[signal] ?? `ended by ${signal}`;
  if (exitCode === null) return 'ended for an unknown reason';
  const note = EXIT_CODE_NOTES[exitCode];
  return note === undefined ? `exited with code ${exitCode}` : `exited with code ${exitCode} (${note})`;
}
