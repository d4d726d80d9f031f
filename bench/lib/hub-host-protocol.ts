/** Messages between a benchmark and the hub host process (hub-host.ts), over its IPC channel. */
import { z } from 'zod';

export const hubHostOptionsSchema = z.object({
  dataDir: z.string(),
  adminToken: z.string(),
  agentToken: z.string(),
  logLevel: z.string().default('info'),
  /** Interval of the run manager's periodic checks; the product default when absent. */
  tickMs: z.number().positive().optional(),
  /** Built renderer to serve at `/`; none when absent. */
  rendererDir: z.string().optional(),
});
export type HubHostOptions = z.infer<typeof hubHostOptionsSchema>;

export const hubHostRequestSchema = z.object({
  id: z.number(),
  method: z.enum(['usage', 'stop', 'watch', 'dispatchTimings', 'placementTimings']),
  params: z.unknown().optional(),
});
export type HubHostRequest = z.infer<typeof hubHostRequestSchema>;

/**
 * Messages that `watch` turns on: one per run transition to one of `statuses`,
 * one per run at its first output line when `firstLine`, and one for every
 * output line that starts with `lastLinePrefix`.
 */
export const watchSchema = z.object({ statuses: z.array(z.string()), firstLine: z.boolean(), lastLinePrefix: z.string().nullable() });
export type WatchRequest = z.infer<typeof watchSchema>;

export type HubHostMessage =
  | { type: 'ready'; uiUrl: string; agentUrl: string; fingerprint: string | null; pid: number; readyAt: number }
  | { type: 'reply'; id: number; result: unknown }
  | { type: 'run'; runId: string; status: string; at: number }
  | { type: 'line'; runId: string; kind: 'first' | 'last'; at: number; message: string };
