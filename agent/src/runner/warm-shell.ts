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
 * Environment a run adds, in UTF-8 bytes, past which it starts cold. Linux
 * caps arguments and environment together at a quarter of the stack limit
 * (E2BIG). A cold spawn reports that as a failed start, but a warm shell
 * would only fail its exec.
 */
const MAX_WARM_ENV_BYTES = 100 * 1024;

/**
 * Variables a run adds past which it starts cold: bash parses one export in
 * about 35 µs, so with thousands a cold spawn starts sooner.
 */
const MAX_WARM_ENV_COUNT = 100;

/**
 * Variables of the agent's own environment that change how bash, when it is
 * /bin/sh, runs the launch commands. Options such as xtrace or keyword print
 * or mangle the exports. The others set a trace prompt or startup files, and
 * an exported function could replace `cd`.
 */
const SHELL_CHANGING = ['SHELLOPTS', 'BASHOPTS', 'BASH_ENV', 'ENV', 'PS4'];

/**
 * Returns the first variable of the agent's environment that rules out warm
 * shells, or null when there is none. With one, every shell run starts cold.
 */
export function shellChangingVariable(env: NodeJS.ProcessEnv): string | null {
  for (const name of Object.keys(env)) {
    if (SHELL_CHANGING.includes(name) || name.startsWith('BASH_FUNC_')) return name;
  }
  return null;
}

/**
 * Names a shell treats specially: bash, which is /bin/sh on some systems,
 * refuses to assign its read-only ones and exits, and gives the others a
 * meaning of their own. Runs that set them start cold.
 */
const SPECIAL_NAMES = new Set([
  ...['UID', 'EUID', 'PPID', 'SHELLOPTS', 'RANDOM', 'SRANDOM', 'SECONDS', 'EPOCHSECONDS', 'EPOCHREALTIME', 'LINENO', 'HISTCMD'],
  ...['GROUPS', 'FUNCNAME', 'DIRSTACK', 'PIPESTATUS', 'OPTIND', 'OPTARG', 'IFS', 'PWD', 'OLDPWD', 'SHLVL', 'ENV', 'PS4', '_'],
]);

/** Quotes a value for sh: between single quotes every character stands for itself except the quote. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Builds the commands that turn a warm shell into the run's task. Returns
 * null when a shell cannot export one of the run's variables, or they are
 * too large or too many, so the run starts cold.
 * `runEnv` is what the run adds to `baseEnv`, which the warm shell has already.
 */
export function launchCommands(runDir: string, scriptPath: string, runEnv: Record<string, string>, baseEnv: NodeJS.ProcessEnv): string | null {
  const entries = Object.entries(runEnv);
  if (entries.length > MAX_WARM_ENV_COUNT) return null;
  const lines = [
    // -P: the physical path, which a cold shell finds for itself when the data directory is reached through a link.
    `cd -P ${shellQuote(runDir)} || exit 126`,
    // cd set OLDPWD; a cold start passes on the agent's value. SHLVL needs nothing: bash lowers it again on exec.
    baseEnv.OLDPWD === undefined ? 'unset OLDPWD' : `OLDPWD=${shellQuote(baseEnv.OLDPWD)}`,
  ];
  let envBytes = 0;
  for (const [name, value] of entries) {
    envBytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
    // A NUL cannot be in an environment; the cold start reports it.
    if (!SHELL_NAME.test(name) || SPECIAL_NAMES.has(name) || name.startsWith('BASH') || value.includes('\0')) return null;
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  if (envBytes > MAX_WARM_ENV_BYTES) return null;
  lines.push(`exec ${SHELL_PATH} ${shellQuote(scriptPath)} </dev/null`);
  return `${lines.join('\n')}\n`;
}

/**
 * Hands a warm shell its run. Returns false when the shell had died already,
 * which the write finds at once (EPIPE) even before the agent has seen the
 * shell's exit, so the run can start cold instead.
 */
export function launchWarmShell(shell: ChildProcess, commands: string): boolean {
  const stdin = shell.stdin;
  if (stdin === null) return false;
  // Reported through `errored` below, or for a shell that dies later through its exit.
  stdin.on('error', () => undefined);
  stdin.end(commands);
  return stdin.errored === null;
}
