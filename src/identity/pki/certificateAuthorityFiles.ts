import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readCertificateFields } from './certificateFields.js';
import type { CertificateAuthority, IssuedCertificate, NameAttribute } from './issueCertificate.js';
import { keyPairFromPrivateKeyPem } from './keys.js';
import { parseRevocationList, verifyRevocationListSignature, type ParsedRevocationList } from './revocationList.js';
import { OID } from './oids.js';
import { normaliseSerialNumber } from './serialNumbers.js';
import { writeFileAtomically, type FederationFiles } from './federationFiles.js';

/** Reading and checking the PEM files of a federation directory. */

export function readCertificateAuthority(files: FederationFiles): CertificateAuthority {
  for (const file of [files.caCertificate, files.caKey]) {
    if (!existsSync(file)) throw new Error(`${file} does not exist; run \`npm run certs\` first.`);
  }
  return {
    certificatePem: readFileSync(files.caCertificate, 'utf8'),
    keyPair: keyPairFromPrivateKeyPem(readFileSync(files.caKey, 'utf8')),
  };
}

export function writeCertificate(paths: { readonly certificate: string; readonly key: string }, issued: IssuedCertificate | CertificateAuthority): void {
  writeFileAtomically(paths.key, issued.keyPair.privateKeyPem, { secret: true });
  writeFileAtomically(paths.certificate, issued.certificatePem);
}

/** The CRL in the directory when it exists and is signed by this CA; throws when it exists but is not. */
export function readRevocationList(files: FederationFiles, ca: X509Certificate): ParsedRevocationList | undefined {
  if (!existsSync(files.crl)) return undefined;
  const list = parseRevocationList(readFileSync(files.crl, 'utf8'));
  if (!verifyRevocationListSignature(list, ca)) throw new Error(`${files.crl} is not signed by ${files.caCertificate}.`);
  return list;
}

export function serialNumberOfCertificateFile(file: string): string {
  return normaliseSerialNumber(new X509Certificate(readFileSync(file)).serialNumber);
}

/** Why a CA on disk cannot be kept, or undefined when it can. */
export function caProblem(files: FederationFiles, now: Date, renewWithinDays: number): string | undefined {
  if (!existsSync(files.caCertificate) || !existsSync(files.caKey)) return 'missing';
  try {
    const certificate = new X509Certificate(readFileSync(files.caCertificate));
    if (!certificate.ca) return 'not a CA certificate';
    if (!certificate.checkPrivateKey(createPrivateKey(readFileSync(files.caKey)))) return 'key does not match the certificate';
    if (!certificate.verify(certificate.publicKey)) return 'not self-signed';
    return validityProblem(certificate, now, renewWithinDays);
  } catch (error) {
    return `unreadable (${(error as Error).message})`;
  }
}

function validityProblem(certificate: X509Certificate, now: Date, renewWithinDays: number): string | undefined {
  if (new Date(certificate.validFrom) > now) return 'not yet valid';
  if (new Date(certificate.validTo).getTime() - now.getTime() < renewWithinDays * 86_400_000) {
    return new Date(certificate.validTo) <= now ? 'expired' : `expires within ${renewWithinDays} days`;
  }
  return undefined;
}

export interface LeafExpectation {
  readonly usage: 'client' | 'server';
  readonly subject?: readonly NameAttribute[];
  readonly subjectAltNames?: readonly string[];
}

function sameSubject(actual: ReadonlyMap<string, readonly string[]>, expected: readonly NameAttribute[]): boolean {
  const wanted = new Map<string, string[]>();
  for (const attribute of expected) wanted.set(attribute.oid, [...(wanted.get(attribute.oid) ?? []), attribute.value]);
  if (wanted.size !== actual.size) return false;
  return [...wanted].every(([oid, values]) => JSON.stringify(actual.get(oid)) === JSON.stringify(values));
}

/** Why an end-entity certificate on disk cannot be kept, or undefined when it can. */
export function leafProblem(
  paths: { readonly certificate: string; readonly key: string },
  context: { readonly ca: X509Certificate; readonly revoked: ReadonlySet<string>; readonly now: Date; readonly renewWithinDays: number },
  expectation: LeafExpectation,
): string | undefined {
  if (!existsSync(paths.certificate) || !existsSync(paths.key)) return 'missing';
  try {
    const certificate = new X509Certificate(readFileSync(paths.certificate));
    if (!certificate.checkPrivateKey(createPrivateKey(readFileSync(paths.key)))) return 'key does not match the certificate';
    if (!certificate.checkIssued(context.ca) || !certificate.verify(context.ca.publicKey)) return 'not issued by the current CA';
    if (context.revoked.has(normaliseSerialNumber(certificate.serialNumber))) return 'revoked';
    const fields = readCertificateFields(certificate.raw);
    const purpose = expectation.usage === 'client' ? OID.clientAuth : OID.serverAuth;
    if (fields.extendedKeyUsage?.length !== 1 || fields.extendedKeyUsage[0] !== purpose) return `not a ${expectation.usage} certificate`;
    if (expectation.subject && !sameSubject(fields.subject, expectation.subject)) return 'subject differs from the registry';
    const altNames = (certificate.subjectAltName ?? '').split(', ');
    if (expectation.subjectAltNames?.some((name) => !altNames.includes(name))) return 'subject alternative names differ';
    return validityProblem(certificate, context.now, context.renewWithinDays);
  } catch (error) {
    return `unreadable (${(error as Error).message})`;
  }
}
