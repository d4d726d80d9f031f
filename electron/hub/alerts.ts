/**
 * Failure alerts: when a run ends failed, lost or timed out after its last
 * attempt, the hub posts a message to the webhook the user configured.
 * Delivery runs beside the run manager and never blocks it. Each attempt has
 * a timeout, failed attempts are retried with exponential backoff, and at
 * most `MAX_PENDING` messages wait at a time. Every outcome is logged and
 * kept as the last delivery status for the Settings page.
 *
 * The webhook URL carries its own credential (Slack puts it in the path), so
 * it is stored sealed like job secrets and only ever returned masked.
 */
import { z } from 'zod';
import { RateLimitedLog, type Logger } from './logger.js';
import type { Run } from './model.js';
import { SecretBox } from './secrets.js';
import type { Store } from './store/index.js';
import { runAlertBody, testAlertBody, type AlertBody } from './alert-message.js';
import {
  alertFormatSchema,
  maskWebhookUrl,
  resolveAlertFormat,
  type AlertDelivery,
  type AlertFormat,
  type AlertPatch,
  type AlertSettingsView,
} from './settings.js';

/** Name the sealed URL is bound to; a sealed value cannot be moved to another secret. */
const URL_SECRET_NAME = 'alerts.webhookUrl';
const ALERT_STATUSES: ReadonlySet<string> = new Set(['failed', 'lost', 'timed_out']);
/** Messages waiting or in flight; beyond this a failure storm drops alerts rather than piling up requests. */
const MAX_PENDING = 100;
/** Run ids already alerted, kept to send one message per run even if a final run is stored again. */
const MAX_REMEMBERED = 10_000;

export interface AlertTimings {
  /** Time one POST may take before it is aborted. */
  timeoutMs: number;
  /** Attempts after the first one. */
  retries: number;
  /** Wait before the first retry; doubled for each further one. */
  backoffMs: number;
}

export const DEFAULT_ALERT_TIMINGS: AlertTimings = { timeoutMs: 10_000, retries: 3, backoffMs: 2_000 };

const deliverySchema = z.object({
  at: z.number(),
  ok: z.boolean(),
  status: z.number().nullable(),
  error: z.string().nullable(),
  attempts: z.number(),
  runId: z.string().nullable(),
});

const storedAlertsSchema = z.object({
  enabled: z.boolean().default(false),
  format: alertFormatSchema.default('auto'),
  /** The webhook URL, sealed with the data directory's secret key. */
  url: z.string().nullable().default(null),
  lastDelivery: deliverySchema.nullable().default(null),
});
type StoredAlerts = z.infer<typeof storedAlertsSchema>;

export interface AlertNotifierOptions {
  store: Store;
  log: Logger;
  /** Address of a run's page in the UI, for the message's link. */
  runUrl(runId: string): string;
  /** Address of the UI, named in the test message. */
  hubUrl(): string;
  agentName(agentId: string): string | null;
  timings?: Partial<AlertTimings>;
}

type PostResult = { status: number | null; error: string | null };

