/**
 * Secret values of job environments. A value whose key a job lists in
 * `secretEnv` is stored sealed with AES-256-GCM under a key kept in the
 * hub's data directory (mode 0600), so the definitions file, its backups and
 * every API response hold only ciphertext. The agent gateway opens the
 * values for the one agent that runs the job, and masks them in what agents
 * report, as the agent itself already does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { MIN_DANGLING_CHARS, lineForms, maskLineRun, maskText, sortSecrets, type Json, type LogLine, type RunEvent } from 'farmboy-agent/protocol';

export { SECRET_MASK, maskText } from 'farmboy-agent/protocol';

export const SECRET_KEY_FILE = 'secret-key';
const SEALED_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

export class SecretBox {
  private static readonly boxes = new Map<string, SecretBox>();

  private constructor(
    private readonly key: Buffer,
    /** Data directory whose key this box uses; the kept secrets of active runs live there too. */
    readonly dataDir: string,
  ) {}

  /** The box of a data directory; its key file is created on first use. */
  static forDataDir(dataDir: string): SecretBox {
    let box = SecretBox.boxes.get(dataDir);
    if (!box) {
      box = new SecretBox(readOrCreateKey(join(dataDir, SECRET_KEY_FILE)), dataDir);
      SecretBox.boxes.set(dataDir, box);
    }
    return box;
  }

  /** Seals `value` for the environment variable `name`; the name is authenticated, so a sealed value cannot be moved to another key. */
  seal(name: string, value: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** Opens a sealed value; null when it was sealed with another key or damaged. */
  open(name: string, sealed: string): string | null {
    try {
      const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  /**
   * Returns the job with the values of its secret keys sealed. Values that
   * are sealed already (an unchanged secret sent back by an editor) stay as
   * they are.
   */
  sealJob<T extends { env: Record<string, string>; secretEnv?: string[] }>(job: T): T {
    const secret = new Set(job.secretEnv ?? []);
    const env = Object.fromEntries(
      Object.entries(job.env).map(([name, value]) => [name, secret.has(name) && !isSealed(value) ? this.seal(name, value) : value]),
    );
    return { ...job, env };
  }

  /** Lists the keys whose sealed value this hub cannot open: sealed by another hub, or with a key it no longer has. */
  unreadable(env: Record<string, string>): string[] {
    return Object.entries(env)
      .filter(([name, value]) => isSealed(value) && this.open(name, value) === null)
      .map(([name]) => name);
  }

  /** Opens every sealed value of an environment; keys whose value cannot be opened get an empty value and are listed in `failed`. */
  openEnv(env: Record<string, string>): { env: Record<string, string>; secretKeys: string[]; failed: string[] } {
    const opened: Record<string, string> = {};
    const secretKeys: string[] = [];
    const failed: string[] = [];
    for (const [name, value] of Object.entries(env)) {
      if (!isSealed(value)) {
        opened[name] = value;
        continue;
      }
      const clear = this.open(name, value);
      if (clear === null) failed.push(name);
      opened[name] = clear ?? '';
      secretKeys.push(name);
    }
    return { env: opened, secretKeys, failed };
  }
}

function readOrCreateKey(file: string): Buffer {
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 256-bit key in base64. Restore it from a backup; without it the stored secrets cannot be read.`);
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

function maskJson(value: Json, secrets: readonly string[]): Json {
  if (typeof value === 'string') return maskText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => maskJson(item, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [maskText(key, secrets), maskJson(item, secrets)]));
  }
  return value;
}

/**
 * Masks secrets in the output agents report, per run, with the rules of
 * maskLineRun. A secret spread over several lines of one batch is masked in
 * all of them. The lines of a batch are stored before the next batch
 * arrives. So a start of a secret of MIN_DANGLING_CHARS or more at the end
 * of a batch is masked at once, and the rest is masked when it arrives.
 */
export class OutputMasker {
  /** Raw end of each run's previous batch, as long as its longest secret minus one character. */
  private readonly contexts = new Map<string, string>();

  maskEvent(event: RunEvent, secrets: readonly string[]): RunEvent {
    if (secrets.length === 0) return event;
    const sorted = sortSecrets(secrets);
    switch (event.type) {
      case 'log':
        return { ...event, lines: this.maskLines(event.runId, event.lines, sorted) };
      case 'records':
        return { ...event, records: event.records.map((record) => maskJson(record, sorted)) };
      case 'progress':
        return { ...event, message: event.message === null ? null : maskText(event.message, sorted) };
      case 'finished':
        this.contexts.delete(event.runId);
        return { ...event, error: event.error === null ? null : maskText(event.error, sorted), result: event.result === null ? null : maskJson(event.result, sorted) };
      default:
        return event;
    }
  }

  private maskLines(runId: string, lines: readonly LogLine[], secrets: readonly string[]): LogLine[] {
    // NOTE: a start of a secret shorter than MIN_DANGLING_CHARS at the very end of a batch is stored as it is.
    const run = maskLineRun(
      this.contexts.get(runId) ?? '',
      lines.map((line) => maskText(line.m, secrets)),
      lineForms(secrets),
      MIN_DANGLING_CHARS,
    );
    this.remember(runId, run.context);
    return lines.map((line, index) => ({ ...line, m: run.lines[index] ?? line.m }));
  }

  private remember(runId: string, context: string): void {
    this.contexts.delete(runId);
    this.contexts.set(runId, context);
    // Bounded: runs that never finish cleanly are forgotten oldest first.
    if (this.contexts.size > 10_000) this.contexts.delete(this.contexts.keys().next().value as string);
  }
}

/** Kept run secrets, per run id: the sealed values of the run's secret keys. */
export const RUN_SECRETS_FILE = 'run-secrets.json';
/** Runs whose secret values are kept for masking; the oldest are dropped first. */
const MAX_RUNS_WITH_SECRETS = 10_000;
const runSecretsFileSchema = z.object({ version: z.literal(1), runs: z.record(z.string(), z.record(z.string(), z.string())) });

/**
 * Secret values of the runs in progress, to mask what their agents report.
 * The sealed values each run was given are written to RUN_SECRETS_FILE
 * before its assignment leaves, so a hub that restarts while runs carry on
 * opens them again and keeps masking. The file holds only ciphertext.
 */
export class RunSecrets {
  private readonly values = new Map<string, string[]>();
  private readonly sealed = new Map<string, Record<string, string>>();

  constructor(
    private readonly box: SecretBox,
    private readonly log: Logger,
  ) {}

  /** Opens the kept values of the runs that are still active and drops the others. */
  restore(isActive: (runId: string) => boolean): void {
    const file = join(this.box.dataDir, RUN_SECRETS_FILE);
    if (!existsSync(file)) return;
    let kept: Record<string, Record<string, string>> = {};
    try {
      kept = runSecretsFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).runs;
    } catch (error) {
      this.log.error({ err: error, file }, 'kept run secrets unreadable; output of runs still going is masked by their agents only');
    }
    for (const [runId, sealed] of Object.entries(kept)) {
      if (!isActive(runId)) continue;
      const opened = this.box.openEnv(sealed);
      if (opened.failed.length > 0) this.log.error({ runId, keys: opened.failed }, 'kept run secrets could not be decrypted');
      this.store(runId, sealed, Object.values(opened.env).filter((value) => value !== ''));
    }
    this.persist();
    this.log.info({ runs: this.values.size }, 'secrets of active runs restored');
  }

  /** Keeps the values of a run's secret keys, given sealed and in clear. */
  remember(runId: string, sealed: Record<string, string>, values: string[]): void {
    const had = this.values.has(runId);
    this.store(runId, sealed, values);
    if (values.length > 0 || had) this.persist();
  }

  forget(runId: string): void {
    if (!this.values.delete(runId)) return;
    this.sealed.delete(runId);
    this.persist();
  }

  valuesOf(runId: string): string[] {
    return this.values.get(runId) ?? [];
  }

  private store(runId: string, sealed: Record<string, string>, values: string[]): void {
    this.values.delete(runId);
    this.sealed.delete(runId);
    if (values.length === 0) return;
    this.values.set(runId, values);
    this.sealed.set(runId, sealed);
    if (this.values.size > MAX_RUNS_WITH_SECRETS) {
      const oldest = this.values.keys().next().value as string;
      this.values.delete(oldest);
      this.sealed.delete(oldest);
    }
  }

  /** Written synchronously, so the values are on disk before the assignment that carries them leaves. */
  private persist(): void {
    const file = join(this.box.dataDir, RUN_SECRETS_FILE);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify({ version: 1, runs: Object.fromEntries(this.sealed) }), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    } catch (error) {
      this.log.error({ err: error, file }, 'run secrets not written; after a restart the hub cannot mask these runs');
    }
  }
}
