import { luhnCheckDigit } from '../personnummer/index.js';
import { OID } from './pki/oids.js';

/**
 * Swedish organisationsnummer (Bolagsverket, SKV 709): ten digits written NNNNNN-NNNN, the last
 * one a Luhn check digit over the first nine, as for personnummer.
 */
const WRITTEN_FORM = /^(\d{6})-(\d{4})$/;

export function hasOrganisationNumberForm(value: string): boolean {
  return WRITTEN_FORM.test(value);
}

export function hasValidOrganisationNumberCheckDigit(value: string): boolean {
  const digits = value.replace('-', '');
  return digits.length === 10 && luhnCheckDigit(digits.slice(0, 9)) === Number(digits[9]);
}

/**
 * The organisation number a certificate names, from either attribute form: `NTRSE-NNNNNNNNNN`
 * (organizationIdentifier), `NNNNNN-NNNN` or ten bare digits (serialNumber). Undefined for
 * anything else, including other countries' identifiers.
 */
export function organisationNumberFromCertificateValue(value: string): string | undefined {
  const digits = /^NTRSE-(\d{10})$/.exec(value)?.[1] ?? /^(\d{10})$/.exec(value)?.[1] ?? /^(\d{6})-(\d{4})$/.exec(value)?.slice(1).join('');
  if (!digits) return undefined;
  return `${digits.slice(0, 6)}-${digits.slice(6)}`;
}

export type CertificateOrganisationNumber = { readonly organisationNumber: string } | { readonly problem: 'NO_ORGANISATION_NUMBER' | 'CONFLICTING_ORGANISATION_NUMBERS' };

/**
 * The organisation number a certificate subject names. Both attribute forms are read; when a
 * certificate carries both they must agree, or it names two organisations and proves neither.
 */
export function organisationNumberInSubject(subject: ReadonlyMap<string, readonly string[]>): CertificateOrganisationNumber {
  const found = new Set<string>();
  for (const oid of [OID.organizationIdentifier, OID.serialNumber]) {
    for (const value of subject.get(oid) ?? []) {
      const organisationNumber = organisationNumberFromCertificateValue(value.trim());
      if (organisationNumber) found.add(organisationNumber);
    }
  }
  const [only, ...others] = found;
  if (only === undefined) return { problem: 'NO_ORGANISATION_NUMBER' };
  if (others.length > 0) return { problem: 'CONFLICTING_ORGANISATION_NUMBERS' };
  return { organisationNumber: only };
}
