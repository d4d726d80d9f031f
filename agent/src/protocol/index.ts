/**
 * The wire contract between the hub and its agents.
 *
 * Every event in both directions has a zod schema here and a type inferred
 * from it. Both ends parse each incoming payload with `parseMessage` before
 * any other code sees it, so the hub and the agent can never disagree about
 * a shape without one of them saying so.
 */
import { z } from 'zod';

export * from './masking.js';
export * from './stored-size.js';

/** Bumped on any change that an older peer could misread. */
export const PROTOCOL_VERSION = 2;

/** Socket.io namespace that agents connect to. */
export const AGENT_NAMESPACE = '/agent';

/** Default TCP port of the hub's agent gateway. */
export const DEFAULT_AGENT_PORT = 7420;

/**
 * Size limits shared by both ends, so a payload the agent sends is one the
 * hub accepts. Every limit is in bytes of UTF-8.
 */
export const LIMITS = {
  /** socket.io `maxHttpBufferSize` on both sides. */
  maxMessageBytes: 1_000_000,
  /** Upper bound for one `events` batch; the agent splits below it. */
  maxBatchBytes: 256 * 1024,
  /** A longer output line is cut and marked. */
  maxLineBytes: 16 * 1024,
  /** One emitted record, serialized as JSON. */
  maxRecordBytes: 64 * 1024,
  /**
   * Output kept per run attempt, counted as the hub stores it (`stored-size.ts`):
   * past it the agent writes one marker and drops the rest.
   */
  maxRunLogBytes: 128 * 1024 * 1024,
  /** Task source or compiled bundle carried by an assignment. */
  maxCodeBytes: 512 * 1024,
  /**
   * Nesting of a config, record or result. Deeper values would overflow the
   * stack of the recursive parsers (zod, JSON.stringify) on either side.
   */
  maxJsonDepth: 32,
} as const;

const id = z.string().min(1).max(128);
const runId = id;
const attempt = z.number().int().min(1).max(1000);
const seq = z.number().int().min(1);
const timestamp = z.number().int().nonnegative();

/** JSON values: what configs, records and results may hold. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export const jsonValue: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
export const jsonObject = z.record(z.string(), jsonValue);

// ---------------------------------------------------------------------------
// Handshake

/**
 * Sent as socket.io `auth` on every connection attempt. An agent presents
 * its credential once it has one, and the enrollment token until then; it
 * may send both.
 */
export const agentAuthSchema = z
  .object({
    protocolVersion: z.number().int(),
    agentId: id,
    name: z.string().min(1).max(128),
    version: z.string().max(64),
    token: z.string().min(1).max(512).optional(),
    credential: z.string().min(1).max(512).optional(),
  })
  .refine((auth) => auth.token !== undefined || auth.credential !== undefined, { message: 'needs a token or a credential' });
export type AgentAuth = z.infer<typeof agentAuthSchema>;

/** Why the hub refused a connection or ended one for good. */
export const refusalCodeSchema = z.enum([
  'invalid_handshake',
  'bad_token',
  'protocol_mismatch',
  'agent_forgotten',
  'replaced',
  'bad_credential',
  'agent_id_in_use',
]);
export type RefusalCode = z.infer<typeof refusalCodeSchema>;

/**
 * Refusals after which reconnecting cannot help; the agent prints the reason
 * and exits. Any other disconnect is followed by a reconnect with backoff:
 * `agent_id_in_use` too, since the other connection may be a dead one the
 * hub has not noticed yet.
 */
export const TERMINAL_REFUSALS: ReadonlySet<RefusalCode> = new Set([
  'invalid_handshake',
  'bad_token',
  'protocol_mismatch',
  'agent_forgotten',
  'replaced',
  'bad_credential',
]);

/** `data` of the socket.io connect error, and payload of `bye`. */
export const refusalSchema = z.object({
  code: refusalCodeSchema,
  message: z.string().max(1000),
});
export type Refusal = z.infer<typeof refusalSchema>;

// ---------------------------------------------------------------------------
// Agent to hub

export const machineFactsSchema = z.object({
  hostname: z.string().max(255),
  platform: z.string().max(32),
  arch: z.string().max(32),
  cpus: z.number().int().min(1),
  memoryBytes: z.number().nonnegative(),
  nodeVersion: z.string().max(32),
});
export type MachineFacts = z.infer<typeof machineFactsSchema>;

