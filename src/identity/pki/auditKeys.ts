import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Keys for personnummer in the access log at rest: AES-256-GCM to encrypt the number so a
 * privacy officer can read it back, HMAC-SHA-256 to index it ("every access to this person")
 * without decrypting every entry. Generated here with the dev PKI; owned by the audit module.
 */
export interface AuditKeyFile {
  /** Names the key generation, stored with each entry so keys can be rotated. */
  readonly keyId: string;
  /** base64, 32 bytes. The field names are the ones the access log reads (src/config/accessLogConfig.ts). */
  readonly subjectEncryptionKey: string;
  /** base64, 32 bytes. */
  readonly subjectHmacKey: string;
}

export interface AuditKeys {
  readonly keyId: string;
  readonly encryptionKey: Buffer;
  readonly hmacKey: Buffer;
}

const key32 = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(value), 'expected 32 bytes in base64');
const fileSchema = z.object({ keyId: z.string().min(1), subjectEncryptionKey: key32, subjectHmacKey: key32 });

export function generateAuditKeyFile(keyId = `dev-${new Date().toISOString().slice(0, 10)}`): AuditKeyFile {
  return { keyId, subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') };
}

export function parseAuditKeyFile(value: unknown): AuditKeys {
  const parsed = fileSchema.parse(value);
  return { keyId: parsed.keyId, encryptionKey: Buffer.from(parsed.subjectEncryptionKey, 'base64'), hmacKey: Buffer.from(parsed.subjectHmacKey, 'base64') };
}

/** Throws naming the file and the field when the file is unreadable or a key has the wrong length. */
export function readAuditKeys(file: string): AuditKeys {
  try {
    return parseAuditKeyFile(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new Error(`${file}: not an audit key file (${error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message})`);
  }
}
