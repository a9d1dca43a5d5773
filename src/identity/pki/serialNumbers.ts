import { randomBytes } from 'node:crypto';

/**
 * A fresh certificate serial: 128 random bits as RFC 5280 §4.1.2.2 asks of a CA, as positive
 * hex. The top bit is cleared (a DER INTEGER with it set is negative) and the next one set so
 * the number never starts with zero bytes that tools render differently.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/**
 * One spelling for a serial across forge (lower-case hex), Node's X509Certificate (upper-case)
 * and CRL entries, so comparisons never miss a revoked certificate over letter case or zero padding.
 */
export function normaliseSerialNumber(hex: string): string {
  const digits = hex.replace(/[:\s]/g, '').toUpperCase().replace(/^0+/, '');
  if (!/^[0-9A-F]*$/.test(digits)) throw new TypeError('A serial number is hexadecimal.');
  return digits === '' ? '0' : digits;
}
