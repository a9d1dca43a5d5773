import { randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../../config/parseEnv.js';
import { keyFileProblems, readJsonKeyFile } from './keyFile.js';

/**
 * Keys for personnummer in the access log at rest: AES-256-GCM to encrypt the number so a
 * privacy officer can read it back, HMAC-SHA-256 to index it ("every access to this person")
 * without decrypting every entry. Generated here with the dev PKI, used by src/audit/; this
 * module is the file's one reader, for the gateway, the audit CLI and the dev PKI alike.
 */
export interface AuditKeyFile {
  /** Names the key generation, so keys can be rotated. */
  readonly keyId: string;
  /** base64, 32 bytes. */
  readonly subjectEncryptionKey: string;
  /** base64, 32 bytes. */
  readonly subjectHmacKey: string;
}

export interface SubjectKeys {
  readonly encryptionKey: Buffer;
  readonly hmacKey: Buffer;
}

export interface AuditKeys extends SubjectKeys {
  /** Absent in a file written by hand; `npm run certs` writes one. */
  readonly keyId?: string;
}

export type SubjectKeyProblem = 'NOT_BASE64' | 'WRONG_LENGTH' | 'SAME_KEY';

export class SubjectKeyError extends Error {
  constructor(
    readonly keyName: string,
    readonly problem: SubjectKeyProblem,
    message: string,
  ) {
    super(`${keyName}: ${message}`);
    this.name = 'SubjectKeyError';
  }
}

const KEY_BYTES = 32;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function generateAuditKeyFile(keyId = `dev-${new Date().toISOString().slice(0, 10)}`): AuditKeyFile {
  return { keyId, subjectEncryptionKey: randomBytes(KEY_BYTES).toString('base64'), subjectHmacKey: randomBytes(KEY_BYTES).toString('base64') };
}

/** Decodes one base64 key of exactly 32 bytes; the message says what is wrong, never the key. */
export function decodeKey(keyName: string, base64: unknown): Buffer {
  if (typeof base64 !== 'string' || !BASE64.test(base64.trim()) || base64.trim().length === 0) {
    throw new SubjectKeyError(keyName, 'NOT_BASE64', 'expected a standard base64 string (A-Z a-z 0-9 + / with = padding)');
  }
  const bytes = Buffer.from(base64.trim(), 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new SubjectKeyError(keyName, 'WRONG_LENGTH', `expected ${KEY_BYTES} bytes (256 bits) after base64 decoding, got ${bytes.length}`);
  }
  return bytes;
}

export function parseSubjectKeys(raw: { readonly subjectEncryptionKey: unknown; readonly subjectHmacKey: unknown }): SubjectKeys {
  const encryptionKey = decodeKey('subjectEncryptionKey', raw.subjectEncryptionKey);
  const hmacKey = decodeKey('subjectHmacKey', raw.subjectHmacKey);
  if (timingSafeEqual(encryptionKey, hmacKey)) {
    throw new SubjectKeyError('subjectHmacKey', 'SAME_KEY', 'must differ from subjectEncryptionKey');
  }
  return { encryptionKey, hmacKey };
}

const auditKeysFile = z.object({
  keyId: z.string().min(1, 'must not be empty').optional(),
  subjectEncryptionKey: z.string({ error: 'expected a base64 string' }),
  subjectHmacKey: z.string({ error: 'expected a base64 string' }),
});

/** Reads the subject keys; a ConfigError names the variable, the file and the key that is wrong. */
export function readAuditKeys(file: string, variable = 'AUDIT_KEYS_PATH'): AuditKeys {
  const parsed = auditKeysFile.safeParse(readJsonKeyFile(variable, file));
  if (!parsed.success) throw keyFileProblems(variable, file, parsed.error);
  try {
    return { ...parseSubjectKeys(parsed.data), ...(parsed.data.keyId === undefined ? {} : { keyId: parsed.data.keyId }) };
  } catch (error) {
    if (error instanceof SubjectKeyError) throw new ConfigError([`${variable}: ${file}: ${error.message}`]);
    throw error;
  }
}
