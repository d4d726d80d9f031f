import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Creates a random token: 192 bits as hex. Hex rather than base64url because
 * a token goes on command lines, where one starting with `-` reads as an
 * option.
 */
export function createToken(): string {
  return randomBytes(24).toString('hex');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares two secrets in constant time with respect to their content. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
