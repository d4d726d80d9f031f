/**
 * The hub's two secrets: the admin token (UI and HTTP API) and the default
 * enrollment token for agents. Given ones win; otherwise they are read from,
 * or created in, files with mode 0600 in the data directory, because the
 * hub prints them on every start and the desktop shell reads the admin one.
 * The store keeps only the enrollment token's hash.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from './store/index.js';
import { createToken, hashToken } from './tokens.js';

export const ADMIN_TOKEN_FILE = 'admin-token';
export const JOIN_TOKEN_FILE = 'join-token';

export interface HubTokens {
  adminToken: string;
  /** The enrollment token in clear, when known. */
  agentToken: string | null;
}

export function resolveTokens(store: Store, given: { adminToken?: string; agentToken?: string }): HubTokens {
  const adminToken = given.adminToken ?? readOrCreate(join(store.dataDir, ADMIN_TOKEN_FILE));
  if (given.agentToken) {
    ensureEnrollmentToken(store, given.agentToken, 'from FARMBOY_AGENT_TOKEN');
    return { adminToken, agentToken: given.agentToken };
  }
  const joinFile = join(store.dataDir, JOIN_TOKEN_FILE);
  if (store.state.enrollmentTokens.length === 0) {
    const agentToken = readOrCreate(joinFile);
    ensureEnrollmentToken(store, agentToken, 'default');
    return { adminToken, agentToken };
  }
  return { adminToken, agentToken: existsSync(joinFile) ? readFileSync(joinFile, 'utf8').trim() : null };
}

function readOrCreate(file: string): string {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = createToken();
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

function ensureEnrollmentToken(store: Store, token: string, name: string): void {
  const hash = hashToken(token);
  if (store.state.enrollmentTokens.some((entry) => entry.hash === hash && entry.revokedAt === null)) return;
  store.state.enrollmentTokens.push({ id: randomUUID(), name, hash, createdAt: Date.now(), revokedAt: null });
  store.save();
}
