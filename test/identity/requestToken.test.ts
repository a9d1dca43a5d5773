import { createPrivateKey, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintRequestToken } from '../../src/client/index.js';
import { isGatewayError, type GatewayErrorCode } from '../../src/errors/index.js';
import { certificateThumbprint } from '../../src/identity/clientCertificate.js';
import type { IssuedCertificate } from '../../src/identity/pki/issueCertificate.js';
import { MemoryReplayCache } from '../../src/identity/replayCache.js';
import { REQUIRED_CLAIMS, verifyRequestToken, type RequestTokenVerification } from '../../src/identity/requestToken.js';
import { makePersonnummer } from '../../src/personnummer/index.js';
import { createTestFederation, TEST_AGENCIES, type TestFederation } from './testFederation.js';

const NOW = new Date('2025-03-01T10:00:00Z');
const IAT = Math.floor(NOW.getTime() / 1000);
const SUBJECT = makePersonnummer('1985-04-12', 238);
const OTHER_SUBJECT = makePersonnummer('2001-12-31', 17, 'SAMORDNINGSNUMMER');

let fixture: TestFederation;
/** Försäkringskassan's certificate and key: the connection every token here arrives on. */
let own: { issued: IssuedCertificate; certificate: X509Certificate; key: KeyObject };
/** Skatteverket's, with a different key pair. */
let other: { issued: IssuedCertificate; certificate: X509Certificate; key: KeyObject };

beforeAll(() => {
  fixture = createTestFederation();
  const load = (issued: IssuedCertificate) => ({
    issued,
    certificate: new X509Certificate(issued.certificatePem),
    key: createPrivateKey(issued.keyPair.privateKeyPem),
  });
  own = load(fixture.issue(TEST_AGENCIES.forsakringskassan, { keyPair: fixture.keys[0] }));
  other = load(fixture.issue(TEST_AGENCIES.skatteverket, { keyPair: fixture.keys[1] }));
});
afterAll(() => fixture.cleanup());

function validClaims(): Record<string, unknown> {
  return {
    iss: TEST_AGENCIES.forsakringskassan.organisationNumber,
    sub: 'handlaggare-7f3a',
    aud: 'agency-exchange-gateway',
    iat: IAT,
    exp: IAT + 60,
    jti: crypto.randomUUID(),
    cnf: { 'x5t#S256': certificateThumbprint(own.certificate) },
    purpose: 'CASE_HANDLING',
    case: 'FK-2025-000123',
    subjects: [SUBJECT],
  };
}

