import forge from 'node-forge';
import type { KeyPairPem } from './keys.js';

/**
 * The development password of the PKCS#12 files `npm run certs` writes for officials. Browsers
 * and operating systems ask for a password on import and some refuse an empty one; this one is
 * printed in docs/pki.md because the files are synthetic test identities, never real ones.
 */
export const DEV_PKCS12_PASSWORD = 'dev-officer';

/**
 * A PKCS#12 file (.p12) with the key, the certificate and the CA, for importing a personal
 * certificate into a browser or the operating system's certificate store. 3DES, the algorithm
 * every browser and keychain imports.
 */
export function toPkcs12(options: { readonly keyPair: KeyPairPem; readonly certificatePem: string; readonly caCertificatePem: string; readonly friendlyName: string; readonly password: string }): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(options.keyPair.privateKeyPem),
    [forge.pki.certificateFromPem(options.certificatePem), forge.pki.certificateFromPem(options.caCertificatePem)],
    options.password,
    { algorithm: '3des', friendlyName: options.friendlyName },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
