/**
 * The hub's TLS identity on the agent port: a key pair and a self-signed
 * certificate kept in the data directory. Agents trust the hub by the
 * SHA-256 fingerprint of this certificate, which the join command carries,
 * so no certificate authority is involved and host names are not checked.
 */
import { X509Certificate, createPrivateKey, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROTATION_MESSAGE_PREFIX } from 'farmboy-agent/protocol';

export const TLS_KEY_FILE = 'hub-key.pem';
export const TLS_CERT_FILE = 'hub-cert.pem';

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
