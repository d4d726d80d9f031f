/**
 * The HTTP API on the UI port: JSON over `Authorization: Bearer <token>`,
 * for scripts and CI. Routes are thin: parse, call the service, reply.
 * docs/api.md documents each route with an example.
 */
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HTTP_STATUS, HubError } from './errors.js';
import type { Logger } from './logger.js';
import type { StoredLogLine } from './model.js';
import type { HubService } from './service.js';

export interface HttpApiOptions {
  service: HubService;
  log: Logger;
  /** True when the bearer token is the admin token. */
  isAdminToken(token: string): boolean;
  /** Built renderer to serve at `/`, if present. */
  rendererDir: string | null;
  health(): Record<string, unknown>;
}

type IdParams = { Params: { id: string } };

export async function createHttpApi(options: HttpApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 2 * 1024 * 1024 });
  const { service } = options;

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token || !options.isAdminToken(token)) {
      options.log.warn({ address: request.ip, url: request.url }, 'API request rejected: missing or wrong token');
      await reply.code(401).send(errorBody('unauthorized', token ? 'the bearer token is not valid' : 'missing Authorization: Bearer <admin token> header'));
    }
  });
  app.setErrorHandler((error: FastifyError | HubError, request, reply) => sendError(error, request, reply, options.log));
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  app.get('/api/health', async () => options.health());

  app.get('/api/agents', async () => service.listAgents());
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
  app.post<IdParams>('/api/tasks/:id/runs', async (request, reply) => reply.code(201).send(service.runTask(request.params.id, request.body)));

  app.get('/api/jobs', async () => service.listJobs());
  app.post('/api/jobs', async (request, reply) => reply.code(201).send(service.createJob(request.body)));
  app.get<IdParams>('/api/jobs/:id', async (request) => service.getJob(request.params.id));
  app.put<IdParams>('/api/jobs/:id', async (request) => service.updateJob(request.params.id, request.body));
  app.delete<IdParams>('/api/jobs/:id', async (request, reply) => {
    service.deleteJob(request.params.id);
    return reply.code(204).send();
  });
  app.post<IdParams>('/api/jobs/:id/runs', async (request, reply) => reply.code(201).send(service.runJob(request.params.id)));
  app.post('/api/schedule/preview', async (request) => ({ next: service.previewSchedule(request.body) }));

  app.get('/api/runs', async (request) => service.listRuns(request.query));
  app.get<IdParams>('/api/runs/:id', async (request) => service.getRun(request.params.id));
  app.post<IdParams>('/api/runs/:id/cancel', async (request) => service.cancelRun(request.params.id));
  app.get<IdParams & { Querystring: { format?: string } }>('/api/runs/:id/log', async (request, reply) => {
    const lines = service.readLog(request.params.id);
    const asJson = request.query.format === 'jsonl';
    reply.type(asJson ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8');
    return reply.send(Readable.from(toLines(lines, asJson ? (line) => JSON.stringify(line) : formatLogLine)));
  });
  app.get<IdParams>('/api/runs/:id/records', async (request, reply) => {
    reply.type('application/x-ndjson; charset=utf-8');
    return reply.send(Readable.from(toLines(service.readRecords(request.params.id), (record) => JSON.stringify(record))));
  });

  if (options.rendererDir && existsSync(options.rendererDir)) {
    await app.register(fastifyStatic, { root: options.rendererDir, index: 'index.html', wildcard: false });
  }
  return app;
}

/** Formats one log line as text: ISO time, stream, message. */
export function formatLogLine(line: StoredLogLine): string {
  return `${new Date(line.t).toISOString()} ${line.s.padEnd(6)} ${line.m}`;
}

async function* toLines<T>(items: AsyncIterable<T>, format: (item: T) => string): AsyncGenerator<string> {
  let chunk = '';
  for await (const item of items) {
    chunk += format(item) + '\n';
    if (chunk.length >= 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
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
