/**
 * Node tasks: the compiled module is cached by hash in the data directory
 * and run inside a task host process that the agent drives over IPC.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseMessage, type Json } from '../protocol/index.js';
import { hostToAgentSchema, type AgentToHost, type HostToAgent } from '../task-host-protocol.js';
import { describeExit, type ProcessExit } from './exit-reasons.js';
import { signalProcessTree } from './process-tree.js';
import { runEnvironment } from './shell.js';
import { cacheTaskFile } from './task-cache.js';
import type { LaunchContext, RunStopReason, TaskProcess } from './types.js';
import { taskHostSpawnOptions } from './warm-pool.js';

/** Starts a node run in a host from the warm pool when one is ready, or in a host started for it. */
export async function startNodeTask(context: LaunchContext): Promise<TaskProcess> {
  const modulePath = cacheTaskFile(context.settings.dataDir, context.assignment.code, context.assignment.hash, '.mjs');
  const warm = context.settings.warmHosts?.take() ?? null;
  const child = warm ?? spawn(process.execPath, [context.settings.taskHostPath], taskHostSpawnOptions(context.runDir, context.baseEnv));
  return new NodeTaskProcess(child, context, modulePath, warm !== null);
}

class NodeTaskProcess implements TaskProcess {
  private ready = false;
  private readyTimedOut = false;
  private reported = false;
  private resultValue: Json | null = null;
  private error: string | null = null;
  private readonly readyTimer: NodeJS.Timeout;

  /** `warm`: the host came from the pool and has reported ready already. */
  constructor(
    readonly child: ChildProcess,
    private readonly context: LaunchContext,
    private readonly modulePath: string,
    warm: boolean,
  ) {
    child.on('message', (raw) => this.handleMessage(raw));
    this.readyTimer = setTimeout(() => {
      this.readyTimedOut = true;
      signalProcessTree(child, 'SIGKILL');
    }, context.settings.readyTimeoutMs);
    if (warm) this.handleReady();
  }

  handleStdoutLine(): boolean {
    return false;
  }

  beforeStop(reason: RunStopReason): void {
    this.sendToHost({ type: 'abort', reason });
  }

  setPaused(paused: boolean): void {
    this.sendToHost({ type: paused ? 'pause' : 'resume' });
  }

  result(): Json | null {
    return this.resultValue;
  }

  failure(exit: ProcessExit): string | null {
    if (this.error !== null) return this.error;
    if (this.readyTimedOut) return `the task host did not report ready within ${this.context.settings.readyTimeoutMs} ms`;
    if (!this.ready) return `the task host ended before it was ready: ${describeExit(exit)}`;
    if (!this.reported) return `the task host ended without reporting a result: ${describeExit(exit)}`;
    return null;
  }

  dispose(): void {
    clearTimeout(this.readyTimer);
  }

  private handleMessage(raw: unknown): void {
    const parsed = parseMessage(hostToAgentSchema, raw);
    if (!parsed.ok) {
      this.context.output.system(`ignored an invalid message from the task host: ${parsed.reason}`);
      return;
    }
    this.apply(parsed.value);
    this.context.onOutput();
  }

  private apply(message: HostToAgent): void {
    const { output } = this.context;
    switch (message.type) {
      case 'ready':
        this.handleReady();
        break;
      case 'log':
        output.text(message.stream, message.message);
        break;
      case 'progress':
        output.progress(message.percent, message.message);
        break;
      case 'record':
        output.record(message.record);
        break;
      case 'result':
        this.reported = true;
        this.resultValue = message.result;
        break;
      case 'error':
        this.reported = true;
        this.error = message.message;
        if (message.stack !== null) output.text('stderr', message.stack);
        break;
    }
  }

  private handleReady(): void {
    if (this.ready) return;
    this.ready = true;
    clearTimeout(this.readyTimer);
    const { assignment, settings } = this.context;
    this.sendToHost({
      type: 'run',
      modulePath: this.modulePath,
      cwd: this.context.runDir,
      config: assignment.config,
      env: { ...assignment.env, ...runEnvironment(this.context) },
      run: {
        id: assignment.runId,
        attempt: assignment.attempt,
        jobId: assignment.jobId,
        jobName: assignment.jobName,
        taskId: assignment.taskId,
        taskName: assignment.taskName,
      },
      agent: settings.agent,
    });
  }

  private sendToHost(message: AgentToHost): void {
    if (!this.child.connected) return;
    // A failed send means the host is gone; its exit is handled by the run.
    this.child.send(message, (error) => {
      if (error !== null && error !== undefined) this.context.settings.log.debug({ err: error }, 'message to task host not delivered');
    });
  }
}