export class AlertNotifier {
  private readonly timings: AlertTimings;
  private readonly warnings: RateLimitedLog;
  private readonly alerted = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: AlertNotifierOptions) {
    this.timings = { ...DEFAULT_ALERT_TIMINGS, ...options.timings };
    this.warnings = new RateLimitedLog(options.log);
  }

  private get box(): SecretBox {
    return SecretBox.forDataDir(this.options.store.dataDir);
  }

  private read(): StoredAlerts {
    const raw = (this.options.store.state.settings as Record<string, unknown>).alerts ?? {};
    const parsed = storedAlertsSchema.safeParse(raw);
    return parsed.success ? parsed.data : storedAlertsSchema.parse({});
  }

  private write(alerts: StoredAlerts): void {
    this.options.store.state.settings = { ...this.options.store.state.settings, alerts };
    this.options.store.save();
  }

  /** Returns the webhook URL in clear; null when none is saved or its seal cannot be opened. */
  private url(stored: StoredAlerts): string | null {
    if (stored.url === null) return null;
    const clear = this.box.open(URL_SECRET_NAME, stored.url);
    if (clear === null) this.warnings.warn('unseal', {}, 'failure alert webhook URL cannot be decrypted; save it again in Settings');
    return clear;
  }

  view(): AlertSettingsView {
    const stored = this.read();
    const url = this.url(stored);
    return {
      enabled: stored.enabled,
      format: stored.format,
      resolvedFormat: url === null ? null : resolveAlertFormat(stored.format, url),
      maskedUrl: url === null ? null : maskWebhookUrl(url),
      lastDelivery: stored.lastDelivery,
    };
  }

  update(patch: AlertPatch): AlertSettingsView {
    const stored = this.read();
    let url = stored.url;
    if (patch.url === null) url = null;
    else if (patch.url !== undefined) url = this.box.seal(URL_SECRET_NAME, patch.url);
    this.write({ ...stored, enabled: patch.enabled ?? stored.enabled, format: patch.format ?? stored.format, url });
    this.options.log.info({ enabled: patch.enabled ?? stored.enabled, urlChanged: patch.url !== undefined }, 'failure alert settings changed');
    return this.view();
  }

  /** Posts a test message once, to `url` or the saved URL, and returns what happened; it does not change the last delivery status. */
  async sendTest(input: { url?: string; format?: AlertFormat }): Promise<AlertDelivery> {
    const stored = this.read();
    const url = input.url ?? this.url(stored);
    if (url === null) return { at: Date.now(), ok: false, status: null, error: 'no webhook URL is saved; enter one first', attempts: 0, runId: null };
    const format = resolveAlertFormat(input.format ?? stored.format, url);
    const result = await this.post(url, testAlertBody(format, this.options.hubUrl()));
    this.options.log.info({ status: result.status, error: result.error }, 'failure alert test sent');
    return { at: Date.now(), ok: result.error === null, status: result.status, error: result.error, attempts: 1, runId: null };
  }

  /** Called with every stored run change; sends an alert for a run that just ended failed, lost or timed out. */
  runChanged(run: Run): void {
    if (!ALERT_STATUSES.has(run.status) || this.alerted.has(run.id) || this.stopping.signal.aborted) return;
    const stored = this.read();
    if (!stored.enabled || stored.url === null) return;
    this.remember(run.id);
    if (this.inFlight.size >= MAX_PENDING) {
      this.warnings.warn('dropped', { runId: run.id, pending: this.inFlight.size }, 'failure alert dropped: too many alerts waiting for the webhook');
      return;
    }
    const delivery = this.deliver(run).catch((error: unknown) => this.options.log.error({ err: error, runId: run.id }, 'failure alert failed unexpectedly'));
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  /** Resolves once every alert sent so far is delivered or given up. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Aborts deliveries in flight and waits for them to end; called before the store closes. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.idle();
  }

  private remember(runId: string): void {
    this.alerted.add(runId);
    if (this.alerted.size > MAX_REMEMBERED) this.alerted.delete(this.alerted.values().next().value as string);
  }

  private async deliver(run: Run): Promise<void> {
    const url = this.url(this.read());
    if (url === null) return;
    const body = runAlertBody(resolveAlertFormat(this.read().format, url), run, {
      taskName: this.options.store.state.tasks.find((task) => task.id === run.taskId)?.name ?? null,
      agentName: run.agentId ? this.options.agentName(run.agentId) : null,
      runUrl: this.options.runUrl(run.id),
    });
    let attempts = 0;
    for (;;) {
      const result = await this.post(url, body);
      attempts += 1;
      const done = result.error === null || !retryable(result.status) || attempts > this.timings.retries;
      if (done || !(await this.wait(this.timings.backoffMs * 2 ** (attempts - 1)))) {
        this.record(run.id, result, attempts);
        return;
      }
    }
  }

  private record(runId: string, result: PostResult, attempts: number): void {
    const ok = result.error === null;
    if (ok) this.options.log.info({ runId, status: result.status, attempts }, 'failure alert sent');
    else this.warnings.warn('delivery', { runId, status: result.status, error: result.error, attempts }, 'failure alert delivery failed');
    // The store is closed once the hub stops; an alert aborted by the stop is only logged.
    if (this.stopping.signal.aborted) return;
    this.write({ ...this.read(), lastDelivery: { at: Date.now(), ok, status: result.status, error: result.error, attempts, runId } });
  }

  /** Sleeps unless the hub stops first; false when it stopped. */
  private wait(ms: number): Promise<boolean> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async post(url: string, body: AlertBody): Promise<PostResult> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.timings.timeoutMs), this.stopping.signal]);
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal, redirect: 'manual' });
      await response.body?.cancel().catch(() => undefined);
      return { status: response.status, error: response.ok ? null : `the webhook replied with HTTP ${response.status}` };
    } catch (error) {
      return { status: null, error: describeFailure(error, this.timings.timeoutMs) };
    }
  }
}

/** Tells whether another attempt can help: no response, a server error or a rate limit. */
function retryable(status: number | null): boolean {
  return status === null || status >= 500 || status === 429;
}

/** Describes a failed request without its URL, which may contain the webhook's credential. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no reply within ${timeoutMs} ms`;
  if (error instanceof DOMException && error.name === 'AbortError') return 'aborted because the hub is stopping';
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `request failed: ${cause.code}`;
  if (cause?.message) return `request failed: ${cause.message}`;
  return `request failed: ${error instanceof Error ? error.message : String(error)}`;
}
