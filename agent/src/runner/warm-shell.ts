/**
 * Warm shells for shell runs: `/bin/sh -s`, started ahead of the run, waits
 * for commands on its stdin. A run that takes one writes a few lines there:
 * change to the run's scratch directory, export the run's variables, then
 * `exec` the task script with stdin from /dev/null. The process the run
 * reports is the one that becomes the task, and the script sees what a cold
 * start gives it: the same working directory, environment, `$0` and stdin.
 *
 * The gain is the agent's own wait. A fork of the agent, a large process,
 * blocks it for one to two milliseconds until the child has called exec; a
 * write to a pipe takes microseconds. The cost is one more exec of the shell
 * per run, so an agent keeps warm shells only while at most half its slots
 * are busy (`runs.ts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { WarmProcessKind } from './warm-pool.js';

export const SHELL_PATH = '/bin/sh';

/** Spawn options of warm and cold shells, so a run cannot tell which kind it got. */
export function shellSpawnOptions(cwd: string, env: NodeJS.ProcessEnv, stdin: 'ignore' | 'pipe') {
  return { cwd, env, detached: true, stdio: [stdin, 'pipe', 'pipe'] as ['ignore' | 'pipe', 'pipe', 'pipe'] };
}

export const warmShellKind: WarmProcessKind = {
  name: 'shell',
  start: (cwd, env) => spawn(SHELL_PATH, ['-s'], shellSpawnOptions(cwd, env, 'pipe')),
  readyOn: 'spawn',
  usable: (child) => child.exitCode === null && child.signalCode === null && child.stdin?.writable === true,
};

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names a shell treats specially: bash, which is /bin/sh on some systems,
 * refuses to assign its read-only ones and exits, and gives the others a
 * meaning of their own. Runs that set them start cold.
 */
const SPECIAL_NAMES = new Set([
  ...['UID', 'EUID', 'PPID', 'SHELLOPTS', 'RANDOM', 'SRANDOM', 'SECONDS', 'EPOCHSECONDS', 'EPOCHREALTIME', 'LINENO', 'HISTCMD'],
  ...['GROUPS', 'FUNCNAME', 'DIRSTACK', 'OPTIND', 'OPTARG', 'IFS', 'PWD', 'OLDPWD', 'SHLVL', 'ENV', 'PS4'],
]);

/** Quotes a value for sh: between single quotes every character stands for itself except the quote. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Builds the commands that turn a warm shell into the run's task. Returns
 * null when a shell cannot export one of the run's variables, so the run starts cold.
 * `runEnv` is what the run adds to `baseEnv`, which the warm shell has already.
 */
export function launchCommands(runDir: string, scriptPath: string, runEnv: Record<string, string>, baseEnv: NodeJS.ProcessEnv): string | null {
  const lines = [`cd ${shellQuote(runDir)} || exit 126`];
  // The warm shell changed these (cd sets OLDPWD, bash counts SHLVL up); a cold start passes on the agent's values.
  for (const name of ['OLDPWD', 'SHLVL']) {
    const value = baseEnv[name];
    lines.push(value === undefined ? `unset ${name}` : `${name}=${shellQuote(value)}`);
  }
  for (const [name, value] of Object.entries(runEnv)) {
    // A NUL cannot be in an environment; the cold start reports it.
    if (!SHELL_NAME.test(name) || SPECIAL_NAMES.has(name) || name.startsWith('BASH') || value.includes('\0')) return null;
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  lines.push(`exec ${SHELL_PATH} ${shellQuote(scriptPath)} </dev/null`);
  return `${lines.join('\n')}\n`;
}

/** Hands a warm shell its run; a shell that died meanwhile ends the run through its exit. */
export function launchWarmShell(shell: ChildProcess, commands: string): ChildProcess {
  // EPIPE when the shell died after it was taken: its exit event reports the failure.
  shell.stdin?.on('error', () => undefined);
  shell.stdin?.end(commands);
  return shell;
}