export const helloSchema = z.object({
  facts: machineFactsSchema,
  tags: z.array(z.string().min(1).max(64)).max(64),
  slots: z.number().int().min(1).max(1024),
  /** Normalized load above which the agent takes no new run; null for no limit. */
  maxLoad: z.number().positive().nullable(),
  /** Runs the agent is still executing or still has unacknowledged events for. */
  runs: z.array(z.object({ runId, attempt })).max(10_000),
});
export type Hello = z.infer<typeof helloSchema>;

/** A run attempt the hub wants stopped: a stale attempt, or a run it has already ended. */
export const runRefSchema = z.object({ runId, attempt });
export type RunRef = z.infer<typeof runRefSchema>;

export const cancelReasonSchema = z.enum(['user', 'timeout', 'stale', 'hub_lost_track']);
export type CancelReason = z.infer<typeof cancelReasonSchema>;

/**
 * A run the hello reply asks the agent to stop. `reason` is set when the hub
 * still tracks the run (a cancel it sent while the agent was away); without
 * it, the hub has ended or replaced the run.
 */
export const helloCancelSchema = runRefSchema.extend({ reason: cancelReasonSchema.optional() });
export type HelloCancel = z.infer<typeof helloCancelSchema>;

/**
 * In `acked`, this value means the hub will apply nothing more from that run
 * attempt, so the agent drops all its events for it.
 */
export const ACK_ALL = Number.MAX_SAFE_INTEGER;

export const helloReplySchema = z.object({
  /** Runs the hub no longer wants, or wants cancelled; the agent stops them if they still run. */
  cancel: z.array(helloCancelSchema),
  /** Highest sequence number the hub has applied, per reported run, or ACK_ALL. */
  acked: z.record(z.string(), z.number().int().nonnegative()),
  draining: z.boolean(),
  /** The agent's own credential, issued when it enrolled with a token; it keeps it and uses it from then on. */
  credential: z.string().min(1).max(512).optional(),
});
export type HelloReply = z.infer<typeof helloReplySchema>;

export const loadReportSchema = z.object({
  /** 1-minute load average divided by CPU count; null where unknown. */
  load: z.number().nonnegative().nullable(),
  /** CPU utilisation 0..1 from os.cpus() deltas since the last report; null on the first. */
  cpu: z.number().min(0).max(1).nullable(),
  freeMemoryBytes: z.number().nonnegative(),
  running: z.number().int().nonnegative(),
});
export type LoadReport = z.infer<typeof loadReportSchema>;

export const logStreamSchema = z.enum(['stdout', 'stderr', 'system']);
export type LogStream = z.infer<typeof logStreamSchema>;

export const logLineSchema = z.object({
  t: timestamp,
  s: logStreamSchema,
  m: z.string(),
});
export type LogLine = z.infer<typeof logLineSchema>;

/**
 * Final statuses an agent can report. An agent reports `lost` only for a run
 * that its previous process left unfinished (it crashed or was killed); the
 * hub also sets it for runs whose agent stayed away past the grace period.
 */
export const agentFinalStatusSchema = z.enum(['succeeded', 'failed', 'timed_out', 'cancelled', 'lost']);
export type AgentFinalStatus = z.infer<typeof agentFinalStatusSchema>;

const runEventBase = { runId, attempt, seq, at: timestamp };

