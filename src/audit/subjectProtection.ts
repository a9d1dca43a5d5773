import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { SubjectKeys } from '../identity/pki/auditKeys.js';

/**
 * The subject's personnummer is the one personal value in an access-log entry. At rest it is
 * encrypted (AES-256-GCM, a fresh 96-bit IV per entry) so a copy of the database does not list
 * who was looked up; beside it sits an HMAC-SHA256 under a second key, so an authorised audit
 * can still find "every access to this person" by exact match without decrypting every row.
 * Two keys, because the search key is used far more widely (every query) than the decryption key.
 * The keys come from AUDIT_KEYS_PATH through its one reader, src/identity/pki/auditKeys.ts.
 */
export { parseSubjectKeys, SubjectKeyError, type SubjectKeyProblem, type SubjectKeys } from '../identity/pki/auditKeys.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const CIPHERTEXT_PREFIX = 'v1.';
/** IVs per refill of the pool: one randomBytes call costs as much as encrypting a subject. */
const IVS_PER_REFILL = 1024;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

/** A fresh 96-bit IV from the CSPRNG; each pooled byte is handed out once. */
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_BYTES * IVS_PER_REFILL);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** Keyed hash of a canonical personnummer, lowercase hex. Deterministic: this is what searches match on. */
export function subjectHmac(keys: SubjectKeys, canonicalSubject: string): string {
  return createHmac('sha256', keys.hmacKey).update(canonicalSubject, 'utf8').digest('hex');
}

function aad(hmac: string): Buffer {
  // Binding the ciphertext to its HMAC stops a row's ciphertext being paired with another person's hash.
  return Buffer.from(`access-log-subject-v1|${hmac}`, 'utf8');
}

export function protectSubject(keys: SubjectKeys, canonicalSubject: string): { subjectEnc: string; subjectHmac: string } {
  const hmac = subjectHmac(keys, canonicalSubject);
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', keys.encryptionKey, iv);
  cipher.setAAD(aad(hmac));
  const ciphertext = Buffer.concat([cipher.update(canonicalSubject, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return { subjectEnc: CIPHERTEXT_PREFIX + Buffer.concat([iv, ciphertext, tag]).toString('base64url'), subjectHmac: hmac };
}

export class SubjectDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubjectDecryptionError';
  }
}

/** For authorised audit queries only: the caller must log that it decrypted (an `audit-query` entry). */
export function decryptSubject(keys: SubjectKeys, subjectEnc: string, hmac: string): string {
  if (!subjectEnc.startsWith(CIPHERTEXT_PREFIX)) throw new SubjectDecryptionError('Unknown subject ciphertext version.');
  const bytes = Buffer.from(subjectEnc.slice(CIPHERTEXT_PREFIX.length), 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) throw new SubjectDecryptionError('Subject ciphertext is truncated.');
  const iv = bytes.subarray(0, IV_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', keys.encryptionKey, iv);
  decipher.setAAD(aad(hmac));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SubjectDecryptionError('Subject ciphertext does not authenticate under this key and HMAC.');
  }
}
