/**
 * Certificate pinning for the connection to the hub. The hub's certificate
 * is self-signed, so the usual chain check cannot vouch for it. Instead the
 * agent compares the SHA-256 fingerprint of the certificate the server
 * presents with the one from the join command. The check runs right after
 * the TLS handshake and before the HTTP upgrade request is written, so a
 * server with another certificate receives nothing from the agent: no
 * request, no token, no credential.
 */
import { X509Certificate, createHash, verify } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ROTATION_MESSAGE_PREFIX } from './protocol/index.js';

/** `sha256:` and 64 lowercase hex digits of a DER-encoded certificate. */
export function fingerprintOfDer(der: Buffer): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** Thrown when the server's certificate is not the pinned one. */
export class PinMismatchError extends Error {
  override readonly name = 'PinMismatchError';
  readonly code = 'ERR_HUB_FINGERPRINT_MISMATCH';

  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the hub's certificate fingerprint is ${actual}, not the expected ${expected}`);
  }
}

/**
 * An https agent whose connections succeed only when the server's
 * certificate has the expected fingerprint. `onMismatch` is called once per
 * refused connection, before the request fails.
 */
export class PinnedAgent extends Agent {
  /** Fingerprints accepted: the pinned one, and during a rotation also the one announced next. */
  private readonly pins: Set<string>;
  /** DER of the certificate of the last connection that passed the check; it verifies rotations. */
  private verifiedCertificate: Buffer | null = null;

  constructor(
    private readonly expected: string,
    private readonly onMismatch: (error: PinMismatchError) => void,
    options: AgentOptions = {},
  ) {
    super({ ...options, keepAlive: false });
    this.pins = new Set([expected]);
  }

  /**
   * Accepts the hub's next certificate when the key of the certificate this
   * agent last verified signed its fingerprint. The old pin stays accepted
   * too, until the hub has switched.
   */
  acceptRotation(fingerprint: string, signature: string): boolean {
    if (this.verifiedCertificate === null || !verifyRotation(this.verifiedCertificate, fingerprint, signature)) return false;
    this.pins.add(fingerprint);
    return true;
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    // The chain check is replaced by the pin: a self-signed certificate never passes it.
    const socket = connect({ ...(options as ConnectionOptions), rejectUnauthorized: false });
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      socket.off('error', onError);
      callback?.(error, socket);
    };
    const onError = (error: Error) => settle(error);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      const error = this.check(socket);
      if (error) {
        socket.destroy();
        this.onMismatch(error);
      }
      settle(error);
    });
    return undefined;
  }

  private check(socket: TLSSocket): PinMismatchError | null {
    const certificate = socket.getPeerCertificate();
    const actual = certificate.raw ? fingerprintOfDer(certificate.raw) : 'none (the server sent no certificate)';
    if (!this.pins.has(actual)) return new PinMismatchError(this.expected, actual);
    this.verifiedCertificate = certificate.raw;
    return null;
  }
}

/** Checks that the key of `certificateDer` signed the rotation to `fingerprint`. */
export function verifyRotation(certificateDer: Buffer, fingerprint: string, signature: string): boolean {
  try {
    const publicKey = new X509Certificate(certificateDer).publicKey;
    return verify('sha256', Buffer.from(ROTATION_MESSAGE_PREFIX + fingerprint, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
