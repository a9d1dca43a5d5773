import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSubject, parseSubjectKeys, protectSubject, subjectHmac, SubjectDecryptionError, SubjectKeyError } from '../../src/audit/subjectProtection.js';
import { SUBJECTS } from './helpers.js';

const raw = { subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') };
const keys = parseSubjectKeys(raw);

describe('subject protection', () => {
  it('encrypts the personnummer with a fresh IV each time and decrypts it back', () => {
    const a = protectSubject(keys, SUBJECTS[0]);
    const b = protectSubject(keys, SUBJECTS[0]);
    expect(a.subjectEnc).not.toBe(b.subjectEnc);
    expect(a.subjectEnc).not.toContain(SUBJECTS[0]);
    expect(a.subjectEnc).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(decryptSubject(keys, a.subjectEnc, a.subjectHmac)).toBe(SUBJECTS[0]);
  });

  it('gives the same keyed hash for the same subject, so searches match exactly', () => {
    expect(protectSubject(keys, SUBJECTS[0]).subjectHmac).toBe(subjectHmac(keys, SUBJECTS[0]));
    expect(subjectHmac(keys, SUBJECTS[0])).not.toBe(subjectHmac(keys, SUBJECTS[1]));
    expect(subjectHmac(keys, SUBJECTS[0])).toMatch(/^[0-9a-f]{64}$/);
    const otherKeys = parseSubjectKeys({ ...raw, subjectHmacKey: randomBytes(32).toString('base64') });
    expect(subjectHmac(otherKeys, SUBJECTS[0])).not.toBe(subjectHmac(keys, SUBJECTS[0]));
  });

  it('refuses a changed ciphertext, or one paired with another subject hash', () => {
    const { subjectEnc, subjectHmac: hmac } = protectSubject(keys, SUBJECTS[0]);
    const bytes = Buffer.from(subjectEnc.slice(3), 'base64url');
    bytes[14] = bytes[14]! ^ 1;
    expect(() => decryptSubject(keys, `v1.${bytes.toString('base64url')}`, hmac)).toThrow(SubjectDecryptionError);
    expect(() => decryptSubject(keys, subjectEnc, subjectHmac(keys, SUBJECTS[1]))).toThrow(SubjectDecryptionError);
    expect(() => decryptSubject(keys, 'v2.abc', hmac)).toThrow(SubjectDecryptionError);
    expect(() => decryptSubject(keys, 'v1.abc', hmac)).toThrow(SubjectDecryptionError);
  });

  it.each([
    ['not base64', { ...raw, subjectEncryptionKey: 'not base64!' }, 'subjectEncryptionKey', 'NOT_BASE64'],
    ['empty', { ...raw, subjectHmacKey: '' }, 'subjectHmacKey', 'NOT_BASE64'],
    ['not a string', { ...raw, subjectHmacKey: 42 }, 'subjectHmacKey', 'NOT_BASE64'],
    ['16 bytes', { ...raw, subjectEncryptionKey: randomBytes(16).toString('base64') }, 'subjectEncryptionKey', 'WRONG_LENGTH'],
    ['33 bytes', { ...raw, subjectHmacKey: randomBytes(33).toString('base64') }, 'subjectHmacKey', 'WRONG_LENGTH'],
    ['the same key twice', { ...raw, subjectHmacKey: raw.subjectEncryptionKey }, 'subjectHmacKey', 'SAME_KEY'],
  ] as const)('refuses a key that is %s, naming it', (_name, input, keyName, problem) => {
    let caught: unknown;
    try {
      parseSubjectKeys(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SubjectKeyError);
    expect(caught).toMatchObject({ keyName, problem });
    expect((caught as Error).message).not.toContain(raw.subjectEncryptionKey);
  });
});
