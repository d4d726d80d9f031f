/**
 * Shell tasks: the script, cached by hash in the data directory, is run by
 * /bin/sh in the run's scratch directory, with the config in FARMBOY_CONFIG
 * and in a JSON file there. A warm shell from the pool becomes the task when
 * one is ready (`warm-shell.ts`); otherwise the agent spawns one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Json } from '../protocol/index.js';
import { parseProtocolLine } from './line-protocol.js';
import { writeSmallFile } from './spare-files.js';
import { cacheTaskFile } from './task-cache.js';
import type { LaunchContext, TaskProcess } from './types.js';
import { SHELL_PATH, launchCommands, launchWarmShell, shellSpawnOptions } from './warm-shell.js';

const isWindows = process.platform === 'win32';

/**
 * Linux limits one environment string to 128 KiB (MAX_ARG_STRLEN), and a
 * larger config would make the spawn fail. Past this size it is only in the file.
 */
const MAX_CONFIG_ENV_BYTES = 64 * 1024;

export async function startShellTask(context: LaunchContext): Promise<TaskProcess> {
  const { assignment, runDir, output } = context;
  const scriptPath = cacheTaskFile(context.settings.dataDir, assignment.code, assignment.hash, isWindows ? '.cmd' : '.sh');
  const configPath = path.join(runDir, 'config.json');
  const configJson = JSON.stringify(assignment.config);
  // Synchronous, because a trip to libuv's thread pool would only delay the start. With the agent's spare
  // directories (spare-files.ts) the empty file exists already, and the write creates nothing.
  writeSmallFile(configPath, configJson, 0o600);

  const runEnv: Record<string, string> = { ...assignment.env, ...runEnvironment(context), FARMBOY_CONFIG_FILE: configPath };
  if (Buffer.byteLength(configJson) <= MAX_CONFIG_ENV_BYTES) {
    runEnv.FARMBOY_CONFIG = configJson;
  } else {
    output.system(`the config is ${Buffer.byteLength(configJson)} bytes, too large for FARMBOY_CONFIG; read FARMBOY_CONFIG_FILE instead`);
  }
  const child = isWindows ? startWindowsScript(context, scriptPath, runEnv) : startScript(context, scriptPath, runEnv);

  let result: Json | null = null;
  return {
    child,
    handleStdoutLine(text, fullBytes) {
      const parsed = parseProtocolLine(text, fullBytes);
      if (parsed === null) return false;
      if (parsed.kind === 'progress') output.progress(parsed.percent, parsed.message);
      else if (parsed.kind === 'record') output.record(parsed.value);
      else if (parsed.kind === 'result') result = parsed.value;
      else output.system(parsed.reason);
      return true;
    },
    beforeStop: () => undefined,
    setPaused: () => undefined,
    result: () => result,
    failure: () => null,
    dispose: () => undefined,
  };
}

function startScript({ runDir, baseEnv, settings }: LaunchContext, scriptPath: string, runEnv: Record<string, string>): ChildProcess {
  const pool = settings.warmShells;
  // Built only when a shell is ready: the pool of a busy agent is empty.
  const commands = pool !== undefined && pool.readyCount > 0 ? launchCommands(runDir, scriptPath, runEnv, baseEnv) : null;
  const warm = commands === null ? null : pool?.take();
  if (warm && commands !== null && launchWarmShell(warm, commands)) return warm;
  return spawn(SHELL_PATH, [scriptPath], shellSpawnOptions(runDir, { ...baseEnv, ...runEnv }, 'ignore'));
}

// NOTE: the Windows branch (cmd.exe /d /s /c) is untested here.
function startWindowsScript({ runDir, baseEnv }: LaunchContext, scriptPath: string, runEnv: Record<string, string>): ChildProcess {
  const env = { ...baseEnv, ...runEnv };
  return spawn('cmd.exe', ['/d', '/s', '/c', `"${scriptPath}"`], { cwd: runDir, env, detached: true, windowsHide: true, windowsVerbatimArguments: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Variables every task gets, describing its run; they override the job's own env of the same name. */
export function runEnvironment({ assignment, settings }: LaunchContext): Record<string, string> {
  return {
    FARMBOY_RUN_ID: assignment.runId,
    FARMBOY_ATTEMPT: String(assignment.attempt),
    FARMBOY_JOB_ID: assignment.jobId ?? '',
    FARMBOY_TASK_NAME: assignment.taskName,
    FARMBOY_AGENT_ID: settings.agent.id,
  };
}
