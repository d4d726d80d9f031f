/**
 * Errors the hub returns to its callers. Each has a stable `code` that the
 * HTTP API maps to a status and the /ui namespace passes through, so callers
 * branch on the code, never on the message text.
 */
export type HubErrorCode = 'invalid' | 'not_found' | 'conflict' | 'unauthorized' | 'forbidden' | 'rate_limited' | 'unavailable';

export class HubError extends Error {
  override readonly name = 'HubError';
  /** Structured detail for callers, such as compile diagnostics. */
  details?: unknown;

  constructor(
    readonly code: HubErrorCode,
    message: string,
    /** Dotted path of the offending input field, for `invalid`. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function invalid(field: string, reason: string): HubError {
  return new HubError('invalid', `${field}: ${reason}`, field);
}

export function notFound(kind: string, id: string): HubError {
  return new HubError('not_found', `${kind} ${id} not found`);
}

export const HTTP_STATUS: Record<HubErrorCode, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
};
