/**
 * The HTTP API on the UI port: JSON over `Authorization: Bearer <token>`,
 * for scripts and CI. Routes are thin: parse, call the service, reply.
 * docs/api.md documents each route with an example.
 */
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HTTP_STATUS, HubError } from './errors.js';
import { apiKeyCreateSchema, type AdminAccess, type ApiKeyScope } from './admin-access.js';
import type { Logger } from './logger.js';
import { followLog, type LogFeed } from './log-follow.js';
import type { StoredLogLine } from './model.js';
import { parseInput, type HubService } from './service.js';

export interface HttpApiOptions {
  service: HubService;
  log: Logger;
  /** Checks the bearer token (admin token or API key) and the failure limit per address. */
  access: AdminAccess;
  /** Built renderer to serve at `/`, if present. */
  rendererDir: string | null;
  health(): Record<string, unknown>;
  /** Live log lines and run changes, for `GET /api/runs/:id/log?follow=1`. */
  runs: LogFeed['runs'];
}

type IdParams = { Params: { id: string } };

export async function createHttpApi(options: HttpApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 2 * 1024 * 1024 });
  const { service } = options;

  app.addHook('onRequest', async (request, reply) => {
    if (!isApiRequest(request)) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const verdict = options.access.authenticate(token, request.ip, requiredScope(request.method, request.routeOptions.url));
    if (verdict.ok) return;
    if (verdict.retryAfterSec !== null) void reply.header('retry-after', String(verdict.retryAfterSec));
    await reply.code(HTTP_STATUS[verdict.error.code]).send(errorBody(verdict.error.code, verdict.error.message));
  });
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    if (isApiRequest(request)) void reply.header('cache-control', 'no-store');
    else void reply.header('content-security-policy', RENDERER_CSP);
    if (!changesDefinitions(request) || reply.statusCode >= 400) return payload;
    try {
      await service.saveChanges();
      return payload;
    } catch (error: unknown) {
      if (!(error instanceof HubError)) throw error;
      options.log.error({ method: request.method, url: request.url, err: error.message }, 'API change not written to disk');
      void reply.code(HTTP_STATUS[error.code]).header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify(errorBody(error.code, error.message));
    }
  });
  app.setErrorHandler((error: FastifyError | HubError, request, reply) => sendError(error, request, reply, options.log));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error: unknown) {
      done(error as HubError);
    }
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  app.get('/api/health', async () => options.health());

  app.get('/api/agents', async () => service.listAgents());
  app.get('/api/agents/join', async () => service.agentJoin());
  app.post('/api/certificate/rotate', async () => service.rotateCertificate());
  app.get<IdParams>('/api/agents/:id', async (request) => service.getAgent(request.params.id));
  app.post<IdParams>('/api/agents/:id/drain', async (request) => service.setDraining(request.params.id, true));
  app.post<IdParams>('/api/agents/:id/resume', async (request) => service.setDraining(request.params.id, false));
  app.delete<IdParams>('/api/agents/:id', async (request, reply) => {
    service.forgetAgent(request.params.id);
    return reply.code(204).send();
  });

  app.get('/api/tasks', async () => service.listTasks());
  app.post('/api/tasks', async (request, reply) => reply.code(201).send(service.createTask(request.body)));
  app.get<IdParams>('/api/tasks/:id', async (request) => service.getTask(request.params.id));
  app.put<IdParams>('/api/tasks/:id', async (request) => service.updateTask(request.params.id, request.body));
  app.delete<IdParams>('/api/tasks/:id', async (request, reply) => {
    service.deleteTask(request.params.id);
    return reply.code(204).send();
  });
  app.post<IdParams>('/api/tasks/:id/runs', async (request, reply) => reply.code(201).send(await service.runTask(request.params.id, request.body)));

  app.get('/api/jobs', async () => service.listJobs());
  app.post('/api/jobs', async (request, reply) => reply.code(201).send(service.createJob(request.body)));
  app.get<IdParams>('/api/jobs/:id', async (request) => service.getJob(request.params.id));
  app.put<IdParams>('/api/jobs/:id', async (request) => service.updateJob(request.params.id, request.body));
  app.delete<IdParams>('/api/jobs/:id', async (request, reply) => {
    service.deleteJob(request.params.id);
    return reply.code(204).send();
  });
  app.post<IdParams>('/api/jobs/:id/runs', async (request, reply) => reply.code(201).send(await service.runJob(request.params.id)));
  app.post<IdParams>('/api/jobs/:id/duplicate', async (request, reply) => reply.code(201).send(service.duplicateJob(request.params.id)));
  app.get('/api/jobs/overview', async () => service.jobsOverview());
  app.post('/api/jobs/bulk-update', async (request) => service.updateJobs(request.body));
  app.post('/api/jobs/export', async (request) => service.exportJobs(request.body));
  app.post('/api/jobs/import', async (request, reply) => reply.code(201).send(service.importJobs(request.body)));
  app.post('/api/schedule/preview', async (request) => ({ next: service.previewSchedule(request.body) }));

  app.get('/api/runs', async (request) => service.listRuns(request.query));
  app.get<IdParams>('/api/runs/:id', async (request) => service.getRun(request.params.id));
  app.post<IdParams>('/api/runs/:id/cancel', async (request) => service.cancelRun(request.params.id));
  app.get<IdParams & { Querystring: { format?: string; follow?: string } }>('/api/runs/:id/log', async (request, reply) => {
    const asJson = request.query.format === 'jsonl';
    const format = asJson ? (line: StoredLogLine) => JSON.stringify(line) : formatLogLine;
    reply.type(asJson ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8');
    if (!isTrue(request.query.follow)) return reply.send(Readable.from(toLines(service.readLog(request.params.id), format)));

    service.getRun(request.params.id);
    const stop = new AbortController();
    reply.raw.once('close', () => stop.abort());
    const feed = { runs: options.runs, getRun: (id: string) => service.getRun(id), readLog: (id: string) => service.readLog(id) };
    // Each batch is sent as it comes, so a script receives lines within one push of the hub receiving them.
    return reply.send(Readable.from(mapBatches(followLog(feed, request.params.id, stop.signal), format)));
  });
  app.get<IdParams>('/api/runs/:id/records', async (request, reply) => {
    reply.type('application/x-ndjson; charset=utf-8');
    return reply.send(Readable.from(toLines(service.readRecords(request.params.id), (record) => JSON.stringify(record))));
  });

  app.get('/api/settings', async () => service.getSettings());
  app.patch('/api/settings', async (request) => service.updateSettings(request.body));
  app.get('/api/settings/network', async () => service.getNetwork());
  app.patch('/api/settings/network', async (request) => service.updateNetwork(request.body));
  app.get('/api/settings/alerts', async () => service.getAlerts());
  app.patch('/api/settings/alerts', async (request) => service.updateAlerts(request.body));
  app.post('/api/settings/alerts/test', async (request) => service.testAlert(request.body));
  app.get('/api/enrollment-tokens', async () => service.listEnrollmentTokens());
  app.post('/api/enrollment-tokens', async (request, reply) => reply.code(201).send(service.createEnrollmentToken(request.body)));
  app.post<IdParams>('/api/enrollment-tokens/:id/revoke', async (request) => service.revokeEnrollmentToken(request.params.id));
  app.get('/api/keys', async () => options.access.listKeys());
  app.post('/api/keys', async (request, reply) => reply.code(201).send(options.access.createKey(parseInput(apiKeyCreateSchema, request.body))));
  app.post<IdParams>('/api/keys/:id/revoke', async (request) => options.access.revokeKey(request.params.id));
  app.get('/api/templates', async () => service.listTemplates());

  if (options.rendererDir && existsSync(options.rendererDir)) {
    await app.register(fastifyStatic, { root: options.rendererDir, index: 'index.html', wildcard: false });
  }
  return app;
}

