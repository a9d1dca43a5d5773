import { createPrivateKey, sign, verify, type X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { readDerChildren, readDerElement, derBytes, pemToDer, derToPem, type DerElement } from './der.js';
import { derBitString, derElement, derNull, derOctetString, derOid, derSequence, derTime, derUnsignedInteger } from './derEncoding.js';
import { readCertificateFields } from './certificateFields.js';
import type { CertificateAuthority } from './issueCertificate.js';
import { OID } from './oids.js';
import { normaliseSerialNumber } from './serialNumbers.js';

/**
 * X.509 v2 certificate revocation lists (RFC 5280 §5). node-forge has no CRL support, so the
 * list is written and read here; OpenSSL (Node's `crl` TLS option) is what must accept it.
 */

export const CRL_PEM_LABEL = 'X509 CRL';

export interface RevocationEntry {
  /** Normalised upper-case hex. */
  readonly serialNumber: string;
  readonly revokedAt: Date;
}

export interface RevocationListContents {
  /** Monotonic CRL number (RFC 5280 §5.2.3), so relying parties can tell a newer list from an older one. */
  readonly crlNumber: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: readonly RevocationEntry[];
}

export interface ParsedRevocationList extends Omit<RevocationListContents, 'nextUpdate'> {
  readonly nextUpdate: Date | undefined;
  readonly issuerDer: Buffer;
  readonly tbsDer: Buffer;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
}

export class RevocationListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RevocationListError';
  }
}

function signatureAlgorithmFor(keyType: string | undefined): { oid: string; identifier: Buffer } {
  if (keyType === 'rsa') return { oid: OID.sha256WithRSAEncryption, identifier: derSequence(derOid(OID.sha256WithRSAEncryption), derNull()) };
  // RFC 5758 §3.2: the ECDSA identifiers carry no parameters at all.
  if (keyType === 'ec') return { oid: OID.ecdsaWithSHA256, identifier: derSequence(derOid(OID.ecdsaWithSHA256)) };
  throw new TypeError(`A CRL cannot be signed with a ${keyType ?? 'unknown'} key here; use RSA or EC.`);
}

/** Writes the list as PEM, signed by the CA that issued the certificates in it. */
export function signRevocationList(ca: CertificateAuthority, contents: RevocationListContents): string {
  const caKey = createPrivateKey(ca.keyPair.privateKeyPem);
  const algorithm = signatureAlgorithmFor(caKey.asymmetricKeyType);
  const [caDer] = pemToDer(ca.certificatePem, 'CERTIFICATE');
  if (!caDer) throw new TypeError('The CA certificate is not PEM.');
  const issuerDer = readCertificateFields(caDer).subjectDer;
  const entries = [...contents.entries].sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime());
  const tbs = derSequence(
    derElement(0x02, Buffer.from([1])), // v2, needed because the list carries extensions
    algorithm.identifier,
    issuerDer,
    derTime(contents.thisUpdate),
    derTime(contents.nextUpdate),
    // RFC 5280 §5.1.2.6: with nothing revoked the field is absent, not an empty sequence.
    ...(entries.length > 0 ? [derSequence(...entries.map((entry) => derSequence(derUnsignedInteger(entry.serialNumber), derTime(entry.revokedAt))))] : []),
    derElement(0xa0, derSequence(derSequence(derOid(OID.crlNumber), derOctetString(derUnsignedInteger(contents.crlNumber.toString(16)))))),
  );
  const signature = sign('sha256', tbs, caKey);
  return derToPem(derSequence(tbs, algorithm.identifier, derBitString(signature)), CRL_PEM_LABEL);
}

function fail(what: string): never {
  throw new RevocationListError(`CRL: ${what}.`);
}

function child(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element || element.tag !== tag) fail(`${what} is missing or malformed`);
  return element;
}

function readTime(der: Uint8Array, element: DerElement): Date {
  const text = Buffer.from(der.subarray(element.contentStart, element.end)).toString('latin1');
  if (element.tag === 0x17) return forge.asn1.utcTimeToDate(text);
  if (element.tag === 0x18) return forge.asn1.generalizedTimeToDate(text);
  fail('a time field has an unexpected type');
}

const isTime = (element: DerElement | undefined): element is DerElement => element?.tag === 0x17 || element?.tag === 0x18;

