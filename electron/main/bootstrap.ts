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

/** Grants the bridge only to the top frame of a page served from `appOrigin`. */
export function resolveBootstrapRequest(request: BootstrapRequest, appOrigin: string, bridge: FarmboyBridge): BootstrapDecision {
  if (request.senderUrl === null) return { ok: false, reason: 'missing-sender' };
  if (!request.isMainFrame) return { ok: false, reason: 'not-main-frame' };

  const senderUrl = senderUrlSchema.safeParse(request.senderUrl);
  if (!senderUrl.success || new URL(senderUrl.data).origin !== appOrigin) return { ok: false, reason: 'foreign-origin' };
  if (!argsSchema.safeParse(request.args).success) return { ok: false, reason: 'invalid-arguments' };

  return { ok: true, bridge };
}
