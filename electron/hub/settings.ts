/**
 * Changes to the hub's settings. A patch names only the settings it changes;
 * the ranges are those of the stored settings schema. Pure zod, so the
 * renderer validates its forms with the same rules.
 *
 * Network and failure alert settings live in the same stored settings object
 * under `network` and `alerts`, because the stored schema keeps keys it does
 * not list. The schemas here read them back and fall back to the defaults
 * when a stored value is damaged.
 */
import { z } from 'zod';
import { DEFAULT_AGENT_PORT } from 'farmboy-agent/protocol';
import { settingsSchema, type Settings } from './store/schema.js';

const fields = settingsSchema.shape;

export const settingsPatchSchema = z.strictObject({
  retentionDays: fields.retentionDays.removeDefault().optional(),
  retentionPerJob: fields.retentionPerJob.removeDefault().optional(),
  agentGraceSec: fields.agentGraceSec.removeDefault().optional(),
});
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

// ---------------------------------------------------------------------------
// Network

/** Port of the UI and the HTTP API when neither a start option nor a setting names one. */
export const DEFAULT_UI_PORT = 7421;
export { DEFAULT_AGENT_PORT };

const portSchema = z.number().int('must be a whole number').min(1, 'must be from 1 to 65535').max(65_535, 'must be from 1 to 65535');

/** Stored network settings, applied when the hub next starts; null ports mean the defaults. */
export const networkSettingsSchema = z.object({
  uiPort: portSchema.nullable().default(null),
  agentPort: portSchema.nullable().default(null),
  /** Binds the UI port to every interface (0.0.0.0) instead of loopback only; the admin token is still required. */
  allowRemoteUi: z.boolean().default(false),
});
export type NetworkSettings = z.infer<typeof networkSettingsSchema>;

export const networkPatchSchema = z.strictObject({
  uiPort: portSchema.nullable().optional(),
  agentPort: portSchema.nullable().optional(),
  allowRemoteUi: z.boolean().optional(),
});
export type NetworkPatch = z.infer<typeof networkPatchSchema>;

/** Start options given on the command line (or by the embedding program); each wins over its stored setting. */
export interface NetworkFlags {
  uiPort?: number;
  agentPort?: number;
  uiHost?: string;
}

/** Ports and UI address a hub listens on, and which of them a start option set. */
export interface EffectiveNetwork {
  uiPort: number;
  agentPort: number;
  uiHost: string;
  overridden: { uiPort: boolean; agentPort: boolean; uiHost: boolean };
}

/** Network settings as the Settings page shows them: the stored values beside those the running hub uses. */
export interface NetworkView {
  stored: NetworkSettings;
  effective: EffectiveNetwork;
}

export const LOOPBACK_HOST = '127.0.0.1';
export const ALL_INTERFACES_HOST = '0.0.0.0';

/** Reads the stored network settings; a damaged entry gives the defaults, so the hub still starts. */
export function readNetworkSettings(settings: Settings): NetworkSettings {
  const parsed = networkSettingsSchema.safeParse((settings as Record<string, unknown>).network ?? {});
  return parsed.success ? parsed.data : networkSettingsSchema.parse({});
}

/** Decides the ports and UI address to listen on: a start option wins over the stored setting, which wins over the default. */
export function resolveNetwork(stored: NetworkSettings, flags: NetworkFlags): EffectiveNetwork {
  return {
    uiPort: flags.uiPort ?? stored.uiPort ?? DEFAULT_UI_PORT,
    agentPort: flags.agentPort ?? stored.agentPort ?? DEFAULT_AGENT_PORT,
    uiHost: flags.uiHost ?? (stored.allowRemoteUi ? ALL_INTERFACES_HOST : LOOPBACK_HOST),
    overridden: { uiPort: flags.uiPort !== undefined, agentPort: flags.agentPort !== undefined, uiHost: flags.uiHost !== undefined },
  };
}

/** Applies a patch to stored network settings; null when both ports would end up the same, which no hub can listen on. */
export function applyNetworkPatch(stored: NetworkSettings, patch: NetworkPatch): NetworkSettings | null {
  const next: NetworkSettings = {
    uiPort: patch.uiPort === undefined ? stored.uiPort : patch.uiPort,
    agentPort: patch.agentPort === undefined ? stored.agentPort : patch.agentPort,
    allowRemoteUi: patch.allowRemoteUi ?? stored.allowRemoteUi,
  };
  const uiPort = next.uiPort ?? DEFAULT_UI_PORT;
  const agentPort = next.agentPort ?? DEFAULT_AGENT_PORT;
  return uiPort === agentPort ? null : next;
}

// ---------------------------------------------------------------------------
// Failure alerts

/** Message format of the webhook: Slack's incoming webhook, a generic JSON body, or chosen from the URL. */
export const alertFormatSchema = z.enum(['auto', 'slack', 'json']);
export type AlertFormat = z.infer<typeof alertFormatSchema>;

const webhookUrlSchema = z
  .string()
  .trim()
  .max(2048, 'must be at most 2048 characters')
  .url('must be a URL such as https://hooks.slack.com/services/...')
  .refine((value) => /^https?:\/\//i.test(value), 'must start with http:// or https://');

export const alertPatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  format: alertFormatSchema.optional(),
  /** The webhook address in clear; null removes it. Stored sealed and never returned. */
  url: webhookUrlSchema.nullable().optional(),
});
export type AlertPatch = z.infer<typeof alertPatchSchema>;

/** A test message may go to a URL that is not saved yet. */
export const alertTestSchema = z.strictObject({
  url: webhookUrlSchema.optional(),
  format: alertFormatSchema.optional(),
});

/** Outcome of the newest webhook delivery, or of the test message. */
export interface AlertDelivery {
  at: number;
  ok: boolean;
  /** HTTP status of the last attempt; null when no response came (timeout, refused connection). */
  status: number | null;
  error: string | null;
  attempts: number;
  /** Run the message was about; null for a test message. */
  runId: string | null;
}

/** Failure alert settings as the API returns them: the URL only masked. */
export interface AlertSettingsView {
  enabled: boolean;
  format: AlertFormat;
  /** Format used for the saved URL once `auto` is resolved; null when no URL is saved. */
  resolvedFormat: 'slack' | 'json' | null;
  /** Scheme and host of the saved URL with its path hidden, or null. */
  maskedUrl: string | null;
  lastDelivery: AlertDelivery | null;
}

/** Picks the message format for a URL: Slack for Slack's webhook host, generic JSON otherwise. */
export function resolveAlertFormat(format: AlertFormat, url: string): 'slack' | 'json' {
  if (format !== 'auto') return format;
  try {
    return new URL(url).hostname.toLowerCase() === 'hooks.slack.com' ? 'slack' : 'json';
  } catch {
    return 'json';
  }
}

/** Hides everything past the host: Slack and most services put the webhook's secret in the path. */
export function maskWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/***`;
  } catch {
    return '***';
  }
}
