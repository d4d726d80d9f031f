/**
 * Where the UI finds the admin token: the Electron bridge, a `#token=...`
 * in the address (which `farmboy-hub` prints), or this tab's storage.
 */
import type { FarmboyBridge } from '../../../electron/preload/bridge.js';

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

export function saveAdminToken(storage: Storage, token: string): void {
  storage.setItem(TOKEN_STORAGE_KEY, token);
}

export function forgetAdminToken(storage: Storage): void {
  storage.removeItem(TOKEN_STORAGE_KEY);
}
