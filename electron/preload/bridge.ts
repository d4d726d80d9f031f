/**
 * The API the preload script exposes to the page as `window.farmboy`. Types
 * and a guard only, with no import of `electron`, so the renderer and tests
 * can import it.
 */

/** Synchronous IPC channel on which the preload requests its bridge values from the main process. */
export const BOOTSTRAP_CHANNEL = 'farmboy:bootstrap';

export interface FarmboyBridge {
  /** Address of the hub's UI server, such as `http://127.0.0.1:7421`. */
  hubUrl: string;
  /** Bearer token for the hub's HTTP API and `/ui` namespace. */
  adminToken: string;
}

/** Checks a bootstrap reply. The preload runs sandboxed and cannot load zod, so this is plain code. */
export function isFarmboyBridge(value: unknown): value is FarmboyBridge {
  if (typeof value !== 'object' || value === null) return false;
  const { hubUrl, adminToken } = value as Record<string, unknown>;
  return typeof hubUrl === 'string' && hubUrl.length > 0 && typeof adminToken === 'string' && adminToken.length > 0;
}
