/**
 * Masking of secret values in run output. The agent masks before it sends,
 * and the hub masks again before it stores, both with these functions.
 * A secret counts as printed when it appears in one string, or when the
 * texts of consecutive log lines, joined without their line breaks, contain
 * it with its own line breaks removed. So a secret printed in pieces, one
 * per line, and a multi-line secret such as a PEM key are both masked.
 */

/** Text that replaces a secret value, or the part of one, in output. */
export const SECRET_MASK = '***';

/** Shortest start of a secret masked at the end of a run of lines although its rest has not arrived. */
export const MIN_DANGLING_CHARS = 4;

/** Returns the non-empty secrets, longest first, so a secret that contains another is masked whole. */
export function sortSecrets(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((secret) => secret !== ''))].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of each secret in one string; `secrets` must be sorted by sortSecrets. */
export function maskText(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (masked.includes(secret)) masked = masked.split(secret).join(SECRET_MASK);
  return masked;
}

/** Returns the secrets as they appear across log lines: without \r and \n, non-empty. */
export function lineForms(secrets: readonly string[]): string[] {
  return sortSecrets(secrets.map((secret) => secret.replace(/[\r\n]/g, '')));
}

/**
 * Returns the length of the longest end of `text` that is the start of a
 * secret but not the whole of it, counting only starts of at least
 * `minChars` characters (or the secret's length minus one, if shorter).
 */
export function danglingLength(text: string, forms: readonly string[], minChars: number): number {
  let longest = 0;
  for (const form of forms) {
    const floor = Math.max(1, Math.min(minChars, form.length - 1));
    for (let length = Math.min(form.length - 1, text.length); length >= floor && length > longest; length -= 1) {
      if (endsWithStartOf(text, form, length)) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/** Compares from the last character back, so most candidates fail at once and no substring is allocated. */
function endsWithStartOf(text: string, form: string, length: number): boolean {
  const offset = text.length - length;
  for (let index = length - 1; index >= 0; index -= 1) {
    if (text.charCodeAt(offset + index) !== form.charCodeAt(index)) return false;
  }
  return true;
}

/** Masked lines, and the raw end of their text that the next call needs as `context`. */
export interface MaskedLineRun {
  lines: string[];
  context: string;
}

/**
 * Masks secrets spread over consecutive lines. `context` is the raw end of
 * the lines sent before, which can contain the start of a secret that these
 * lines complete. Those earlier characters cannot be masked any more. That
 * is why a dangling start of `minDangling` characters or more at the end is
 * masked now. Each line must already be masked on its own with maskText.
 */
export function maskLineRun(context: string, lines: readonly string[], forms: readonly string[], minDangling: number): MaskedLineRun {
  if (forms.length === 0) return { lines: [...lines], context: '' };
  const joined = context + lines.join('');
  const hidden = new Uint8Array(joined.length);
  for (const form of forms) {
    for (let at = joined.indexOf(form); at !== -1; at = joined.indexOf(form, at + 1)) hidden.fill(1, at, at + form.length);
  }
  const dangling = danglingLength(joined, forms, minDangling);
  if (dangling > 0) hidden.fill(1, joined.length - dangling);
  const keep = Math.max(0, (forms[0]?.length ?? 1) - 1);
  const nextContext = keep === 0 ? '' : joined.slice(-keep);
  // The usual case, nothing to mask, costs no copy of the lines.
  if (hidden.indexOf(1, context.length) === -1) return { lines: [...lines], context: nextContext };

  const masked: string[] = [];
  let start = context.length;
  for (const line of lines) {
    masked.push(rebuild(joined, hidden, start, start + line.length));
    start += line.length;
  }
  return { lines: masked, context: nextContext };
}

/** Returns `text[start, end)` with each stretch of hidden characters replaced by one mask. */
function rebuild(text: string, hidden: Uint8Array, start: number, end: number): string {
  let out = '';
  let index = start;
  while (index < end) {
    const stretchStart = index;
    const hide = hidden[index] === 1;
    while (index < end && (hidden[index] === 1) === hide) index += 1;
    out += hide ? SECRET_MASK : text.slice(stretchStart, index);
  }
  return out;
}
