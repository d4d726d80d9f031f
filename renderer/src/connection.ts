/**
 * Finds the admin token and checks whether the hub is up. The hub serves
 * this page, so every request goes to the page's own origin.
 */
import type { FarmboyBridge } from '../../electron/preload/bridge.js';

export type ConnectionState =
  | { status: 'connecting' }
  | { status: 'connected'; version: string; agentsOnline: number; runsActive: number }
  | { status: 'unauthorized' }
  | { status: 'unreachable'; reason: string };

const TOKEN_STORAGE_KEY = 'farmboy.adminToken';

/**
 * Returns the admin token from the Electron bridge, else from a `#token=...`
 * hash (then removed from the address bar and kept for this tab), else from
 * this tab's storage.
 */
export function readAdminToken(bridge: FarmboyBridge | undefined, location: Location, history: History, storage: Storage): string | null {
  if (bridge) return bridge.adminToken;
  const fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  if (fromHash) {
    storage.setItem(TOKEN_STORAGE_KEY, fromHash);
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  return storage.getItem(TOKEN_STORAGE_KEY);
}

function isHealth(value: unknown): value is { version: string; agentsOnline: number; runsActive: number } {
  if (typeof value !== 'object' || value === null) return false;
  const { version, agentsOnline, runsActive } = value as Record<string, unknown>;
  return typeof version === 'string' && typeof agentsOnline === 'number' && typeof runsActive === 'number';
}

export async function checkHealth(token: string | null, signal: AbortSignal): Promise<ConnectionState> {
  if (!token) return { status: 'unauthorized' };
  try {
    const response = await fetch('/api/health', { headers: { authorization: `Bearer ${token}` }, signal });
    if (response.status === 401) return { status: 'unauthorized' };
    if (!response.ok) return { status: 'unreachable', reason: `the hub answered HTTP ${response.status}` };
    const body: unknown = await response.json();
    if (!isHealth(body)) return { status: 'unreachable', reason: 'the hub sent an unexpected health reply' };
    return { status: 'connected', version: body.version, agentsOnline: body.agentsOnline, runsActive: body.runsActive };
  } catch (error) {
    if (signal.aborted) throw error;
    return { status: 'unreachable', reason: 'the hub did not answer' };
  }
}
