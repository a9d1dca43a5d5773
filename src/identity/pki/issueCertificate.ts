import forge from 'node-forge';
import { forgePrivateKey, forgePublicKey, generateRsaKeyPair, type KeyPairPem } from './keys.js';
import { OID } from './oids.js';
import { normaliseSerialNumber, randomSerialNumber } from './serialNumbers.js';

/** One attribute of a subject name. `utf8` for free text such as Swedish agency names (å, ä, ö). */
export interface NameAttribute {
  readonly oid: string;
  readonly value: string;
  readonly utf8?: boolean;
}

/**
 * What a certificate may be used for. Each profile carries exactly one extended key usage, so a
 * server certificate cannot be presented as an agency's client certificate and the reverse.
 */
export type CertificateProfile = { readonly kind: 'client' } | { readonly kind: 'server'; readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] };

export interface CertificateAuthority {
  readonly certificatePem: string;
  readonly keyPair: KeyPairPem;
}

export interface IssuedCertificate {
  readonly certificatePem: string;
  readonly keyPair: KeyPairPem;
  /** Normalised upper-case hex, as CRL entries and Node's X509Certificate compare it. */
  readonly serialNumber: string;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Validity starting a minute in the past, so a peer whose clock is slightly behind accepts a fresh certificate. */
export function validityFor(days: number, notBefore: Date = new Date(Date.now() - 60_000)): Validity {
  if (!Number.isFinite(days) || days <= 0) throw new RangeError('A certificate is valid for a positive number of days.');
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

function forgeAttributes(attributes: readonly NameAttribute[]): forge.pki.CertificateField[] {
  return attributes.map((attribute) => ({
    type: attribute.oid,
    value: attribute.value,
    // forge reads this as the universal string type (asn1.Type); @types/node-forge declares it as asn1.Class.
    valueTagClass: (attribute.utf8 ? forge.asn1.Type.UTF8 : forge.asn1.Type.PRINTABLESTRING) as unknown as forge.asn1.Class,
  }));
}

function newCertificate(subject: readonly NameAttribute[], keyPair: KeyPairPem, validity: Validity): forge.pki.Certificate {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forgePublicKey(keyPair);
  certificate.serialNumber = randomSerialNumber();
  certificate.validity.notBefore = validity.notBefore;
  certificate.validity.notAfter = validity.notAfter;
  certificate.setSubject(forgeAttributes(subject));
  return certificate;
}

function toIssued(certificate: forge.pki.Certificate, keyPair: KeyPairPem): IssuedCertificate {
  return {
    certificatePem: forge.pki.certificateToPem(certificate),
    keyPair,
    serialNumber: normaliseSerialNumber(certificate.serialNumber),
  };
}

/** A self-signed root that signs certificates and CRLs and nothing else. */
export function createCertificateAuthority(options: { readonly subject: readonly NameAttribute[]; readonly validity: Validity; readonly keyPair?: KeyPairPem }): CertificateAuthority {
  const keyPair = options.keyPair ?? generateRsaKeyPair();
  const certificate = newCertificate(options.subject, keyPair, options.validity);
  certificate.setIssuer(certificate.subject.attributes);
  certificate.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  certificate.sign(forgePrivateKey(keyPair), forge.md.sha256.create());
  return { certificatePem: forge.pki.certificateToPem(certificate), keyPair };
}

/** Issues an end-entity certificate signed by the CA. A new key pair is generated unless one is given. */
export function issueCertificate(
  ca: CertificateAuthority,
  request: {
    readonly subject: readonly NameAttribute[];
    readonly profile: CertificateProfile;
    readonly validity: Validity;
    readonly keyPair?: KeyPairPem;
  },
): IssuedCertificate {
  const keyPair = request.keyPair ?? generateRsaKeyPair();
  const caCertificate = forge.pki.certificateFromPem(ca.certificatePem);
  const certificate = newCertificate(request.subject, keyPair, request.validity);
  certificate.setIssuer(caCertificate.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    // TLS 1.3 and ECDHE suites only ever sign with the key, so digitalSignature is the one usage needed.
    { name: 'keyUsage', digitalSignature: true, critical: true },
    request.profile.kind === 'client' ? { name: 'extKeyUsage', clientAuth: true } : { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCertificate.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (request.profile.kind === 'server') {
    extensions.push({
      name: 'subjectAltName',
      altNames: [...request.profile.dnsNames.map((value) => ({ type: 2, value })), ...request.profile.ipAddresses.map((ip) => ({ type: 7, ip }))],
    });
  }
  certificate.setExtensions(extensions);
  certificate.sign(forgePrivateKey(ca.keyPair), forge.md.sha256.create());
  return toIssued(certificate, keyPair);
}

/** The common name attribute, for the server and CA subjects that need nothing else. */
export function commonNameSubject(commonName: string, organisation?: string): NameAttribute[] {
  return [{ oid: OID.countryName, value: 'SE' }, ...(organisation ? [{ oid: OID.organizationName, value: organisation, utf8: true }] : []), { oid: OID.commonName, value: commonName, utf8: true }];
}