/**
 * The policy of renderer/index.html's meta tag, sent as a header with every
 * page the hub serves, plus `frame-ancestors`, which only works as a header:
 * no other site may frame the UI to trick a click out of its user.
 */
export const RENDERER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
  "manifest-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'";

/** Routes that change nothing, yet return secrets: enrollment tokens in clear or lists of credentials. */
const ADMIN_READS = new Set(['/api/agents/join', '/api/enrollment-tokens', '/api/keys']);
/** Routes an API key of scope `run` may call besides reading: starting and cancelling runs. */
const RUN_ROUTES = new Set(['POST /api/tasks/:id/runs', 'POST /api/jobs/:id/runs', 'POST /api/runs/:id/cancel']);

/**
 * The scope a route needs: `read` for reads and previews, `run` to start or
 * cancel runs, `admin` for everything else, including routes that do not
 * exist, so that a 404 reveals nothing to a weaker key.
 */
export function requiredScope(method: string, route: string | undefined): ApiKeyScope {
  if (route === undefined) return 'admin';
  if ((method === 'GET' || method === 'HEAD') && !ADMIN_READS.has(route)) return 'read';
  if (method === 'POST' && route === '/api/schedule/preview') return 'read';
  return RUN_ROUTES.has(`${method} ${route}`) ? 'run' : 'admin';
}

