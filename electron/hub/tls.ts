/**
 * The hub's TLS identity on the agent port: a key pair and a self-signed
 * certificate kept in the data directory. Agents trust the hub by the
 * SHA-256 fingerprint of this certificate, which the join command carries,
 * so no certificate authority is involved and host names are not checked.
 */
import { X509Certificate, createPrivateKey, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ROTATION_MESSAGE_PREFIX, rotateSchema, type RotationProof } from 'farmboy-agent/protocol';

export const TLS_KEY_FILE = 'hub-key.pem';
export const TLS_CERT_FILE = 'hub-cert.pem';
/** Signed rotations the hub still serves to agents that missed them. */
export const ROTATIONS_FILE = 'hub-rotations.json';

/** Rotations kept for agents that were offline: the last three, and none older than 30 days. */
export const KEPT_ROTATIONS = 3;
export const ROTATION_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** Validity of a new certificate. Agents pin the fingerprint, so expiry only matters to tools that inspect it. */
const CERT_VALIDITY_DAYS = 20 * 365;

export interface HubTlsIdentity {
  /** Private key, PEM (PKCS#8). */
  key: string;
  /** Self-signed certificate, PEM. */
  cert: string;
  /** `sha256:` and 64 lowercase hex digits of the certificate's DER encoding. */
  fingerprint: string;
}

export class TlsIdentityError extends Error {
  override readonly name = 'TlsIdentityError';
  readonly code = 'tls_identity_invalid';
}

/** Formats the SHA-256 fingerprint of a certificate as agents pin it. */
export function certificateFingerprint(cert: string | Buffer): string {
  const hex = new X509Certificate(cert).fingerprint256.replace(/:/g, '').toLowerCase();
  return `sha256:${hex}`;
}

/**
 * Reads the key and certificate from the data directory, or creates them on
 * first start. A directory holding only one of the two files, or files that
 * do not belong together, is an error: replacing them silently would make
 * every agent refuse the hub.
 */
export async function loadOrCreateTlsIdentity(dataDir: string): Promise<{ identity: HubTlsIdentity; created: boolean }> {
  const keyFile = join(dataDir, TLS_KEY_FILE);
  const certFile = join(dataDir, TLS_CERT_FILE);
  const hasKey = existsSync(keyFile);
  const hasCert = existsSync(certFile);
  if (!hasKey && !hasCert) {
    const identity = await createTlsIdentity();
    await writeIdentity(dataDir, identity);
    return { identity, created: true };
  }
  if (!hasKey || !hasCert) {
    const missing = hasKey ? certFile : keyFile;
    throw new TlsIdentityError(
      `${missing} is missing while its pair exists. Restore it from a backup, or delete both ${TLS_KEY_FILE} and ${TLS_CERT_FILE} to create a new identity (every agent must then join again).`,
    );
  }
  const identity = parseIdentity(await readFile(keyFile, 'utf8'), await readFile(certFile, 'utf8'), dataDir);
  return { identity, created: false };
}

/** Creates a new EC P-256 key and a self-signed certificate for it. */
export async function createTlsIdentity(): Promise<HubTlsIdentity> {
  const now = Date.now();
  // Loaded here, not at start: it takes about 0.1 s to load and only a first start or a rotation needs it.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'Farmboy hub' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // Backdated a day so that an agent whose clock is slightly behind still accepts it.
    notBeforeDate: new Date(now - 24 * 3600 * 1000),
    notAfterDate: new Date(now + CERT_VALIDITY_DAYS * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint: certificateFingerprint(pems.cert) };
}

/** Writes the pair atomically, the key readable by its owner only. */
export async function writeIdentity(dataDir: string, identity: HubTlsIdentity): Promise<void> {
  const keyFile = join(dataDir, TLS_KEY_FILE);
  const certFile = join(dataDir, TLS_CERT_FILE);
  await writeFile(`${keyFile}.tmp`, identity.key, { mode: 0o600 });
  await writeFile(`${certFile}.tmp`, identity.cert, { mode: 0o644 });
  await rename(`${keyFile}.tmp`, keyFile);
  await rename(`${certFile}.tmp`, certFile);
}

/** Signs the fingerprint of the next certificate with the current key, for agents to verify before they move their pin. */
export function signRotation(currentKey: string, nextFingerprint: string): string {
  return sign('sha256', Buffer.from(ROTATION_MESSAGE_PREFIX + nextFingerprint, 'utf8'), createPrivateKey(currentKey)).toString('base64');
}

const endorsementSchema = z.object({
  /** PEM of the replaced certificate, whose key made `signature`. */
  previousCertificate: z.string().min(1).max(8192),
  fingerprint: rotateSchema.shape.fingerprint,
  signature: rotateSchema.shape.signature,
  rotatedAt: z.number().int().nonnegative(),
});
/** One rotation: the replaced certificate and its key's signature over the next fingerprint. */
export type RotationEndorsement = z.infer<typeof endorsementSchema>;

