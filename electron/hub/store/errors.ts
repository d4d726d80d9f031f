/**
 * Errors that stop the store from opening or from writing. The hub shows the
 * message to the user as it is, so each one names the file and the next step.
 */
export type StoreErrorCode =
  | 'store_corrupt'
  | 'store_locked'
  | 'store_unreadable'
  | 'store_unwritable'
  | 'store_too_new';

export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    /** Absolute path of the file or directory at fault. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Returns the `code` of a Node.js system error, such as 'ENOENT'. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Returns a short reason for a caught error, for messages and logs. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