/** Tells whether a request changes definitions, whose reply then waits for them to be on disk (runs have their own write). */
function changesDefinitions(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || !isApiRequest(request)) return false;
  return requiredScope(request.method, request.routeOptions.url) === 'admin';
}

/**
 * Tells whether a request reaches the API. Decided by the route Fastify
 * matched, which it finds after decoding the path, never by the raw URL:
 * `/%61pi/tasks` is routed to `/api/tasks` and must need the token too.
 */
function isApiRequest(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  if (route !== undefined) return route.startsWith('/api/');
  const path = request.url.split('?')[0] ?? '';
  try {
    return decodeURIComponent(path).startsWith('/api/');
  } catch {
    return true;
  }
}

/** Formats one log line as text: ISO time, stream, message. */
export function formatLogLine(line: StoredLogLine): string {
  return `${new Date(line.t).toISOString()} ${line.s.padEnd(6)} ${line.m}`;
}

/**
 * Joins formatted items into chunks of about 256 KiB. The items of a stored
 * file come through promise jobs only, which never let the event loop poll
 * for I/O. So the generator waits one turn of the loop (setImmediate) after
 * each chunk, and other requests are served between chunks.
 */
async function* toLines<T>(items: AsyncIterable<T>, format: (item: T) => string): AsyncGenerator<string> {
  let chunk = '';
  for await (const item of items) {
    chunk += format(item) + '\n';
    if (chunk.length >= DOWNLOAD_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
      await setImmediate();
    }
  }
  if (chunk) yield chunk;
}

const DOWNLOAD_CHUNK_CHARS = 256 * 1024;

async function* mapBatches(batches: AsyncIterable<StoredLogLine[]>, format: (line: StoredLogLine) => string): AsyncGenerator<string> {
  for await (const batch of batches) yield batch.map((line) => format(line) + '\n').join('');
}

function isTrue(value: string | undefined): boolean {
  return value === '1' || value === 'true' || value === '';
}

/**
 * Parses a JSON request body. An empty one reads as no body, because
 * scripts often send the JSON content type on every call, run-now and
 * delete included. A `__proto__` key is refused: spread or assigned into
 * another object, it would replace that object's prototype.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error: unknown) {
    throw new HubError('invalid', `body: not valid JSON (${(error as Error).message})`, 'body');
  }
  if (text.includes('"__proto__"')) {
    try {
      JSON.parse(text, (key, value: unknown) => {
        if (key === '__proto__') throw new HubError('invalid', 'body: the key "__proto__" is not allowed', 'body');
        return value;
      });
    } catch (error: unknown) {
      if (error instanceof HubError) throw error;
      throw new HubError('invalid', 'body: nested too deep to check', 'body');
    }
  }
  return parsed;
}

function errorBody(code: string, message: string, field?: string, details?: unknown) {
  return { error: { code, message, ...(field ? { field } : {}), ...(details ? { details } : {}) } };
}

function sendError(error: FastifyError | HubError, request: FastifyRequest, reply: FastifyReply, log: Logger): void {
  if (error instanceof HubError) {
    void reply.code(HTTP_STATUS[error.code]).send(errorBody(error.code, error.message, error.field, error.details));
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors: malformed JSON, wrong content type, body too large.
    void reply.code(status).send(errorBody('invalid', `body: ${error.message}`, 'body'));
    return;
  }
  log.error({ err: error, method: request.method, url: request.url }, 'API request failed');
  void reply.code(500).send(errorBody('internal', 'internal error; the hub log has the details'));
}