export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ ...runEventBase, type: z.literal('started'), pid: z.number().int().nullable() }),
  z.object({ ...runEventBase, type: z.literal('log'), lines: z.array(logLineSchema).min(1) }),
  z.object({
    ...runEventBase,
    type: z.literal('progress'),
    percent: z.number().min(0).max(100),
    message: z.string().max(1000).nullable(),
  }),
  z.object({ ...runEventBase, type: z.literal('records'), records: z.array(jsonValue).min(1) }),
  z.object({
    ...runEventBase,
    type: z.literal('finished'),
    status: agentFinalStatusSchema,
    exitCode: z.number().int().nullable(),
    signal: z.string().max(32).nullable(),
    error: z.string().max(4000).nullable(),
    result: jsonValue.nullable(),
    logTruncated: z.boolean(),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;
export type RunEventType = RunEvent['type'];

export const eventBatchSchema = z.object({
  events: z.array(runEventSchema).min(1).max(10_000),
});
export type EventBatch = z.infer<typeof eventBatchSchema>;

/**
 * An event batch as the agent sends it: its UTF-8 JSON in one binary
 * attachment, joined from each event's JSON, which the agent also writes to
 * its spool, so socket.io neither serializes nor scans a flood's lines
 * again. The hub also accepts a batch as an object, which is how the agent
 * sends small ones.
 */
export type EncodedEventBatch = Uint8Array;

/** Joins events, each the UTF-8 JSON of one RunEvent, into an encoded batch. */
export function encodeEventBatch(events: readonly Uint8Array[]): Buffer {
  // Built here, not at load: the renderer imports this module's schemas, and a browser has no Buffer.
  const comma = Buffer.from(',');
  const parts: Uint8Array[] = [Buffer.from('{"events":[')];
  for (const [index, event] of events.entries()) {
    if (index > 0) parts.push(comma);
    parts.push(event);
  }
  parts.push(Buffer.from(']}'));
  return Buffer.concat(parts);
}

/**
 * Batches smaller than this go as objects. A binary attachment is a second
 * WebSocket frame, and with it the `started` report of a run reached the hub
 * about 1.5 ms later (bench/, the `dispatch` benchmark), while parsing and
 * re-encoding a small batch costs well under a millisecond.
 * NOTE: a bare socket.io round trip over TLS pays only about 0.1 ms for the
 * second frame. Where the rest of the delay comes from is not known.
 */
export const MIN_BINARY_BATCH_BYTES = 16 * 1024;

/** Returns what an agent emits for an encoded batch: the bytes, or for a small batch the object they encode. */
export function eventBatchPayload(batch: EncodedEventBatch): EncodedEventBatch | EventBatch {
  return batch.byteLength < MIN_BINARY_BATCH_BYTES ? (parseJsonBytes(batch) as EventBatch) : batch;
}

/**
 * Returns the value an `events` payload carries: the parsed JSON of an
 * encoded batch, or the payload itself. Bytes that are not JSON give a reason.
 */
export function decodeEventBatch(payload: unknown): ParseResult<unknown> {
  if (!(payload instanceof Uint8Array)) return { ok: true, value: payload };
  try {
    return { ok: true, value: parseJsonBytes(payload) };
  } catch (error: unknown) {
    return { ok: false, reason: `binary batch is not valid JSON: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1000) };
  }
}

export const eventBatchAckSchema = z.object({
  /** Highest sequence number applied, per run in the batch, or ACK_ALL. */
  acked: z.record(z.string(), z.number().int().nonnegative()),
  /** Runs the agent must stop because the hub has already ended them. */
  cancel: z.array(runRefSchema),
});
export type EventBatchAck = z.infer<typeof eventBatchAckSchema>;

// ---------------------------------------------------------------------------
// Hub to agent

export const runtimeSchema = z.enum(['node', 'shell']);
export type Runtime = z.infer<typeof runtimeSchema>;

export const assignmentSchema = z.object({
  runId,
  attempt,
  jobId: id.nullable(),
  jobName: z.string().max(200).nullable(),
  taskId: id,
  taskName: z.string().max(200),
  runtime: runtimeSchema,
  /** Shell script, or the task compiled to one ES module for `node`. */
  code: z.string().max(LIMITS.maxCodeBytes),
  /** SHA-256 of `code`, hex; lets the agent cache compiled tasks. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  config: jsonObject,
  env: z.record(z.string(), z.string()),
  /** Keys of `env` whose values are masked in every output line. */
  secretEnv: z.array(z.string()),
  timeoutSec: z.number().positive().nullable(),
});
export type Assignment = z.infer<typeof assignmentSchema>;

export const assignReplySchema = z.discriminatedUnion('accepted', [
  z.object({ accepted: z.literal(true) }),
  z.object({
    accepted: z.literal(false),
    reason: z.enum(['no_free_slot', 'draining', 'duplicate', 'invalid']),
  }),
]);
export type AssignReply = z.infer<typeof assignReplySchema>;

export const cancelSchema = z.object({ runId, attempt, reason: cancelReasonSchema });
export type CancelRequest = z.infer<typeof cancelSchema>;

export const drainSchema = z.object({ draining: z.boolean() });
export type DrainRequest = z.infer<typeof drainSchema>;

/**
 * The hub's next certificate, announced before the hub switches to it. The
 * signature is made with the hub's current key over ROTATION_MESSAGE_PREFIX
 * followed by the new fingerprint, so an agent can follow without joining
 * again and nobody else can move its pin.
 */
export const rotateSchema = z.object({
  fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** Base64 signature (SHA-256, the key's own algorithm) by the key of the certificate the agent pinned. */
  signature: z.string().min(1).max(2048),
});
export type RotateRequest = z.infer<typeof rotateSchema>;

export const ROTATION_MESSAGE_PREFIX = 'farmboy hub certificate rotation\n';

/**
 * Rotations the hub can still prove, sent during the TLS handshake in place
 * of a stapled OCSP response, so an agent that missed them can follow before
 * it sends anything. Each entry is a `rotate` statement together with the
 * DER of the certificate whose key signed it; oldest first.
 */
export const rotationProofSchema = z.object({
  endorsements: z
    .array(
      z.object({
        /** Base64 DER of the replaced certificate. */
        certificate: z.string().min(1).max(8192),
        fingerprint: rotateSchema.shape.fingerprint,
        signature: rotateSchema.shape.signature,
      }),
    )
    .max(8),
});
export type RotationProof = z.infer<typeof rotationProofSchema>;

export const rotateReplySchema = z.object({ accepted: z.boolean() });
export type RotateReply = z.infer<typeof rotateReplySchema>;

// ---------------------------------------------------------------------------
// Event maps, one per direction, typing both ends of the socket.

export type Ack<T> = (reply: T) => void;

export interface AgentToHubEvents {
  hello: (payload: Hello, ack: Ack<HelloReply>) => void;
  load: (payload: LoadReport) => void;
  events: (payload: EventBatch | EncodedEventBatch, ack: Ack<EventBatchAck>) => void;
}

export interface HubToAgentEvents {
  assign: (payload: Assignment, ack: Ack<AssignReply>) => void;
  cancel: (payload: CancelRequest) => void;
  drain: (payload: DrainRequest) => void;
  bye: (payload: Refusal) => void;
  rotate: (payload: RotateRequest, ack: Ack<RotateReply>) => void;
}

/** Schema of every event's first argument, used by `parseMessage`. */
export const agentToHubSchemas = {
  hello: helloSchema,
  load: loadReportSchema,
  events: eventBatchSchema,
} as const satisfies Record<keyof AgentToHubEvents, z.ZodType>;

export const hubToAgentSchemas = {
  assign: assignmentSchema,
  cancel: cancelSchema,
  drain: drainSchema,
  bye: refusalSchema,
  rotate: rotateSchema,
} as const satisfies Record<keyof HubToAgentEvents, z.ZodType>;

/** Schemas of the ack payloads, parsed by the side that sent the request. */
export const ackSchemas = {
  hello: helloReplySchema,
  events: eventBatchAckSchema,
  assign: assignReplySchema,
  rotate: rotateReplySchema,
} as const;

/** How long either side waits for an ack before it treats the request as failed. */
export const ACK_TIMEOUT_MS = 10_000;

/** Parses UTF-8 JSON bytes without copying them first. It throws a SyntaxError when they are not JSON. */
function parseJsonBytes(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Parses one incoming payload, returning a short reason instead of throwing,
 * so a malformed message can be logged and dropped without crashing.
 */
export function parseMessage<T>(schema: z.ZodType<T>, payload: unknown): ParseResult<T> {
  // The envelope of a message adds a few levels above the JSON values it carries.
  const maxDepth = LIMITS.maxJsonDepth + 8;
  if (exceedsDepth(payload, maxDepth)) return { ok: false, reason: `payload is nested deeper than ${maxDepth} levels` };
  const result = schema.safeParse(payload);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, reason: z.prettifyError(result.error).slice(0, 1000) };
}

/**
 * Tells whether a value nests arrays and objects deeper than `maxDepth`,
 * without recursion, so that it is safe to call on hostile input before any
 * recursive parser sees it.
 */
export function exceedsDepth(value: unknown, maxDepth: number = LIMITS.maxJsonDepth): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number };
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= maxDepth) return true;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}