async function sign(claims: Record<string, unknown>, key: KeyObject = own.key, alg = 'RS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

function verification(overrides: Partial<RequestTokenVerification> = {}): RequestTokenVerification {
  return {
    certificateThumbprint: certificateThumbprint(own.certificate),
    certificatePublicKey: own.certificate.publicKey,
    agency: fixture.registry.byId('forsakringskassan')!,
    replayCache: new MemoryReplayCache({ now: () => NOW.getTime() }),
    requestId: 'req-1',
    now: NOW,
    ...overrides,
  };
}

async function codeOf(jwt: string | undefined, overrides: Partial<RequestTokenVerification> = {}): Promise<{ code: GatewayErrorCode; claim?: unknown } | 'ACCEPTED'> {
  try {
    await verifyRequestToken(jwt, verification(overrides));
    return 'ACCEPTED';
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    const claim = error.extensions['claim'];
    return { code: error.code, ...(claim === undefined ? {} : { claim }) };
  }
}

const without = (claim: string) => () => {
  const claims = validClaims();
  delete claims[claim];
  return claims;
};
const withClaims = (changes: Record<string, unknown>) => () => ({ ...validClaims(), ...changes });

describe('verifyRequestToken', () => {
  it('accepts a valid token and returns the caller context, subjects canonical and without duplicates', async () => {
    const claims: Record<string, unknown> = { ...validClaims(), subjects: [SUBJECT, `${SUBJECT.slice(0, 8)}-${SUBJECT.slice(8)}`, OTHER_SUBJECT] };
    const caller = await verifyRequestToken(await sign(claims), verification());
    expect(caller).toEqual({
      agency: expect.objectContaining({ id: 'forsakringskassan' }),
      official: 'handlaggare-7f3a',
      purpose: 'CASE_HANDLING',
      caseId: 'FK-2025-000123',
      subjects: [SUBJECT, OTHER_SUBJECT],
      requestId: 'req-1',
      certificateThumbprint: certificateThumbprint(own.certificate),
      tokenId: claims['jti'],
    });
  });

  it('accepts what mintRequestToken makes from the certificate and key files', async () => {
    const jwt = await mintRequestToken({
      certificate: own.issued.certificatePem,
      privateKey: own.issued.keyPair.privateKeyPem,
      official: 'handlaggare-7f3a',
      purpose: 'PAYMENT_CONTROL',
      caseId: 'FK-1',
      subjects: [SUBJECT],
      now: NOW,
    });
    expect((await verifyRequestToken(jwt, verification())).purpose).toBe('PAYMENT_CONTROL');
  });

  it('accepts PS256 from an RSA certificate key', async () => {
    expect(await codeOf(await sign(validClaims(), own.key, 'PS256'))).toBe('ACCEPTED');
  });

  it.each<[string, () => Record<string, unknown>, { code: GatewayErrorCode; claim?: string }]>([
    ['issuer is another organisation', withClaims({ iss: TEST_AGENCIES.skatteverket.organisationNumber }), { code: 'TOKEN_ISSUER_MISMATCH' }],
    ['bound to another certificate', () => ({ ...validClaims(), cnf: { 'x5t#S256': certificateThumbprint(other.certificate) } }), { code: 'TOKEN_NOT_BOUND' }],
    ['cnf without x5t#S256', withClaims({ cnf: { jkt: 'abc' } }), { code: 'TOKEN_NOT_BOUND' }],
    ['expired', withClaims({ iat: IAT - 200, exp: IAT - 100 }), { code: 'TOKEN_EXPIRED' }],
    ['lifetime over five minutes', withClaims({ exp: IAT + 301 }), { code: 'TOKEN_LIFETIME_TOO_LONG' }],
    ['issued in the future', withClaims({ iat: IAT + 120, exp: IAT + 180 }), { code: 'TOKEN_INVALID_CLAIM', claim: 'iat' }],
    ['exp before iat', withClaims({ exp: IAT - 1 }), { code: 'TOKEN_INVALID_CLAIM', claim: 'exp' }],
    ['iat not a number', withClaims({ iat: 'now' }), { code: 'TOKEN_INVALID_CLAIM', claim: 'iat' }],
    ['another audience', withClaims({ aud: 'some-other-api' }), { code: 'TOKEN_INVALID_CLAIM', claim: 'aud' }],
    ['unknown purpose', withClaims({ purpose: 'CURIOSITY' }), { code: 'TOKEN_INVALID_CLAIM', claim: 'purpose' }],
    ['empty case', withClaims({ case: '  ' }), { code: 'TOKEN_INVALID_CLAIM', claim: 'case' }],
    ['case over 100 characters', withClaims({ case: 'x'.repeat(101) }), { code: 'TOKEN_INVALID_CLAIM', claim: 'case' }],
    ['case with a line break', withClaims({ case: 'A-1\nforged log line' }), { code: 'TOKEN_INVALID_CLAIM', claim: 'case' }],
    ['empty sub', withClaims({ sub: '' }), { code: 'TOKEN_INVALID_CLAIM', claim: 'sub' }],
    ['sub is a personnummer', withClaims({ sub: SUBJECT }), { code: 'TOKEN_INVALID_CLAIM', claim: 'sub' }],
    ['subject with a wrong check digit', withClaims({ subjects: [`${SUBJECT.slice(0, 11)}${(Number(SUBJECT[11]) + 1) % 10}`] }), { code: 'TOKEN_INVALID_CLAIM', claim: 'subjects' }],
    ['ten-digit subject', withClaims({ subjects: [SUBJECT.slice(2)] }), { code: 'TOKEN_INVALID_CLAIM', claim: 'subjects' }],
    ['no subjects', withClaims({ subjects: [] }), { code: 'TOKEN_INVALID_CLAIM', claim: 'subjects' }],
    ['over 100 subjects', withClaims({ subjects: Array.from({ length: 101 }, (_, i) => makePersonnummer('1970-01-01', i)) }), { code: 'TOKEN_INVALID_CLAIM', claim: 'subjects' }],
    ['subjects not an array', withClaims({ subjects: SUBJECT }), { code: 'TOKEN_INVALID_CLAIM', claim: 'subjects' }],
    ['empty jti', withClaims({ jti: '' }), { code: 'TOKEN_INVALID_CLAIM', claim: 'jti' }],
    ...REQUIRED_CLAIMS.map((claim): [string, () => Record<string, unknown>, { code: GatewayErrorCode; claim: string }] => [`missing ${claim}`, without(claim), { code: 'TOKEN_MISSING_CLAIM', claim }]),
  ])('refuses a token: %s', async (_name, claims, expected) => {
    expect(await codeOf(await sign(claims()))).toEqual(expected);
  });

  // The official and the case are kept in plain text in every access-log entry: no spelling of a
  // personnummer may get one there. SUBJECT is 1985-04-12, serial 238 (a synthetic number).
  const SPELLINGS: ReadonlyArray<readonly [string, string]> = [
    ['twelve digits', SUBJECT],
    ['YYYYMMDD-NNNC', `${SUBJECT.slice(0, 8)}-${SUBJECT.slice(8)}`],
    ['ten digits', SUBJECT.slice(2)],
    ['YYMMDD-NNNC', `${SUBJECT.slice(2, 8)}-${SUBJECT.slice(8)}`],
    ['YYMMDD+NNNC (over a hundred)', `${SUBJECT.slice(2, 8)}+${SUBJECT.slice(8)}`],
    ['with a space', `${SUBJECT.slice(0, 8)} ${SUBJECT.slice(8)}`],
    ['inside other words', `pnr ${SUBJECT} (mor)`],
    ['a samordningsnummer', OTHER_SUBJECT],
  ];
  it.each(SPELLINGS.flatMap(([spelling, value]) => (['sub', 'case'] as const).map((claim) => [claim, spelling, value] as const)))(
    'refuses a %s carrying a personnummer: %s',
    async (claim, _spelling, value) => {
      expect(await codeOf(await sign(withClaims({ [claim]: value })()))).toEqual({ code: 'TOKEN_INVALID_CLAIM', claim });
    },
  );

  it.each(['FK-2025-000123', 'SOC 2025/4711', 'handlaggare-7f3a', '20251201-0001', '1234567890123'])('takes a case or official id with digits that are no personnummer: %s', async (value) => {
    expect(await codeOf(await sign(withClaims({ case: value, sub: value })()))).toBe('ACCEPTED');
  });

  it('never echoes a subject personnummer in the error', async () => {
    const bad = `${SUBJECT.slice(0, 11)}${(Number(SUBJECT[11]) + 1) % 10}`;
    const error: unknown = await verifyRequestToken(await sign(withClaims({ subjects: [SUBJECT, bad] })()), verification()).catch((e: unknown) => e);
    if (!isGatewayError(error)) throw new Error('expected a GatewayError');
    expect(error.extensions).toMatchObject({ code: 'TOKEN_INVALID_CLAIM', claim: 'subjects', index: 1 });
    expect(JSON.stringify(error.toFormatted())).not.toContain(bad.slice(2, 8));
  });

  it.each<[string, () => Promise<string | undefined>, GatewayErrorCode]>([
    ['signed with another agency’s key', () => sign(validClaims(), other.key), 'TOKEN_SIGNATURE_INVALID'],
    [
      'signed with HS256 using the public key as secret',
      () => sign(validClaims(), createSecretKey(own.certificate.publicKey.export({ format: 'der', type: 'spki' })), 'HS256'),
      'TOKEN_SIGNATURE_INVALID',
    ],
    ['unsigned (alg none)', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(validClaims())).toString('base64url')}.`, 'TOKEN_SIGNATURE_INVALID'],
    [
      'with a tampered payload',
      async () => {
        const [header, , signature] = (await sign(validClaims())).split('.');
        return `${header}.${Buffer.from(JSON.stringify({ ...validClaims(), purpose: 'STATISTICS' })).toString('base64url')}.${signature}`;
      },
      'TOKEN_SIGNATURE_INVALID',
    ],
    ['not a JWT', async () => 'definitely-not-a-jwt', 'TOKEN_INVALID'],
    ['absent', async () => undefined, 'TOKEN_MISSING'],
  ])('refuses a token %s', async (_name, jwt, code) => {
    expect(await codeOf(await jwt())).toMatchObject({ code });
  });

  it('refuses a replayed jti for the token’s whole lifetime, and only then forgets it', async () => {
    let clock = NOW.getTime();
    const replayCache = new MemoryReplayCache({ now: () => clock });
    const jwt = await sign(validClaims());
    expect(await codeOf(jwt, { replayCache })).toBe('ACCEPTED');
    expect(await codeOf(jwt, { replayCache })).toEqual({ code: 'TOKEN_REPLAYED' });
    clock += 85_000; // past exp (60 s) but inside the 30 s tolerance
    expect(await codeOf(jwt, { replayCache, now: new Date(clock) })).toEqual({ code: 'TOKEN_REPLAYED' });
    clock += 20_000;
    expect(await codeOf(jwt, { replayCache, now: new Date(clock) })).toEqual({ code: 'TOKEN_EXPIRED' });
  });

  it('does not use up the jti of a token it refuses', async () => {
    const replayCache = new MemoryReplayCache({ now: () => NOW.getTime() });
    const claims = validClaims();
    expect(await codeOf(await sign({ ...claims, purpose: 'CURIOSITY' }), { replayCache })).toMatchObject({ code: 'TOKEN_INVALID_CLAIM' });
    expect(replayCache.size).toBe(0);
  });

  it('checks the audience the gateway is configured with', async () => {
    const jwt = await sign(withClaims({ aud: ['gateway.test', 'other'] })());
    expect(await codeOf(jwt, { audience: 'gateway.test' })).toBe('ACCEPTED');
  });
});

describe('MemoryReplayCache', () => {
  it('refuses a remembered id, fails closed when full, and forgets ids once they expire', async () => {
    let clock = 0;
    const cache = new MemoryReplayCache({ now: () => clock, maxEntries: 2 });
    const claim = (id: string, until: number) => cache.claim({ id, issuedAt: new Date(0), acceptableUntil: new Date(until), clockToleranceMs: 30_000 });
    expect(await claim('a', 1_000)).toBe(true);
    expect(await claim('b', 50_000)).toBe(true);
    expect(await claim('b', 50_000)).toBe(false);
    await expect(claim('c', 50_000)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    clock = 2_000;
    expect(await claim('c', 50_000)).toBe(true);
    expect(cache.size).toBe(2);
    cache.forget('c');
    expect(await claim('c', 50_000)).toBe(true);
  });
});
