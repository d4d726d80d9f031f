/**
 * The /ui socket.io namespace: the window's and the browser's one channel to
 * the hub. Requests go through the same service as the HTTP API; pushes are
 * coalesced so that a busy fleet sends at most one push of each kind per
 * window, whatever the number of changes behind it.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { apiKeyCreateSchema, type AdminAccess } from './admin-access.js';
import { HubError } from './errors.js';
import { RateLimitedLog, type Logger } from './logger.js';
import type { AgentView, Json, Run, StoredLogLine } from './model.js';
import { parseInput, type HubService } from './service.js';
import { UI_NAMESPACE, type RunWatch, type UiChanges, type UiClientEvents, type UiMethod, type UiReply, type UiServerEvents } from './ui-contract.js';

type UiSocket = Socket<UiClientEvents, UiServerEvents>;

/** Pushes per kind are sent at most once per window. */
const PUSH_WINDOW_MS = 100;
/** Lines sent to a new watcher from the stored log; older ones are read through the HTTP API. */
const WATCH_BACKLOG_LINES = 5_000;

/** Requests that change definitions: each reply waits for them to be on disk. Runs have their own write. */
const DEFINITION_CHANGES = new Set<UiMethod>([
  'agents.drain',
  'agents.forget',
  'hub.rotateCertificate',
  'tasks.create',
  'tasks.update',
  'tasks.delete',
  'jobs.create',
  'jobs.update',
  'jobs.delete',
  'jobs.duplicate',
  'jobs.bulkUpdate',
  'jobs.import',
  'settings.update',
  'network.update',
  'alerts.update',
  'tokens.create',
  'tokens.revoke',
  'keys.create',
  'keys.revoke',
]);

/** Room of the clients that follow the log lines of every run. */
const FOLLOW_ROOM = 'logs:all';

// `params` may be absent: JSON drops an undefined value, and methods such as agents.list take none.
const requestSchema = z.object({ method: z.string().min(1).max(64), params: z.unknown().optional() });
const idParams = z.object({ id: z.string().min(1).max(128) });

export interface UiGatewayOptions {
  httpServer: HttpServer;
  service: HubService;
  log: Logger;
  /** Checks the admin token and the failure limit per address. */
  access: AdminAccess;
  /** Lines appended so far to a run's log; each push names the index of its first line from it. */
  lineCount(runId: string): number;
}

/** Consecutive items of one run's log or records, from the item at index `from`. */
interface PendingRange<T> {
  from: number;
  items: T[];
}

