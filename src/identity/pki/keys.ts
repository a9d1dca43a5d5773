import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** A key pair as PEM text (PKCS#8 private, SPKI public): the form written to disk and handed to TLS. */
export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/**
 * RSA 2048: node-forge signs certificates with RSA keys only. The keys come from Node's crypto
 * (OpenSSL) rather than forge's pure-JS generator, which takes seconds per key instead of milliseconds.
 */
export function generateRsaKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** The pair for an existing private key PEM (PKCS#8 or PKCS#1). */
export function keyPairFromPrivateKeyPem(privateKeyPem: string): KeyPairPem {
  const privateKey = createPrivateKey(privateKeyPem);
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function forgePrivateKey(pair: KeyPairPem): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(pair.privateKeyPem);
}

export function forgePublicKey(pair: KeyPairPem): forge.pki.rsa.PublicKey {
  return forge.pki.publicKeyFromPem(pair.publicKeyPem) as forge.pki.rsa.PublicKey;
}
