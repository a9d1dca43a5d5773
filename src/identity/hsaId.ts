import { OID } from './pki/oids.js';

/**
 * The personal identifier in an official's certificate. Swedish public-sector service
 * credentials (tjänstelegitimation: SITHS e-tjänstekort, Efos) carry the holder's HSA-id in the
 * subject `serialNumber`: "SE", the employer's organisation number (ten digits, or twelve with
 * the prefix 16), "-" and a local part, e.g. `SE2021005448-D0A1`. It names an employee of that
 * organisation, not a citizen (no personnummer), which is why it may be recorded in logs and
 * matched against the officials registry. An agency's system certificate has the organisation
 * number itself in that attribute, so it carries no HSA-id.
 */
const HSA_ID = /^SE(?:16)?(\d{6})(\d{4})-([A-Za-z0-9]{1,31})$/;

export interface HsaId {
  readonly hsaId: string;
  /** The employer, NNNNNN-NNNN. */
  readonly organisationNumber: string;
}

export function parseHsaId(value: string): HsaId | undefined {
  const match = HSA_ID.exec(value.trim());
  if (!match) return undefined;
  return { hsaId: value.trim(), organisationNumber: `${match[1]}-${match[2]}` };
}

export type CertificateHsaId = HsaId | { readonly problem: 'CONFLICTING_HSA_IDS' } | undefined;

/** The HSA-id a certificate subject names, undefined for none; two different ones name nobody. */
export function hsaIdInSubject(subject: ReadonlyMap<string, readonly string[]>): CertificateHsaId {
  const found = new Map<string, HsaId>();
  for (const value of subject.get(OID.serialNumber) ?? []) {
    const parsed = parseHsaId(value);
    if (parsed) found.set(parsed.hsaId, parsed);
  }
  if (found.size > 1) return { problem: 'CONFLICTING_HSA_IDS' };
  return [...found.values()][0];
}
