import { generateKeyPairSync, createSecretKey, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyCompactJws, type JwsProblem } from '../../src/identity/compactJws.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const PAYLOAD = '{"sub":"handlaggare-1"}';
const b64 = (text: string) => Buffer.from(text).toString('base64url');

async function sign(alg: string, key: KeyObject, header: Record<string, unknown> = {}): Promise<string> {
  return new CompactSign(new TextEncoder().encode(PAYLOAD)).setProtectedHeader({ alg, ...header }).sign(key);
}

function problemOf(jws: string, key: KeyObject): JwsProblem | 'VERIFIED' {
  try {
    verifyCompactJws(jws, key);
    return 'VERIFIED';
  } catch (error) {
    return (error as { problem: JwsProblem }).problem;
  }
}

/** The request token's JWS, verified with node:crypto against the client certificate's key: what jose signs, it verifies, and nothing else. */
describe('verifyCompactJws', () => {
  it.each([
    ['RS256', rsa.privateKey, rsa.publicKey],
    ['PS256', rsa.privateKey, rsa.publicKey],
    ['ES256', ec.privateKey, ec.publicKey],
    ['EdDSA', ed.privateKey, ed.publicKey],
  ] as const)('returns the payload of a %s JWS that jose signed', async (alg, privateKey, publicKey) => {
    expect(verifyCompactJws(await sign(alg, privateKey), publicKey).payload.toString()).toBe(PAYLOAD);
  });

  it('refuses another key’s signature and a tampered payload or header', async () => {
    const jws = await sign('RS256', rsa.privateKey);
    const [header, , signature] = jws.split('.');
    expect(problemOf(await sign('RS256', otherRsa.privateKey), rsa.publicKey)).toBe('SIGNATURE_INVALID');
    expect(problemOf(`${header}.${b64('{"sub":"handlaggare-2"}')}.${signature}`, rsa.publicKey)).toBe('SIGNATURE_INVALID');
    expect(problemOf(`${b64('{"alg":"PS256"}')}.${b64(PAYLOAD)}.${signature}`, rsa.publicKey)).toBe('SIGNATURE_INVALID');
  });

  it('refuses algorithms the key cannot have produced: none, HMAC with the public key as secret, another key type', async () => {
    const secret = createSecretKey(rsa.publicKey.export({ format: 'der', type: 'spki' }));
    expect(problemOf(`${b64('{"alg":"none"}')}.${b64(PAYLOAD)}.`, rsa.publicKey)).toBe('ALGORITHM_NOT_ALLOWED');
    expect(problemOf(await sign('HS256', secret), rsa.publicKey)).toBe('ALGORITHM_NOT_ALLOWED');
    expect(problemOf(await sign('ES256', ec.privateKey), rsa.publicKey)).toBe('ALGORITHM_NOT_ALLOWED');
    expect(problemOf(await sign('RS256', rsa.privateKey), ec.publicKey)).toBe('ALGORITHM_NOT_ALLOWED');
  });

  it('refuses critical header extensions, b64 included', async () => {
    expect(problemOf(await sign('RS256', rsa.privateKey, { crit: ['b64'], b64: true }), rsa.publicKey)).toBe('CRITICAL_HEADER');
  });

  it('refuses RSA keys shorter than 2048 bits', async () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const header = b64('{"alg":"RS256"}');
    expect(problemOf(`${header}.${b64(PAYLOAD)}.${b64('x')}`, short.publicKey)).toBe('KEY_TOO_SHORT');
  });

  it('refuses what is not a compact JWS, and signatures of the wrong form', async () => {
    const jws = await sign('ES256', ec.privateKey);
    const [header, payload, signature] = jws.split('.') as [string, string, string];
    expect(problemOf('definitely-not-a-jwt', ec.publicKey)).toBe('MALFORMED');
    expect(problemOf(`${jws}.extra`, ec.publicKey)).toBe('MALFORMED');
    expect(problemOf(`${header}+.${payload}.${signature}`, ec.publicKey)).toBe('MALFORMED');
    expect(problemOf(`${b64('["alg","ES256"]')}.${payload}.${signature}`, ec.publicKey)).toBe('MALFORMED');
    expect(problemOf(`${b64('{"typ":"JWT"}')}.${payload}.${signature}`, ec.publicKey)).toBe('MALFORMED');
    expect(problemOf(`${header}.${payload}.${signature.slice(0, 40)}`, ec.publicKey)).toBe('SIGNATURE_INVALID');
    expect(problemOf(`${header}.${payload}.${signature}!`, ec.publicKey)).toBe('SIGNATURE_INVALID');
    expect(problemOf(`${header}.${payload}.`, ec.publicKey)).toBe('SIGNATURE_INVALID');
  });
});
