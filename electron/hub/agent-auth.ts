/**
 * Authentication of agents. An agent enrolls once with an enrollment token.
 * The hub then issues it a credential of its own, bound to its agent id,
 * which it uses from then on. Only hashes of tokens and credentials are
 * stored, and every comparison runs in constant time.
 */
import type { AgentAuth, RefusalCode } from 'farmboy-agent/protocol';
import type { Logger } from './logger.js';
import type { Store } from './store/index.js';
import type { AgentCredential, EnrollmentToken } from './store/schema.js';
import { createToken, hashToken, tokensEqual } from './tokens.js';

export type AuthDecision =
  | { ok: true; via: 'credential' }
  | { ok: true; via: 'token'; tokenId: string }
  | { ok: false; code: RefusalCode; message: string };

const BAD_TOKEN_MESSAGE =
  'The hub did not accept the enrollment token: it is unknown, revoked, expired or used up. Copy a new join command from the hub.';
const BAD_CREDENTIAL_MESSAGE =
  "The hub does not accept this agent's credential: the agent was removed from the fleet, or the credential was issued by another hub. " +
  "To join again, delete hub-trust.json in the agent's data directory and start it with a new join command from the hub.";
const ENROLLED_ID_MESSAGE =
  'Another agent already enrolled with this agent id and must connect with its own credential. ' +
  "If this machine is that agent, restore hub-trust.json in its data directory; otherwise give it a data directory of its own.";

/** True while a token may enroll another agent. */
export function isTokenUsable(entry: EnrollmentToken, now: number): boolean {
  if (entry.revokedAt !== null) return false;
  if (entry.expiresAt != null && entry.expiresAt <= now) return false;
  return entry.maxUses == null || (entry.uses ?? 0) < entry.maxUses;
}

export class AgentAuthority {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  private get credentials(): AgentCredential[] {
    this.store.state.agentCredentials ??= [];
    return this.store.state.agentCredentials;
  }

  /** Checks a handshake's credential, or its enrollment token when it has none. */
  authenticate(auth: AgentAuth, now: number): AuthDecision {
    if (auth.credential !== undefined) {
      const entry = this.credentials.find((candidate) => candidate.agentId === auth.agentId);
      // Hashed first so that the comparison takes the same time whatever the stored value.
      if (entry && tokensEqual(hashToken(auth.credential), entry.hash)) return { ok: true, via: 'credential' };
      return { ok: false, code: 'bad_credential', message: BAD_CREDENTIAL_MESSAGE };
    }
    if (this.credentials.some((entry) => entry.agentId === auth.agentId && entry.confirmedAt !== null)) {
      return { ok: false, code: 'bad_credential', message: ENROLLED_ID_MESSAGE };
    }
    const token = auth.token === undefined ? undefined : this.findUsableToken(auth.token, now);
    if (!token) return { ok: false, code: 'bad_token', message: BAD_TOKEN_MESSAGE };
    return { ok: true, via: 'token', tokenId: token.id };
  }

  /**
   * Issues the credential of an agent that enrolled with a token and counts
   * one use of the token. Returns null when the token stopped being usable
   * since the handshake (revoked, or used up by another agent meanwhile).
   * A credential issued earlier but never used is replaced: its hello reply
   * was lost.
   */
  issue(agentId: string, tokenId: string, now: number): string | null {
    const token = this.store.state.enrollmentTokens.find((entry) => entry.id === tokenId);
    if (!token || !isTokenUsable(token, now)) return null;
    token.uses = (token.uses ?? 0) + 1;
    const credential = createToken();
    this.store.state.agentCredentials = [
      ...this.credentials.filter((entry) => entry.agentId !== agentId),
      { agentId, hash: hashToken(credential), issuedAt: now, confirmedAt: null },
    ];
    this.store.save();
    this.log.info({ agentId, tokenId, uses: token.uses }, 'agent enrolled, credential issued');
    return credential;
  }

  /** Marks the agent's credential as in use, which ends enrollment with a token for its agent id. */
  confirm(agentId: string, now: number): void {
    const entry = this.credentials.find((candidate) => candidate.agentId === agentId);
    if (!entry || entry.confirmedAt !== null) return;
    entry.confirmedAt = now;
    this.store.save();
  }

  /** Deletes the agent's credential, so it can no longer connect with it. */
  revoke(agentId: string): boolean {
    const before = this.credentials.length;
    this.store.state.agentCredentials = this.credentials.filter((entry) => entry.agentId !== agentId);
    if (this.store.state.agentCredentials.length === before) return false;
    this.store.save();
    this.log.info({ agentId }, 'agent credential revoked');
    return true;
  }

  private findUsableToken(token: string, now: number): EnrollmentToken | undefined {
    const hash = hashToken(token);
    return this.store.state.enrollmentTokens.find((entry) => tokensEqual(entry.hash, hash) && isTokenUsable(entry, now));
  }
}
