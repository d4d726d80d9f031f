/**
 * The API the preload script exposes to the page as `window.farmboy`. Types
 * and a guard only, with no import of `electron`, so the renderer and tests
 * can import it.
 */

/** Synchronous IPC channel on which the preload requests its bridge values from the main process. */
export const BOOTSTRAP_CHANNEL = 'farmboy:bootstrap';
/** Invoke channel that turns start at login on or off; its one argument is a boolean. */
export const LOGIN_ITEM_CHANNEL = 'farmboy:set-open-at-login';

export interface FarmboyBridge {
  /** Address of the hub's UI server, such as `http://127.0.0.1:7421`. */
  hubUrl: string;
  /** Bearer token for the hub's HTTP API and `/ui` namespace. */
  adminToken: string;
  /** Whether the app starts when the user logs in, as the OS reports it. */
  openAtLogin?: boolean;
}

/** The page's `window.farmboy`: the bootstrap values and the native actions. */
export interface FarmboyWindowApi extends FarmboyBridge {
  /** Turns start at login on or off; resolves with the state the OS now reports. */
  setOpenAtLogin(enabled: boolean): Promise<boolean>;
}

/** Checks a bootstrap reply. The preload runs sandboxed and cannot load zod, so this is plain code. */
export function isFarmboyBridge(value: unknown): value is FarmboyBridge {
  if (typeof value !== 'object' || value === null) return false;
  const { hubUrl, adminToken } = value as Record<string, unknown>;
  return typeof hubUrl === 'string' && hubUrl.length > 0 && typeof adminToken === 'string' && adminToken.length > 0;
}
