/**
 * Secret values of job environments. A value whose key a job lists in
 * `secretEnv` is stored sealed with AES-256-GCM under a key kept in the
 * hub's data directory (mode 0600), so the definitions file, its backups and
 * every API response hold only ciphertext. The agent gateway opens the
 * values for the one agent that runs the job, and masks them in what agents
 * report, as the agent itself already does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Json, LogLine, RunEvent } from 'farmboy-agent/protocol';

export const SECRET_KEY_FILE = 'secret-key';
const SEALED_PREFIX = 'enc:v1:';
/** Text that replaces a secret value in output, the same as the agent's. */
export const SECRET_MASK = '***';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

export class SecretBox {
  private static readonly boxes = new Map<string, SecretBox>();

  private constructor(private readonly key: Buffer) {}

  /** The box of a data directory; its key file is created on first use. */
  static forDataDir(dataDir: string): SecretBox {
    let box = SecretBox.boxes.get(dataDir);
    if (!box) {
      box = new SecretBox(readOrCreateKey(join(dataDir, SECRET_KEY_FILE)));
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

/** Replaces every occurrence of each secret; longest first, so a secret that contains another is masked whole. */
export function maskText(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (masked.includes(secret)) masked = masked.split(secret).join(SECRET_MASK);
  return masked;
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
 * Masks a secret split over the end of one line and the start of the next.
 * Returns both lines with the two fragments replaced.
 */
function maskSplit(before: string, after: string, secrets: readonly string[]): [string, string] {
  let head = before;
  let tail = after;
  for (const secret of secrets) {
    for (let cut = secret.length - 1; cut >= 1; cut -= 1) {
      if (head.endsWith(secret.slice(0, cut)) && tail.startsWith(secret.slice(cut))) {
        head = head.slice(0, head.length - cut) + SECRET_MASK;
        tail = SECRET_MASK + tail.slice(secret.length - cut);
        break;
      }
    }
  }
  return [head, tail];
}

/**
 * Masks secrets in the output agents report, per run. A secret split over
 * two lines of one batch is masked in both. Split over two batches, only its
 * second part can still be masked, because the first line is stored already.
 */
export class OutputMasker {
  /** Last line of each run's previous batch, to catch a secret split over two batches. */
  private readonly lastLines = new Map<string, string>();

  maskEvent(event: RunEvent, secrets: readonly string[]): RunEvent {
    if (secrets.length === 0) return event;
    const sorted = [...secrets].filter((secret) => secret !== '').sort((a, b) => b.length - a.length);
    switch (event.type) {
      case 'log':
        return { ...event, lines: this.maskLines(event.runId, event.lines, sorted) };
      case 'records':
        return { ...event, records: event.records.map((record) => maskJson(record, sorted)) };
      case 'progress':
        return { ...event, message: event.message === null ? null : maskText(event.message, sorted) };
      case 'finished':
        this.lastLines.delete(event.runId);
        return { ...event, error: event.error === null ? null : maskText(event.error, sorted), result: event.result === null ? null : maskJson(event.result, sorted) };
      default:
        return event;
    }
  }

  private maskLines(runId: string, lines: readonly LogLine[], secrets: readonly string[]): LogLine[] {
    const masked = lines.map((line) => ({ ...line, m: maskText(line.m, secrets) }));
    let previous = this.lastLines.get(runId) ?? null;
    for (const [index, line] of masked.entries()) {
      if (previous !== null) {
        const [head, tail] = maskSplit(previous, line.m, secrets);
        const before = masked[index - 1];
        if (before) before.m = head;
        line.m = tail;
      }
      previous = line.m;
    }
    if (previous !== null) this.remember(runId, previous);
    return masked;
  }

  private remember(runId: string, line: string): void {
    this.lastLines.delete(runId);
    this.lastLines.set(runId, line);
    // Bounded: runs that never finish cleanly are forgotten oldest first.
    if (this.lastLines.size > 10_000) this.lastLines.delete(this.lastLines.keys().next().value as string);
  }
}
