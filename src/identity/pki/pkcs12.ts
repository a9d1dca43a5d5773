import { existsSync, readFileSync, statSync } from 'node:fs';
import forge from 'node-forge';
import { writeFileAtomically } from './federationFiles.js';

/**
 * PKCS#12 copies of the development agency certificates, for a browser (the development IDE, the
 * audit console): browsers import a certificate with its key as one .p12 file, never as PEM.
 * Development only: the password is fixed and documented (certs/README.md), because it protects
 * nothing a PEM key next to it does not already give away. Triple-DES with a SHA-1 MAC, the one
 * PKCS#12 flavour that Chromium/NSS, Firefox, macOS Keychain, Windows and OpenSSL 3 all import.
 */
export const DEV_PKCS12_PASSWORD = 'development';

export function writePkcs12(file: string, pem: { readonly certificate: string; readonly key: string; readonly caCertificate: string }, friendlyName: string): void {
  const asn1 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(pem.key), [forge.pki.certificateFromPem(pem.certificate), forge.pki.certificateFromPem(pem.caCertificate)], DEV_PKCS12_PASSWORD, {
    algorithm: '3des',
    friendlyName,
  });
  writeFileAtomically(file, Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'), { secret: true });
}

/** The certificate a .p12 file holds with its key, as PEM. */
export function readPkcs12Certificate(file: string): string {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(readFileSync(file).toString('binary'))), DEV_PKCS12_PASSWORD);
  const keyBagType = forge.pki.oids['pkcs8ShroudedKeyBag']!;
  const certBagType = forge.pki.oids['certBag']!;
  const keyBag = p12.getBags({ bagType: keyBagType })[keyBagType]?.[0];
  const localKeyId: unknown = keyBag?.attributes['localKeyId']?.[0];
  const certificates: forge.pkcs12.Bag[] = p12.getBags({ bagType: certBagType })[certBagType] ?? [];
  const leaf = certificates.find((bag) => bag.attributes['localKeyId']?.[0] === localKeyId) ?? certificates[0];
  if (!keyBag?.key || !leaf?.cert) throw new Error(`${file} holds no certificate with its key`);
  return forge.pki.certificateToPem(leaf.cert);
}

/**
 * Why the .p12 made from a certificate and key cannot be kept, or undefined. Make's rule rather
 * than opening it: decrypting a PKCS#12 costs tens of milliseconds per file, on every `npm start`.
 */
export function pkcs12Problem(file: string, sources: { readonly certificate: string; readonly key: string }): string | undefined {
  if (!existsSync(file)) return 'missing';
  const made = statSync(file).mtimeMs;
  return [sources.certificate, sources.key].some((source) => !existsSync(source) || statSync(source).mtimeMs > made) ? 'older than its certificate' : undefined;
}
