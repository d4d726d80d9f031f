import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../logger.js';
import type { Assignment, CancelReason, Json } from '../protocol/index.js';
import type { AgentFacts } from '../task/types.js';
import type { ProcessExit } from './exit-reasons.js';
import type { LeftoverSweeper } from './leftovers.js';
import type { RunOutput } from './output.js';
import type { SpareFiles } from './spare-files.js';
import type { WarmPool } from './warm-pool.js';

/** Why a run is stopped before it ends by itself: a hub cancel reason, or the agent shutting down. */
export type RunStopReason = CancelReason | 'agent_stopping';

/** Settings shared by every run of an agent. */
export interface RunSettings {
  dataDir: string;
  agent: AgentFacts;
  /** Time between SIGTERM and SIGKILL to the run's process group. */
  killGraceMs: number;
  maxRunLogBytes: number;
  /** How long output may stay open after the task's process exited before the run is finalised anyway. */
  stdioGraceMs: number;
  /** How long a node task host may take to report that it is ready. */
  readyTimeoutMs: number;
  /** Compiled task host script that node tasks run in. */
  taskHostPath: string;
  /** Started task hosts that node runs take theirs from; without it every node run starts its own. */
  warmHosts?: WarmPool;
  /** Started shells that shell runs take theirs from; without it every shell run spawns its own. */
  warmShells?: WarmPool;
  /** Ends what runs leave behind once they are final; without it leftovers keep running. */
  leftovers?: LeftoverSweeper;
  /** Scratch directories and record files created ahead; without it every run creates its own. */
  spares?: SpareFiles;
  /** The agent's environment without its token, computed once; copied from process.env per run when absent. */
  baseEnv?: NodeJS.ProcessEnv;
  log: Logger;
}

/** Inputs a launcher needs to start one run. */
export interface LaunchContext {
  assignment: Assignment;
  settings: RunSettings;
  /** Scratch directory of this run, removed when it ends; the task's working directory. */
  runDir: string;
  output: RunOutput;
  /** The agent's environment without its own token. */
  baseEnv: NodeJS.ProcessEnv;
  /** Called after output that arrived outside the pipes, so the run can apply backpressure. */
  onOutput: () => void;
}

/** A started task process and the runtime-specific parts of its handling. */
export interface TaskProcess {
  child: ChildProcess;
  /** Consumes a stdout line, returning false when it is an ordinary log line. */
  handleStdoutLine(text: string, fullBytes: number): boolean;
  /** Called just before the process group gets SIGTERM. */
  beforeStop(reason: RunStopReason): void;
  /** Pauses or resumes output that does not come through stdout and stderr. */
  setPaused(paused: boolean): void;
  result(): Json | null;
  /** Returns why the run failed when the launcher has a better reason than the exit code. */
  failure(exit: ProcessExit): string | null;
  /** Releases timers and listeners once the run is final. */
  dispose(): void;
}

export type Launcher = (context: LaunchContext) => Promise<TaskProcess>;
