/**
 * Agent enrollment tokens: created at random, stored as a SHA-256 hash,
 * shown in clear once, and revocable. Also builds the join command the UI
 * shows next to a token.
 */
import { randomUUID } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { z } from 'zod';
import { notFound } from './errors.js';
import type { EnrollmentToken } from './store/schema.js';
import { createToken, hashToken } from './tokens.js';

/** An enrollment token as callers see it: never its hash. */
export interface EnrollmentTokenView {
  id: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
  /** After this time (ms since the epoch) the token enrolls no agent; null for never. */
  expiresAt: number | null;
  /** Number of agents the token may enroll; null for no limit. */
  maxUses: number | null;
  /** Agents enrolled with it so far. */
  uses: number;
}

export const tokenCreateSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  expiresAt: z
    .number()
    .int()
    .refine((value) => value > Date.now(), 'must be in the future (ms since the epoch)')
    .nullable()
    .default(null),
  maxUses: z.number().int().min(1).max(1_000_000).nullable().default(null),
});

export function tokenView(entry: EnrollmentToken): EnrollmentTokenView {
  return {
    id: entry.id,
    name: entry.name,
    createdAt: entry.createdAt,
    revokedAt: entry.revokedAt,
    expiresAt: entry.expiresAt ?? null,
    maxUses: entry.maxUses ?? null,
    uses: entry.uses ?? 0,
  };
}

/** Adds a new token to `tokens` and returns it in clear, the only time it exists so. */
export function addEnrollmentToken(
  tokens: EnrollmentToken[],
  name: string,
  now: number,
  limits: { expiresAt?: number | null; maxUses?: number | null } = {},
): { token: string; entry: EnrollmentToken } {
  const token = createToken();
  const entry: EnrollmentToken = {
    id: randomUUID(),
    name,
    hash: hashToken(token),
    createdAt: now,
    revokedAt: null,
    expiresAt: limits.expiresAt ?? null,
    maxUses: limits.maxUses ?? null,
    uses: 0,
  };
  tokens.push(entry);
  return { token, entry };
}

/**
 * Marks a token revoked, so it enrolls no more agents. Agents that enrolled
 * with it keep working: they connect with their own credentials.
 */
export function revokeEnrollmentToken(tokens: EnrollmentToken[], id: string, now: number): EnrollmentToken {
  const entry = tokens.find((candidate) => candidate.id === id);
  if (!entry) throw notFound('enrollment token', id);
  entry.revokedAt ??= now;
  return entry;
}

/**
 * Returns the host other machines reach a port of this hub at: the bound
 * address, or for a wildcard bind the first external IPv4 address (the host
 * name when there is none). Join commands and the links in alerts use it.
 */
export function reachableHost(boundHost: string | undefined): string {
  if (boundHost && boundHost !== '0.0.0.0' && boundHost !== '::') return boundHost.includes(':') ? `[${boundHost}]` : boundHost;
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return hostname();
}

/** Builds the command that joins a worker machine to this hub. It pins the hub's certificate when there is one. */
export function joinCommand(agentUrl: string, token: string, fingerprint: string | null): string {
  // A hub without TLS runs with --insecure, and the agent refuses an http:// address without the flag.
  const pin = fingerprint ? ` --fingerprint ${fingerprint}` : ' --insecure';
  return `npx farmboy-agent --hub ${agentUrl} --token ${token}${pin}`;
}
