/**
 * Decides whether a bootstrap IPC request gets the hub address and token.
 * Pure, so tests can check it without Electron.
 */
import { z } from 'zod';
import type { FarmboyBridge } from '../preload/bridge.js';

export type BootstrapRejection = 'missing-sender' | 'not-main-frame' | 'foreign-origin' | 'invalid-arguments';

export type BootstrapDecision = { ok: true; bridge: FarmboyBridge } | { ok: false; reason: BootstrapRejection };

export interface BootstrapRequest {
  /** URL of the frame that sent the request, or null when the frame is gone. */
  senderUrl: string | null;
  /** Whether the sending frame is the top frame of its window. */
  isMainFrame: boolean;
  /** Arguments after the channel name; the preload sends none. */
  args: unknown[];
}

const senderUrlSchema = z.url({ protocol: /^https?$/ });
const argsSchema = z.tuple([]);

/** Returns why a frame may not use the bridge, or null when it is the top frame of a page from `appOrigin`. */
export function senderRejection(request: BootstrapRequest, appOrigin: string): Exclude<BootstrapRejection, 'invalid-arguments'> | null {
  if (request.senderUrl === null) return 'missing-sender';
  if (!request.isMainFrame) return 'not-main-frame';
  const senderUrl = senderUrlSchema.safeParse(request.senderUrl);
  if (!senderUrl.success || new URL(senderUrl.data).origin !== appOrigin) return 'foreign-origin';
  return null;
}

/** Grants the bridge only to the top frame of a page served from `appOrigin`. */
export function resolveBootstrapRequest(request: BootstrapRequest, appOrigin: string, bridge: FarmboyBridge): BootstrapDecision {
  const rejection = senderRejection(request, appOrigin);
  if (rejection) return { ok: false, reason: rejection };
  if (!argsSchema.safeParse(request.args).success) return { ok: false, reason: 'invalid-arguments' };

  return { ok: true, bridge };
}

const loginItemArgsSchema = z.tuple([z.boolean()]);

/** Checks a request to turn start at login on or off: the same sender rule, and one boolean. */
export function resolveLoginItemRequest(request: BootstrapRequest, appOrigin: string): { ok: true; enabled: boolean } | { ok: false; reason: BootstrapRejection } {
  const rejection = senderRejection(request, appOrigin);
  if (rejection) return { ok: false, reason: rejection };
  const args = loginItemArgsSchema.safeParse(request.args);
  if (!args.success) return { ok: false, reason: 'invalid-arguments' };
  return { ok: true, enabled: args.data[0] };
}