const rotationsFileSchema = z.object({ version: z.literal(1), rotations: z.array(endorsementSchema) });

/** Reads the kept rotations, oldest first; none when the file does not exist. */
export async function readRotations(dataDir: string): Promise<RotationEndorsement[]> {
  const file = join(dataDir, ROTATIONS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Reported below as a damaged file.
  }
  const parsed = rotationsFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new TlsIdentityError(`${file} is damaged. Delete it: agents that missed a rotation then have to join again with the new fingerprint.`);
  }
  return parsed.data.rotations;
}

/** Drops rotations past the bounds: more than KEPT_ROTATIONS ago, or older than ROTATION_MAX_AGE_MS. */
export function keptRotations(rotations: readonly RotationEndorsement[], now: number): RotationEndorsement[] {
  return rotations.filter((rotation) => now - rotation.rotatedAt <= ROTATION_MAX_AGE_MS).slice(-KEPT_ROTATIONS);
}

/** Builds what the agent port staples to its handshake; null when there is no rotation to prove. */
export function encodeRotationProof(rotations: readonly RotationEndorsement[]): Buffer | null {
  if (rotations.length === 0) return null;
  const proof: RotationProof = {
    endorsements: rotations.map((rotation) => ({
      certificate: new X509Certificate(rotation.previousCertificate).raw.toString('base64'),
      fingerprint: rotation.fingerprint,
      signature: rotation.signature,
    })),
  };
  return Buffer.from(JSON.stringify(proof), 'utf8');
}

/** A new identity, the statement signed by the current key that moves trust to it, and the rotations to keep with it. Nothing is written yet. */
export interface PreparedRotation {
  identity: HubTlsIdentity;
  endorsement: RotationEndorsement;
  /** Rotations kept after this one, oldest first, this one included. */
  rotations: RotationEndorsement[];
}

/**
 * Creates the next identity and signs its fingerprint with the current key.
 * It reads the kept rotations first, so a damaged file stops the rotation
 * before any agent hears of it.
 */
export async function prepareRotation(dataDir: string, current: HubTlsIdentity, now = Date.now()): Promise<PreparedRotation> {
  const earlier = await readRotations(dataDir);
  const identity = await createTlsIdentity();
  const endorsement: RotationEndorsement = {
    previousCertificate: current.cert,
    fingerprint: identity.fingerprint,
    signature: signRotation(current.key, identity.fingerprint),
    rotatedAt: now,
  };
  return { identity, endorsement, rotations: keptRotations([...earlier, endorsement], now) };
}

/**
 * Records the rotation and writes the new pair. The record is written
 * first, so a crash in between leaves the old pair in use and a harmless
 * record of a certificate never served. The old key is overwritten: its
 * signature is all that agents need from it.
 */
export async function commitRotation(dataDir: string, rotation: PreparedRotation): Promise<void> {
  const file = join(dataDir, ROTATIONS_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify({ version: 1, rotations: rotation.rotations }, null, 2) + '\n', { mode: 0o644 });
  await rename(`${file}.tmp`, file);
  await writeIdentity(dataDir, rotation.identity);
}

/** The rotations an agent port staples to its handshakes; replaced after each rotation. */
export interface RotationStapler {
  update(rotations: RotationEndorsement[]): void;
}

/**
 * Staples the kept rotations to every TLS handshake that requests a status
 * response, as agents do. The bounds are applied at each handshake, so a
 * rotation older than ROTATION_MAX_AGE_MS stops being served without a restart.
 */
export function stapleRotations(server: HttpsServer, dataDir: string, log: Logger): RotationStapler {
  let rotations: RotationEndorsement[] = [];
  let loaded = false;
  const ready = readRotations(dataDir).then(
    (stored) => {
      if (!loaded) rotations = stored;
      loaded = true;
    },
    (error: unknown) => log.error({ err: error, dataDir }, 'certificate rotations unreadable; agents that missed one must join again'),
  );
  server.on('OCSPRequest', (_certificate: Buffer, _issuer: Buffer, callback: (error: Error | null, response: Buffer | null) => void) => {
    void ready.then(() => {
      try {
        callback(null, encodeRotationProof(keptRotations(rotations, Date.now())));
      } catch (error) {
        log.error({ err: error }, 'rotation proof not stapled');
        callback(null, null);
      }
    });
  });
  return {
    update(next) {
      loaded = true;
      rotations = next;
    },
  };
}

function parseIdentity(key: string, cert: string, dataDir: string): HubTlsIdentity {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
    if (!certificate.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TlsIdentityError(
      `The hub's TLS key or certificate in ${dataDir} is unusable (${reason}). Restore both files from a backup, or delete ${TLS_KEY_FILE} and ${TLS_CERT_FILE} to create a new identity (every agent must then join again).`,
    );
  }
  return { key, cert, fingerprint: certificateFingerprint(certificate.raw) };
}
