import forge from 'node-forge';
import { derBytes, readDerChildren, readDerElement, type DerElement } from './der.js';
import { OID } from './oids.js';

/**
 * The parts of a certificate the federation's identity rules read, taken straight from the DER.
 * Node's X509Certificate prints the subject as text (escaping and ordering are OpenSSL's) and
 * node-forge refuses certificates with non-RSA keys, so neither is used for this.
 */
export interface CertificateFields {
  /** Subject attribute values by OID, in certificate order. */
  readonly subject: ReadonlyMap<string, readonly string[]>;
  /** Encoded subject name, as a CRL's issuer field must repeat it. */
  readonly subjectDer: Buffer;
  /** Encoded issuer name: with the serial number, what identifies a certificate in a CRL. */
  readonly issuerDer: Buffer;
  /** Key purpose OIDs of the extended key usage extension; undefined when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | undefined;
}

const TAG = { sequence: 0x30, set: 0x31, oid: 0x06, boolean: 0x01, octetString: 0x04, utf8: 0x0c, printable: 0x13, teletex: 0x14, ia5: 0x16, bmp: 0x1e, extensions: 0xa3, version: 0xa0 };

function expect(element: DerElement | undefined, tag: number, what: string): DerElement {
  if (!element || element.tag !== tag) throw new Error(`Certificate: ${what} is missing or malformed.`);
  return element;
}

function decodeOid(der: Uint8Array, element: DerElement): string {
  return forge.asn1.derToOid(forge.util.binary.raw.encode(der.subarray(element.contentStart, element.end)));
}

function decodeString(der: Uint8Array, element: DerElement): string {
  const content = Buffer.from(der.subarray(element.contentStart, element.end));
  switch (element.tag) {
    case TAG.utf8:
      return content.toString('utf8');
    case TAG.bmp:
      return Buffer.from(content).swap16().toString('utf16le');
    case TAG.printable:
    case TAG.ia5:
    case TAG.teletex:
      return content.toString('latin1');
    default:
      throw new Error('Certificate: a name attribute has an unsupported string type.');
  }
}

function readName(der: Uint8Array, name: DerElement): Map<string, string[]> {
  const attributes = new Map<string, string[]>();
  for (const rdn of readDerChildren(der, expect(name, TAG.sequence, 'name'))) {
    for (const attribute of readDerChildren(der, expect(rdn, TAG.set, 'name component'))) {
      const [type, value] = readDerChildren(der, expect(attribute, TAG.sequence, 'name attribute'));
      const oid = decodeOid(der, expect(type, TAG.oid, 'attribute type'));
      if (!value) throw new Error('Certificate: a name attribute has no value.');
      attributes.set(oid, [...(attributes.get(oid) ?? []), decodeString(der, value)]);
    }
  }
  return attributes;
}

function readExtendedKeyUsage(der: Uint8Array, extensions: DerElement | undefined): string[] | undefined {
  if (!extensions) return undefined;
  const [list] = readDerChildren(der, extensions);
  for (const extension of readDerChildren(der, expect(list, TAG.sequence, 'extensions'))) {
    const parts = readDerChildren(der, expect(extension, TAG.sequence, 'extension'));
    const oid = decodeOid(der, expect(parts[0], TAG.oid, 'extension id'));
    if (oid !== OID.extKeyUsage) continue;
    const value = expect(parts[parts.length - 1], TAG.octetString, 'extension value');
    const purposes = readDerElement(der, value.contentStart);
    return readDerChildren(der, expect(purposes, TAG.sequence, 'extended key usage')).map((purpose) => decodeOid(der, expect(purpose, TAG.oid, 'key purpose')));
  }
  return undefined;
}

export function readCertificateFields(certificateDer: Uint8Array): CertificateFields {
  const certificate = expect(readDerElement(certificateDer, 0), TAG.sequence, 'certificate');
  const [tbs] = readDerChildren(certificateDer, certificate);
  const fields = readDerChildren(certificateDer, expect(tbs, TAG.sequence, 'tbsCertificate'));
  // The version field is optional (absent means v1), which shifts every later position by one.
  const base = fields[0]?.tag === TAG.version ? 1 : 0;
  const subject = expect(fields[base + 4], TAG.sequence, 'subject');
  const issuer = expect(fields[base + 2], TAG.sequence, 'issuer');
  return {
    subject: readName(certificateDer, subject),
    subjectDer: derBytes(certificateDer, subject),
    issuerDer: derBytes(certificateDer, issuer),
    extendedKeyUsage: readExtendedKeyUsage(
      certificateDer,
      fields.find((field) => field.tag === TAG.extensions),
    ),
  };
}