function readUnsignedHex(der: Uint8Array, element: DerElement): string {
  return Buffer.from(der.subarray(element.contentStart, element.end)).toString('hex');
}

function readCrlNumber(der: Uint8Array, extensions: DerElement | undefined): bigint {
  if (!extensions) return 0n;
  const [list] = readDerChildren(der, extensions);
  for (const extension of readDerChildren(der, child(list, 0x30, 'extensions'))) {
    const parts = readDerChildren(der, child(extension, 0x30, 'extension'));
    const idElement = child(parts[0], 0x06, 'extension id');
    const oid = forge.asn1.derToOid(forge.util.binary.raw.encode(der.subarray(idElement.contentStart, idElement.end)));
    if (oid !== OID.crlNumber) continue;
    const value = child(parts[parts.length - 1], 0x04, 'CRL number');
    return BigInt(`0x${readUnsignedHex(der, child(readDerElement(der, value.contentStart), 0x02, 'CRL number'))}`);
  }
  return 0n;
}

/** Reads a PEM or DER CRL. Does not check the signature: see verifyRevocationListSignature. */
export function parseRevocationList(input: string | Uint8Array): ParsedRevocationList {
  let der: Uint8Array;
  if (typeof input === 'string') {
    const blocks = pemToDer(input, CRL_PEM_LABEL);
    if (blocks.length !== 1 || !blocks[0]) fail(`expected exactly one "${CRL_PEM_LABEL}" PEM block, found ${blocks.length}`);
    der = blocks[0];
  } else der = input;
  try {
    const outer = readDerChildren(der, child(readDerElement(der, 0), 0x30, 'CertificateList'));
    const tbsElement = child(outer[0], 0x30, 'tbsCertList');
    const algorithm = readDerChildren(der, child(outer[1], 0x30, 'signatureAlgorithm'));
    const algorithmOid = child(algorithm[0], 0x06, 'signature algorithm');
    const signatureBits = child(outer[2], 0x03, 'signature');
    const fields = readDerChildren(der, tbsElement);
    let index = fields[0]?.tag === 0x02 ? 1 : 0;
    index += 1; // inner signature algorithm
    const issuer = child(fields[index++], 0x30, 'issuer');
    const thisUpdateElement = fields[index++];
    if (!isTime(thisUpdateElement)) fail('thisUpdate is missing');
    const nextUpdateElement = isTime(fields[index]) ? fields[index++] : undefined;
    const revoked = fields[index]?.tag === 0x30 ? fields[index++] : undefined;
    const extensions = fields[index]?.tag === 0xa0 ? fields[index++] : undefined;
    const entries: RevocationEntry[] = revoked
      ? readDerChildren(der, revoked).map((entry) => {
          const [serial, date] = readDerChildren(der, child(entry, 0x30, 'revoked certificate'));
          if (!isTime(date)) fail('a revocation date is missing');
          return {
            serialNumber: normaliseSerialNumber(readUnsignedHex(der, child(serial, 0x02, 'revoked serial number'))),
            revokedAt: readTime(der, date),
          };
        })
      : [];
    return {
      crlNumber: readCrlNumber(der, extensions),
      thisUpdate: readTime(der, thisUpdateElement),
      nextUpdate: nextUpdateElement ? readTime(der, nextUpdateElement) : undefined,
      entries,
      issuerDer: derBytes(der, issuer),
      tbsDer: derBytes(der, tbsElement),
      signatureAlgorithm: forge.asn1.derToOid(forge.util.binary.raw.encode(der.subarray(algorithmOid.contentStart, algorithmOid.end))),
      signature: Buffer.from(der.subarray(signatureBits.contentStart + 1, signatureBits.end)),
    };
  } catch (error) {
    if (error instanceof RevocationListError) throw error;
    fail(`not a valid DER CertificateList (${(error as Error).message})`);
  }
}

/** True when the list was issued and signed by this CA certificate. */
export function verifyRevocationListSignature(list: ParsedRevocationList, issuer: X509Certificate): boolean {
  if (!readCertificateFields(issuer.raw).subjectDer.equals(list.issuerDer)) return false;
  if (list.signatureAlgorithm !== OID.sha256WithRSAEncryption && list.signatureAlgorithm !== OID.ecdsaWithSHA256) return false;
  try {
    return verify('sha256', list.tbsDer, issuer.publicKey, list.signature);
  } catch {
    return false;
  }
}
