import type { AgencyIdentity } from '../callerContext.js';
import type { RegisteredOfficial } from '../officialRegistry.js';
import type { NameAttribute } from './issueCertificate.js';
import { OID } from './oids.js';

const ORGANISATION_NUMBER = /^(\d{6})-(\d{4})$/;

/**
 * The subject of an agency's client certificate. The organisation number appears twice on
 * purpose: `organizationIdentifier` (ETSI EN 319 412-1, "NTRSE-" + ten digits) is the European
 * form, `serialNumber` the Swedish form some federation CAs put there instead. The verifier reads
 * either and refuses a certificate where they disagree.
 */
export function agencyCertificateSubject(agency: Pick<AgencyIdentity, 'id' | 'name' | 'organisationNumber'>): NameAttribute[] {
  return employerSubject(agency, agency.organisationNumber, `${agency.id} system`);
}

/**
 * The subject of an official's personal certificate, after the Swedish public-sector service
 * credentials (SITHS, Efos): the employer as in an agency certificate (`O`,
 * `organizationIdentifier`), the holder's HSA-id in `serialNumber` in place of the organisation
 * number, and the holder's name as `CN`. See src/identity/hsaId.ts.
 */
export function officialCertificateSubject(official: Pick<RegisteredOfficial, 'hsaId' | 'name'>, agency: Pick<AgencyIdentity, 'name' | 'organisationNumber'>): NameAttribute[] {
  return employerSubject(agency, official.hsaId, official.name);
}

function employerSubject(agency: Pick<AgencyIdentity, 'name' | 'organisationNumber'>, serialNumber: string, commonName: string): NameAttribute[] {
  const match = ORGANISATION_NUMBER.exec(agency.organisationNumber);
  if (!match) throw new TypeError('An organisation number has the form NNNNNN-NNNN.');
  return [
    { oid: OID.countryName, value: 'SE' },
    { oid: OID.organizationName, value: agency.name, utf8: true },
    { oid: OID.organizationIdentifier, value: `NTRSE-${match[1]}${match[2]}` },
    { oid: OID.serialNumber, value: serialNumber },
    { oid: OID.commonName, value: commonName, utf8: true },
  ];
}
