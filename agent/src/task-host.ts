/**
 * The process a node task runs in, started by the agent with an IPC channel.
 * It reports `ready`, waits for one `run` message, imports the task module,
 * calls its default export with a TaskContext and reports the result or the
 * error before it exits.
 */
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';
import { LIMITS, exceedsDepth, type Json } from './protocol/index.js';
import { agentToHostSchema, type AgentToHost, type HostToAgent } from './task-host-protocol.js';
import type { TaskContext, TaskFunction } from './task/types.js';

/** A larger ctx.log message is cut here; the agent then cuts each of its lines to LIMITS.maxLineBytes. */
const MAX_LOG_MESSAGE_CHARS = 1024 * 1024;
const MAX_PROGRESS_MESSAGE_CHARS = 1000;

type RunMessage = Extract<AgentToHost, { type: 'run' }>;

/** Sends messages to the agent, holding back all but the final one while the agent requests a pause. */
class AgentChannel {
  private paused = false;
  private held: HostToAgent[] = [];
  private resumed: (() => void)[] = [];

  post(message: HostToAgent): void {
    if (this.paused) this.held.push(message);
    else process.send?.(message);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const message of this.held.splice(0)) process.send?.(message);
    for (const wake of this.resumed.splice(0)) wake();
  }

  /** Sends the last message after everything held, and resolves once it is written to the channel. */
  async postFinal(message: HostToAgent): Promise<void> {
    while (this.paused) await new Promise<void>((resolve) => this.resumed.push(resolve));
    await new Promise<void>((resolve) => {
      if (process.send === undefined || !process.connected) resolve();
      else process.send(message, undefined, undefined, () => resolve());
    });
  }
}

const channel = new AgentChannel();
const controller = new AbortController();
let started = false;
let ending = false;

function toJson(value: unknown, label: string): Json {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error: unknown) {
    throw new TypeError(`${label} must be JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (text === undefined) throw new TypeError(`${label} must be JSON, got ${typeof value}`);
  const json = JSON.parse(text) as Json;
  if (exceedsDepth(json)) throw new TypeError(`${label} must not nest deeper than ${LIMITS.maxJsonDepth} levels`);
  return json;
}

function createContext(message: RunMessage): TaskContext {
  const log = (stream: 'stdout' | 'stderr') => (...values: unknown[]): void => {
    channel.post({ type: 'log', stream, message: format(...values).slice(0, MAX_LOG_MESSAGE_CHARS) });
  };
  return {
    config: message.config,
    log: { info: log('stdout'), warn: log('stderr'), error: log('stderr') },
    progress(percent: number, text?: string): void {
      if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
        throw new RangeError(`progress() takes a percentage from 0 to 100, got ${String(percent)}`);
      }
      const progressMessage = text === undefined ? null : String(text).slice(0, MAX_PROGRESS_MESSAGE_CHARS);
      channel.post({ type: 'progress', percent, message: progressMessage });
    },
    emit(record: Json): void {
      const value = toJson(record, 'emit() record');
      const bytes = Buffer.byteLength(JSON.stringify(value));
      if (bytes > LIMITS.maxRecordBytes) {
        throw new RangeError(`emit() record is ${bytes} bytes of JSON, over the limit of ${LIMITS.maxRecordBytes}`);
      }
      channel.post({ type: 'record', record: value });
    },
    signal: controller.signal,
    run: message.run,
    agent: message.agent,
  };
}

async function runTask(message: RunMessage): Promise<void> {
  Object.assign(process.env, message.env);
  try {
    process.chdir(message.cwd);
    const module = (await import(pathToFileURL(message.modulePath).href)) as { default?: unknown };
    if (typeof module.default !== 'function') {
      throw new TypeError('the task module must have a default export that is a function: export default async (ctx) => { ... }');
    }
    const task = module.default as TaskFunction;
    const value = await task(createContext(message));
    await finish({ type: 'result', result: toJson(value ?? null, 'the task result') }, 0);
  } catch (error: unknown) {
    await fail(error);
  }
}

async function fail(error: unknown): Promise<void> {
  const message = error instanceof Error ? error.message || error.name : `the task threw a non-error value: ${String(error)}`;
  const stack = error instanceof Error && error.stack !== undefined ? error.stack : null;
  await finish({ type: 'error', message, stack }, 1);
}

async function finish(message: HostToAgent, exitCode: number): Promise<void> {
  if (ending) return;
  ending = true;
  await channel.postFinal(message);
  process.exit(exitCode);
}

function handleAgentMessage(raw: unknown): void {
  const parsed = agentToHostSchema.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write('farmboy task host: ignored an invalid message from the agent\n');
    return;
  }
  const message = parsed.data;
  if (message.type === 'run' && !started) {
    started = true;
    void runTask(message);
  } else if (message.type === 'abort') {
    abort(message.reason);
  } else if (message.type === 'pause') {
    channel.pause();
  } else if (message.type === 'resume') {
    channel.resume();
  }
}

function abort(reason: string): void {
  if (controller.signal.aborted) return;
  const error = new Error(`the run was stopped: ${reason}`);
  error.name = 'AbortError';
  controller.abort(error);
}

if (process.send === undefined) {
  process.stderr.write('farmboy task host: start me through farmboy-agent, which opens an IPC channel\n');
  process.exit(2);
}
process.on('message', handleAgentMessage);
// The agent sends `abort` first; SIGTERM only makes sure ctx.signal fires, and SIGKILL follows after the grace period.
process.on('SIGTERM', () => abort('SIGTERM'));
// Once the agent is gone the result cannot be delivered, so the host exits.
process.on('disconnect', () => process.exit(1));
process.on('uncaughtException', (error) => void fail(error));
process.on('unhandledRejection', (reason) => void fail(reason));
channel.post({ type: 'ready' });
