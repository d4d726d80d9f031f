/** Shared helpers of the agent tests: fixtures, assignments, an in-memory event sink and /proc checks. */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { RunEventBody, RunKey } from '../src/outbox.js';
import { decodeEventBatch, eventBatchSchema, type Assignment, type EventBatch, type Json, type LogLine, type Runtime } from '../src/protocol/index.js';
import { Run, agentEnvironment, type RunOutcome, type RunSink } from '../src/runner/run.js';
import type { RunSettings } from '../src/runner/types.js';
import { WarmPool } from '../src/runner/warm-pool.js';
import { warmShellKind } from '../src/runner/warm-shell.js';

export const AGENT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const AGENT_BIN = path.join(AGENT_ROOT, 'bin', 'farmboy-agent.js');
export const TASK_HOST = path.join(AGENT_ROOT, 'dist', 'task-host.js');

/** Decodes an `events` payload as the hub does and checks it against the schema; throws when it is invalid. */
export function decodeBatch(payload: unknown): EventBatch {
  const decoded = decodeEventBatch(payload);
  if (!decoded.ok) throw new Error(decoded.reason);
  return eventBatchSchema.parse(decoded.value);
}

export function fixturePath(name: string): string {
  return path.join(AGENT_ROOT, 'test', 'fixtures', name);
}

export function readFixture(name: string): Promise<string> {
  return readFile(fixturePath(name), 'utf8');
}

export function makeAssignment(runtime: Runtime, code: string, overrides: Partial<Assignment> = {}): Assignment {
  return {
    runId: `run-${randomUUID()}`,
    attempt: 1,
    jobId: 'job-1',
    jobName: 'Weather',
    taskId: 'task-1',
    taskName: 'collect',
    runtime,
    code,
    hash: createHash('sha256').update(code).digest('hex'),
    config: {},
    env: {},
    secretEnv: [],
    timeoutSec: null,
    ...overrides,
  };
}

/** Collects what runs write, in order, and can pretend to be under pressure. */
export class MemorySink implements RunSink {
  readonly events: RunEventBody[] = [];
  readonly lines: LogLine[] = [];
  readonly records: Json[] = [];
  isUnderPressure = false;
  private relievedListeners: (() => void)[] = [];

  push(_key: RunKey, body: RunEventBody): void {
    this.events.push(body);
  }

  pushLogLine(_key: RunKey, line: LogLine): void {
    this.lines.push(line);
  }

  pushRecord(_key: RunKey, record: Json): void {
    this.records.push(record);
  }

  onceRelieved(listener: () => void): () => void {
    this.relievedListeners.push(listener);
    return () => {
      this.relievedListeners = this.relievedListeners.filter((candidate) => candidate !== listener);
    };
  }

  relieve(): void {
    this.isUnderPressure = false;
    for (const listener of this.relievedListeners.splice(0)) listener();
  }

  messages(stream?: LogLine['s']): string[] {
    return this.lines.filter((line) => stream === undefined || line.s === stream).map((line) => line.m);
  }

  progress(): { percent: number; message: string | null }[] {
    return this.events.flatMap((event) => (event.type === 'progress' ? [{ percent: event.percent, message: event.message }] : []));
  }
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'farmboy-agent-test-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function makeSettings(dataDir: string, overrides: Partial<RunSettings> = {}): RunSettings {
  return {
    dataDir,
    agent: { id: 'agent-1', name: 'test agent', hostname: os.hostname() },
    killGraceMs: 300,
    maxRunLogBytes: 1024 * 1024,
    stdioGraceMs: 500,
    readyTimeoutMs: 10_000,
    taskHostPath: TASK_HOST,
    log: pino({ level: 'silent' }),
    ...overrides,
  };
}

export interface FinishedRun {
  run: Run;
  sink: MemorySink;
  outcome: RunOutcome;
}

/** Starts a run and waits for its final event. */
export async function runToEnd(assignment: Assignment, settings: RunSettings, act?: (run: Run) => void): Promise<FinishedRun> {
  const sink = new MemorySink();
  const run = new Run(assignment, sink, settings);
  try {
    await run.start();
    act?.(run);
    const outcome = await run.finished;
    return { run, sink, outcome };
  } finally {
    run.killNow();
  }
}

/** Pids of the processes of a group that still exist and are not zombies, read from /proc. */
export async function livingGroupMembers(groupId: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // The process ended while we looked.
    }
    // Fields after the command name, which may itself contain spaces and parentheses: state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === groupId && state !== 'Z') members.push(Number(entry));
  }
  return members;
}

export function startedPid(sink: MemorySink): number {
  const started = sink.events.find((event) => event.type === 'started');
  if (started?.type !== 'started' || started.pid === null) throw new Error('the run reported no started event with a pid');
  return started.pid;
}

/** Polls `condition` every 10 ms; throws naming `what` after 10 s. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 1000; tries += 1) {
    if (await condition()) return;
    await sleep(10);
  }
  throw new Error(`${what}: not within 10 s`);
}

/** Starts a pool of warm shells, as the agent keeps one per free slot, and waits until `size` are ready. */
export async function readyShellPool(idleCwd: string, size: number): Promise<WarmPool> {
  const pool = new WarmPool({ kind: warmShellKind, idleCwd, env: agentEnvironment(), maxProcesses: size, readyTimeoutMs: 10_000, refillDelayMs: 0, log: pino({ level: 'silent' }) });
  pool.resize(size);
  await waitFor(() => pool.readyCount === size, `${size} warm shells ready`);
  return pool;
}