export class UiGateway {
  private readonly io: Server<UiClientEvents, UiServerEvents>;
  private readonly invalid: RateLimitedLog;
  /**
   * Per socket, the open watches of each run. Several views of one run may
   * share a socket, so the socket leaves the run's room only when the last
   * of them ends.
   */
  private readonly watches = new WeakMap<UiSocket, Map<string, number>>();
  private pending: { runs: Map<string, Run>; agents: Map<string, AgentView>; jobs: Set<string>; tasks: Set<string> } = emptyPending();
  private readonly pendingLogs = new Map<string, PendingRange<StoredLogLine>[]>();
  private readonly pendingRecords = new Map<string, PendingRange<Json>[]>();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: UiGatewayOptions) {
    this.invalid = new RateLimitedLog(options.log);
    this.io = new Server(options.httpServer, { serveClient: false, maxHttpBufferSize: 4 * 1024 * 1024 });
    const namespace = this.io.of(UI_NAMESPACE);
    namespace.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      const verdict = options.access.authenticate(typeof token === 'string' ? token : '', socket.handshake.address, 'admin');
      if (verdict.ok) return next();
      const { code, message } = verdict.error;
      const data = { code, message: code === 'unauthorized' ? 'The admin token is missing or wrong.' : message, retryAfterSec: verdict.retryAfterSec };
      return next(Object.assign(new Error(code), { data }));
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
      const method = parsed.data.method as UiMethod;
      const data = await this.call(socket, method, parsed.data.params);
      if (DEFINITION_CHANGES.has(method)) await this.options.service.saveChanges();
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
    const id = () => parseInput(idParams, params).id;
    const field = (name: string) => (params as Record<string, unknown> | null)?.[name];
    switch (method) {
      case 'agents.list': return service.listAgents();
      case 'agents.drain': return service.setDraining(id(), field('draining') === true);
      case 'agents.forget': return service.forgetAgent(id());
      case 'agents.join': return service.agentJoin();
      case 'hub.rotateCertificate': return service.rotateCertificate();
      case 'tasks.list': return service.listTasks();
      case 'tasks.get': return service.getTask(id());
      case 'tasks.create': return service.createTask(params);
      case 'tasks.update': return service.updateTask(id(), field('patch'));
      case 'tasks.delete': return service.deleteTask(id());
      case 'tasks.run': return service.runTask(id(), { config: field('config'), tags: field('tags'), agentId: field('agentId') });
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
      case 'runs.unwatch': return this.unwatch(socket, id());
      case 'logs.follow': return this.follow(socket);
      case 'logs.unfollow': return void socket.leave(FOLLOW_ROOM);
      case 'jobs.overview': return service.jobsOverview();
      case 'jobs.duplicate': return service.duplicateJob(id());
      case 'jobs.bulkUpdate': return service.updateJobs(params);
      case 'jobs.export': return service.exportJobs(params);
      case 'jobs.import': return service.importJobs(params);
      case 'hub.info': return service.info();
      case 'hub.summary': return service.summary();
      case 'settings.get': return service.getSettings();
      case 'settings.update': return service.updateSettings(params);
      case 'network.get': return service.getNetwork();
      case 'network.update': return service.updateNetwork(params);
      case 'alerts.get': return service.getAlerts();
      case 'alerts.update': return service.updateAlerts(params);
      case 'alerts.test': return service.testAlert(params);
      case 'tokens.list': return service.listEnrollmentTokens();
      case 'tokens.create': return service.createEnrollmentToken(params);
      case 'tokens.revoke': return service.revokeEnrollmentToken(id());
      case 'keys.list': return this.options.access.listKeys();
      case 'keys.create': return this.options.access.createKey(parseInput(apiKeyCreateSchema, params));
      case 'keys.revoke': return this.options.access.revokeKey(id());
      case 'templates.list': return service.listTemplates();
      default: throw new HubError('invalid', `method: unknown method ${String(method)}`, 'method');
    }
  }

  /**
   * Joins the run's room, then reads the stored log and records. Output
   * appended after the join is pushed, and the read may return some of it
   * too. The reply's `nextLine` and `nextRecord` and each push's `from`
   * number every item, so a client keeps each one once.
   */
  private async watch(socket: UiSocket, runId: string): Promise<RunWatch> {
    this.options.service.getRun(runId);
    const counts = this.watches.get(socket) ?? new Map<string, number>();
    this.watches.set(socket, counts);
    counts.set(runId, (counts.get(runId) ?? 0) + 1);
    await socket.join(`run:${runId}`);

    const lines: StoredLogLine[] = [];
    let nextLine = 0;
    for await (const line of this.options.service.readLog(runId)) {
      nextLine += 1;
      lines.push(line);
      if (lines.length > WATCH_BACKLOG_LINES) lines.shift();
    }
    const records: Json[] = [];
    for await (const record of this.options.service.readRecords(runId)) records.push(record);
    return { lines, records, nextLine, nextRecord: records.length };
  }

  /** Ends one watch of the run; the socket leaves the run's room with the last one. */
  private unwatch(socket: UiSocket, runId: string): null {
    const counts = this.watches.get(socket);
    const count = counts?.get(runId) ?? 0;
    if (count > 1) {
      counts?.set(runId, count - 1);
      return null;
    }
    counts?.delete(runId);
    void socket.leave(`run:${runId}`);
    return null;
  }

  private async follow(socket: UiSocket): Promise<Run[]> {
    await socket.join(FOLLOW_ROOM);
    return this.options.service.activeRuns();
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
    // The run manager counts the lines before it reports them.
    const from = Math.max(0, this.options.lineCount(runId) - lines.length);
    addPending(this.pendingLogs, runId, from, lines);
    this.flushSoon();
  }

  recordsAppended(runId: string, records: Json[]): void {
    if (!this.hasWatchers(runId)) return;
    const from = Math.max(0, this.recordCount(runId) - records.length);
    addPending(this.pendingRecords, runId, from, records);
    this.flushSoon();
  }

  /** Returns the records stored for a run so far; 0 for a run the hub no longer tracks, so its push starts at 0. */
  private recordCount(runId: string): number {
    try {
      return this.options.service.getRun(runId).recordCount;
    } catch {
      return 0;
    }
  }

  private hasWatchers(runId: string): boolean {
    const rooms = this.io.of(UI_NAMESPACE).adapter.rooms;
    return (rooms.get(`run:${runId}`)?.size ?? 0) + (rooms.get(FOLLOW_ROOM)?.size ?? 0) > 0;
  }

  private flushSoon(): void {
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), PUSH_WINDOW_MS);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const namespace = this.io.of(UI_NAMESPACE);
    const { runs, agents, jobs, tasks } = this.pending;
    // socket.io serializes a broadcast even for an empty namespace; with no window open there is no one to tell.
    if (runs.size + agents.size + jobs.size + tasks.size > 0 && namespace.sockets.size > 0) {
      const changes: UiChanges = { runs: [...runs.values()], agents: [...agents.values()], jobs: [...jobs], tasks: [...tasks] };
      namespace.emit('changes', changes);
    }
    this.pending = emptyPending();
    // A socket in both rooms gets each push once.
    for (const [runId, ranges] of this.pendingLogs) {
      for (const { from, items } of ranges) namespace.to([`run:${runId}`, FOLLOW_ROOM]).emit('log', { runId, from, lines: items });
    }
    this.pendingLogs.clear();
    for (const [runId, ranges] of this.pendingRecords) {
      for (const { from, items } of ranges) namespace.to(`run:${runId}`).emit('records', { runId, from, records: items });
    }
    this.pendingRecords.clear();
  }

  /** Engine.IO connections open on the UI port, for leak checks. */
  get clientCount(): number {
    return this.io.engine.clientsCount;
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

/** Adds items to a run's pending pushes, starting a new range where they do not follow the last one. */
function addPending<T>(pending: Map<string, PendingRange<T>[]>, runId: string, from: number, items: readonly T[]): void {
  const ranges = pending.get(runId) ?? [];
  pending.set(runId, ranges);
  const last = ranges.at(-1);
  if (last && last.from + last.items.length === from) last.items.push(...items);
  else ranges.push({ from, items: [...items] });
}
