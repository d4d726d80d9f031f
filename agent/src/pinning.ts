/**
 * Certificate pinning for the connection to the hub. The hub's certificate
 * is self-signed, so the usual chain check cannot vouch for it. Instead the
 * agent compares the SHA-256 fingerprint of the certificate the server
 * presents with the one from the join command. The check runs right after
 * the TLS handshake and before the HTTP upgrade request is written, so a
 * server with another certificate receives nothing from the agent: no
 * request, no token, no credential. A hub whose certificate was rotated while
 * the agent was away proves the rotation in the same handshake, with
 * statements signed by the pinned certificate's key (verifyRotationProof).
 */
import { X509Certificate, createHash, verify } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ROTATION_MESSAGE_PREFIX, rotationProofSchema } from './protocol/index.js';

/** Largest rotation proof the agent parses, in bytes. */
const MAX_PROOF_BYTES = 128 * 1024;

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

/** Callbacks by which a PinnedAgent reports the outcome of its checks. */
export interface PinEvents {
  /** Called once per refused connection, before the request fails. */
  onMismatch(error: PinMismatchError): void;
  /** Called when the server proved a rotation from the pin to `fingerprint`, which is now the pin. */
  onFollow(fingerprint: string): void;
}

/**
 * An https agent whose connections succeed only when the server's
 * certificate has the expected fingerprint, or when the server proves, in
 * its handshake, a chain of rotations signed by the pinned certificate's key
 * that ends at its certificate. Either check runs before anything is written.
 */
export class PinnedAgent extends Agent {
  /** Fingerprints accepted: the pinned one, and during a rotation also the one announced next. */
  private readonly pins: Set<string>;
  /** DER of the certificate of the last connection that passed the check; it verifies rotations. */
  private verifiedCertificate: Buffer | null = null;

  constructor(
    private expected: string,
    private readonly events: PinEvents,
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
    // requestOCSP requests the hub's stapled rotation proof (see verifyRotationProof). Node's
    // tls.connect honours it, although @types/node declares it only for new TLSSocket().
    const tlsOptions: ConnectionOptions & { requestOCSP: boolean } = { ...(options as ConnectionOptions), rejectUnauthorized: false, requestOCSP: true };
    const socket = connect(tlsOptions);
    let staple: Buffer | null = null;
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      socket.off('error', onError);
      callback?.(error, socket);
    };
    const onError = (error: Error) => settle(error);
    socket.once('error', onError);
    socket.once('OCSPResponse', (response: Buffer) => (staple = response));
    socket.once('secureConnect', () => {
      const error = this.check(socket, staple);
      if (error) {
        socket.destroy();
        this.events.onMismatch(error);
      }
      settle(error);
    });
    return undefined;
  }

  private check(socket: TLSSocket, staple: Buffer | null): PinMismatchError | null {
    const certificate = socket.getPeerCertificate();
    const actual = certificate.raw ? fingerprintOfDer(certificate.raw) : 'none (the server sent no certificate)';
    if (!this.pins.has(actual)) {
      if (staple === null || !verifyRotationProof(this.pins, staple, actual)) return new PinMismatchError(this.expected, actual);
      this.pins.clear();
      this.pins.add(actual);
      this.expected = actual;
      this.events.onFollow(actual);
    }
    this.verifiedCertificate = certificate.raw;
    return null;
  }
}

/**
 * Checks that `proof` (the hub's stapled rotations) leads from one of the
 * `pins` to `fingerprint`: each step must be signed by the key of a
 * certificate whose fingerprint is already trusted. The TLS handshake has
 * proven that the server has the private key of `fingerprint`'s certificate.
 */
export function verifyRotationProof(pins: ReadonlySet<string>, proof: Buffer, fingerprint: string): boolean {
  // Eight entries of at most 8 KiB each fit well below this; a larger staple is not parsed at all.
  if (proof.length > MAX_PROOF_BYTES) return false;
  let json: unknown;
  try {
    json = JSON.parse(proof.toString('utf8'));
  } catch {
    return false;
  }
  const parsed = rotationProofSchema.safeParse(json);
  if (!parsed.success) return false;
  const trusted = new Set(pins);
  // Oldest first, so one pass follows a chain of several missed rotations.
  for (const endorsement of parsed.data.endorsements) {
    const signer = Buffer.from(endorsement.certificate, 'base64');
    if (trusted.has(fingerprintOfDer(signer)) && verifyRotation(signer, endorsement.fingerprint, endorsement.signature)) trusted.add(endorsement.fingerprint);
  }
  return trusted.has(fingerprint);
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
