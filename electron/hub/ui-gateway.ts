/**
 * The /ui socket.io namespace: the window's and the browser's one channel to
 * the hub. Requests go through the same service as the HTTP API; pushes are
 * coalesced so that a busy fleet sends at most one push of each kind per
 * window, whatever the number of changes behind it.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { HubError } from './errors.js';
import { RateLimitedLog, type Logger } from './logger.js';
import type { AgentView, Json, Run, StoredLogLine } from './model.js';
import type { HubService } from './service.js';
import { UI_NAMESPACE, type UiChanges, type UiClientEvents, type UiMethod, type UiReply, type UiServerEvents } from './ui-contract.js';

type UiSocket = Socket<UiClientEvents, UiServerEvents>;

/** Pushes per kind are sent at most once per window. */
const PUSH_WINDOW_MS = 100;
/** Lines sent to a new watcher from the stored log; older ones are read through the HTTP API. */
const WATCH_BACKLOG_LINES = 5_000;

const requestSchema = z.object({ method: z.string().min(1).max(64), params: z.unknown() });
const idParams = z.object({ id: z.string().min(1).max(128) });

export interface UiGatewayOptions {
  httpServer: HttpServer;
  service: HubService;
  log: Logger;
  isAdminToken(token: string): boolean;
}

export class UiGateway {
  private readonly io: Server<UiClientEvents, UiServerEvents>;
  private readonly invalid: RateLimitedLog;
  private pending: { runs: Map<string, Run>; agents: Map<string, AgentView>; jobs: Set<string>; tasks: Set<string> } = emptyPending();
  private readonly pendingLogs = new Map<string, StoredLogLine[]>();
  private readonly pendingRecords = new Map<string, Json[]>();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: UiGatewayOptions) {
    this.invalid = new RateLimitedLog(options.log);
    this.io = new Server(options.httpServer, { serveClient: false, maxHttpBufferSize: 4 * 1024 * 1024 });
    const namespace = this.io.of(UI_NAMESPACE);
    namespace.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      if (typeof token === 'string' && options.isAdminToken(token)) return next();
      this.invalid.warn(`ui-token:${socket.handshake.address}`, { address: socket.handshake.address }, 'UI connection rejected: missing or wrong token');
      return next(Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized', message: 'The admin token is missing or wrong.' } }));
    });
    namespace.on('connection', (socket) => {
      socket.on('request', (payload, ack) => void this.onRequest(socket, payload, ack));
    });
  }

  private async onRequest(socket: UiSocket, payload: unknown, ack: unknown): Promise<void> {
    if (typeof ack !== 'function') return;
    const reply = ack as (reply: UiReply<unknown>) => void;
    const parsed = requestSchema.safeParse(payload);
    if (!parsed.success) {
      reply({ ok: false, error: { code: 'invalid', message: 'request: expected { method, params }' } });
      return;
    }
    try {
      const data = await this.call(socket, parsed.data.method as UiMethod, parsed.data.params);
      reply({ ok: true, data: data ?? null });
    } catch (error) {
      if (error instanceof HubError) {
        reply({ ok: false, error: { code: error.code, message: error.message, field: error.field, details: error.details } });
        return;
      }
      this.options.log.error({ err: error, method: parsed.data.method }, 'UI request failed');
      reply({ ok: false, error: { code: 'internal', message: 'internal error; the hub log has the details' } });
    }
  }

  private async call(socket: UiSocket, method: UiMethod, params: unknown): Promise<unknown> {
    const service = this.options.service;
    const id = () => idParams.parse(params).id;
    const field = (name: string) => (params as Record<string, unknown> | null)?.[name];
    switch (method) {
      case 'agents.list': return service.listAgents();
      case 'agents.drain': return service.setDraining(id(), field('draining') === true);
      case 'agents.forget': return service.forgetAgent(id());
      case 'tasks.list': return service.listTasks();
      case 'tasks.get': return service.getTask(id());
      case 'tasks.create': return service.createTask(params);
      case 'tasks.update': return service.updateTask(id(), field('patch'));
      case 'tasks.delete': return service.deleteTask(id());
      case 'tasks.run': return service.runTask(id(), { config: field('config'), tags: field('tags') });
      case 'jobs.list': return service.listJobs();
      case 'jobs.get': return service.getJob(id());
      case 'jobs.create': return service.createJob(params);
      case 'jobs.update': return service.updateJob(id(), field('patch'));
      case 'jobs.delete': return service.deleteJob(id());
      case 'jobs.run': return service.runJob(id());
      case 'schedule.preview': return service.previewSchedule(params).map((date) => date.toISOString());
      case 'runs.list': return service.listRuns(params ?? {});
      case 'runs.get': return service.getRun(id());
      case 'runs.cancel': return service.cancelRun(id());
      case 'runs.watch': return this.watch(socket, id());
      case 'runs.unwatch': return void socket.leave(`run:${id()}`);
      default: throw new HubError('invalid', `method: unknown method ${String(method)}`, 'method');
    }
  }

  private async watch(socket: UiSocket, runId: string): Promise<{ lines: StoredLogLine[]; records: Json[] }> {
    const lines: StoredLogLine[] = [];
    for await (const line of this.options.service.readLog(runId)) {
      lines.push(line);
      if (lines.length > WATCH_BACKLOG_LINES) lines.shift();
    }
    const records: Json[] = [];
    for await (const record of this.options.service.readRecords(runId)) records.push(record);
    // Joined after reading, and lines pushed meanwhile are still pending: flush them now so none is lost or doubled.
    this.flush();
    await socket.join(`run:${runId}`);
    return { lines, records };
  }

  // -------------------------------------------------------------------------
  // Pushes

  runChanged(run: Run): void {
    this.pending.runs.set(run.id, run);
    this.flushSoon();
  }

  agentChanged(view: AgentView): void {
    this.pending.agents.set(view.id, view);
    this.flushSoon();
  }

  definitionChanged(kind: 'job' | 'task', id: string): void {
    (kind === 'job' ? this.pending.jobs : this.pending.tasks).add(id);
    this.flushSoon();
  }

  logAppended(runId: string, lines: StoredLogLine[]): void {
    if (!this.hasWatchers(runId)) return;
    const list = this.pendingLogs.get(runId);
    if (list) list.push(...lines);
    else this.pendingLogs.set(runId, [...lines]);
    this.flushSoon();
  }

  recordsAppended(runId: string, records: Json[]): void {
    if (!this.hasWatchers(runId)) return;
    const list = this.pendingRecords.get(runId);
    if (list) list.push(...records);
    else this.pendingRecords.set(runId, [...records]);
    this.flushSoon();
  }

  private hasWatchers(runId: string): boolean {
    return (this.io.of(UI_NAMESPACE).adapter.rooms.get(`run:${runId}`)?.size ?? 0) > 0;
  }

  private flushSoon(): void {
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), PUSH_WINDOW_MS);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const namespace = this.io.of(UI_NAMESPACE);
    const { runs, agents, jobs, tasks } = this.pending;
    if (runs.size + agents.size + jobs.size + tasks.size > 0) {
      const changes: UiChanges = { runs: [...runs.values()], agents: [...agents.values()], jobs: [...jobs], tasks: [...tasks] };
      namespace.emit('changes', changes);
    }
    this.pending = emptyPending();
    for (const [runId, lines] of this.pendingLogs) namespace.to(`run:${runId}`).emit('log', { runId, lines });
    this.pendingLogs.clear();
    for (const [runId, records] of this.pendingRecords) namespace.to(`run:${runId}`).emit('records', { runId, records });
    this.pendingRecords.clear();
  }

  close(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    // The HTTP server belongs to the API and is closed with it; only the clients end here.
    this.io.disconnectSockets(true);
    this.io.engine.close();
  }
}

function emptyPending() {
  return { runs: new Map<string, Run>(), agents: new Map<string, AgentView>(), jobs: new Set<string>(), tasks: new Set<string>() };
}
