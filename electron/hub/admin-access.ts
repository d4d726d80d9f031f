/**
 * Access to the UI port: the admin token, API keys with a scope, and a
 * limit on repeated failures per source address. Every secret is compared
 * in constant time through its SHA-256 hash, and only hashes of API keys
 * are stored.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HubError, notFound } from './errors.js';
import { apiKeyCreateSchema } from './model.js';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './logger.js';
import type { Store } from './store/index.js';
import type { ApiKey, ApiKeyScope } from './store/schema.js';
import { createToken, hashToken, tokensEqual } from './tokens.js';

export type { ApiKeyScope };

/** Scopes in increasing power; a key may do what its scope and every lower one allow. */
const SCOPE_RANK: Record<ApiKeyScope, number> = { read: 0, run: 1, admin: 2 };

/** Every API key starts with this, so a leaked one is easy to recognise in a scan. */
const API_KEY_PREFIX = 'fbk_';

export interface ApiKeyView {
  id: string;
  name: string;
  scope: ApiKeyScope;
  createdAt: number;
  revokedAt: number | null;
}

export { apiKeyCreateSchema };

export interface FailureLimits {
  /** Wrong tokens from one address within `windowMs` before it is blocked. */
  maxFailures: number;
  windowMs: number;
  /** How long a blocked address gets 429 for every token that is not valid. */
  blockMs: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { maxFailures: 10, windowMs: 60_000, blockMs: 60_000 };

/** Addresses tracked at once; past it the oldest entries are dropped, so a scan of many addresses cannot grow memory. */
const MAX_TRACKED_ADDRESSES = 10_000;

export type AccessVerdict =
  | { ok: true; scope: ApiKeyScope; keyId: string | null }
  | { ok: false; error: HubError; retryAfterSec: number | null };

interface FailureRecord {
  failures: number[];
  blockedUntil: number;
}

export class AdminAccess {
  private readonly failures = new Map<string, FailureRecord>();
  private readonly rejections: RateLimitedLog;

  constructor(
    private readonly options: { adminToken: string; store: Store; log: Logger; limits?: FailureLimits },
  ) {
    this.rejections = new RateLimitedLog(options.log);
  }

  private get limits(): FailureLimits {
    return this.options.limits ?? DEFAULT_FAILURE_LIMITS;
  }

  private get keys(): ApiKey[] {
    this.options.store.state.apiKeys ??= [];
    return this.options.store.state.apiKeys;
  }

  /**
   * Checks a bearer token from `address` for an operation that needs
   * `needed`. A wrong token counts as a failure; a missing one does not,
   * since it guesses nothing. A blocked address gets 429 for every token
   * but a valid one: on 127.0.0.1 every local user shares one address, and
   * a loop of wrong tokens must not lock the owner out. The tokens and keys
   * the hub creates are 192 random bits, so the block slows scanners and
   * flags them in the log, and guessing stays out of reach without it.
   */
  authenticate(token: string, address: string, needed: ApiKeyScope, now = Date.now()): AccessVerdict {
    if (token === '') return { ok: false, error: new HubError('unauthorized', 'missing Authorization: Bearer <admin token or API key> header'), retryAfterSec: null };
    const identity = this.identify(token);
    if (identity === null) {
      const blocked = this.blockedFor(address, now);
      if (blocked > 0) {
        this.rejections.warn(`blocked:${address}`, { address }, 'admin access refused: address blocked after repeated failures');
        return { ok: false, error: new HubError('rate_limited', `too many failed attempts from ${address}; retry in ${blocked} s`), retryAfterSec: blocked };
      }
      this.recordFailure(address, now);
      return { ok: false, error: new HubError('unauthorized', 'the token is not valid'), retryAfterSec: null };
    }
    if (SCOPE_RANK[identity.scope] < SCOPE_RANK[needed]) {
      const error = new HubError('forbidden', `this API key has scope ${identity.scope}; the operation needs scope ${needed}`);
      return { ok: false, error, retryAfterSec: null };
    }
    return { ok: true, ...identity };
  }

  listKeys(): ApiKeyView[] {
    return this.keys.map(keyView);
  }

  /** Creates an API key; the reply is the only place its clear text ever appears. */
  createKey(input: z.infer<typeof apiKeyCreateSchema>, now = Date.now()): { key: string; apiKey: ApiKeyView } {
    const key = API_KEY_PREFIX + createToken();
    const entry: ApiKey = { id: randomUUID(), name: input.name, scope: input.scope, hash: hashToken(key), createdAt: now, revokedAt: null };
    this.keys.push(entry);
    this.options.store.save();
    this.options.log.info({ keyId: entry.id, scope: entry.scope }, 'API key created');
    return { key, apiKey: keyView(entry) };
  }

  revokeKey(id: string, now = Date.now()): ApiKeyView {
    const entry = this.keys.find((candidate) => candidate.id === id);
    if (!entry) throw notFound('API key', id);
    entry.revokedAt ??= now;
    this.options.store.save();
    this.options.log.info({ keyId: id }, 'API key revoked');
    return keyView(entry);
  }

  private identify(token: string): { scope: ApiKeyScope; keyId: string | null } | null {
    if (tokensEqual(token, this.options.adminToken)) return { scope: 'admin', keyId: null };
    const hash = hashToken(token);
    const entry = this.keys.find((candidate) => tokensEqual(candidate.hash, hash));
    if (!entry || entry.revokedAt !== null) return null;
    return { scope: entry.scope, keyId: entry.id };
  }

  /** Seconds the address stays blocked; 0 when it is not. */
  private blockedFor(address: string, now: number): number {
    const record = this.failures.get(address);
    if (!record || record.blockedUntil <= now) return 0;
    return Math.ceil((record.blockedUntil - now) / 1000);
  }

  private recordFailure(address: string, now: number): void {
    const { maxFailures, windowMs, blockMs } = this.limits;
    const record = this.failures.get(address) ?? { failures: [], blockedUntil: 0 };
    record.failures = [...record.failures.filter((at) => now - at < windowMs), now];
    this.failures.delete(address);
    this.failures.set(address, record);
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
    this.rejections.warn(`failure:${address}`, { address, failures: record.failures.length }, 'admin access refused: wrong token');
    if (record.failures.length >= maxFailures) {
      record.blockedUntil = now + blockMs;
      record.failures = [];
      this.options.log.warn({ address, blockSec: Math.round(blockMs / 1000) }, 'address blocked after repeated failed admin logins');
    }
  }
}

function keyView(entry: ApiKey): ApiKeyView {
  return { id: entry.id, name: entry.name, scope: entry.scope, createdAt: entry.createdAt, revokedAt: entry.revokedAt };
}
