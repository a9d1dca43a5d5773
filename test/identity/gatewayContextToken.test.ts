import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/index.js';
import {
  allowanceClaimsJson,
  callerClaimsJson,
  signGatewayContext,
  signGatewayContextClaims,
  subgraphRequestHash,
  verifyGatewayContext,
  type SubgraphRequestBody,
} from '../../src/identity/gatewayContextToken.js';
import { MemoryReplayCache } from '../../src/identity/replayCache.js';

/**
 * The subgraph's check of a gateway context token, form by form: every token the gateway did not
 * sign for exactly this subgraph, this request and this moment is refused with its own reason.
 */

const gateway = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const SUBGRAPH = 'skatteverket';
const body: SubgraphRequestBody = { query: '{ _entities(representations: $r) { __typename } }', operationName: null, variables: { r: [{ __typename: 'Person', personnummer: '199001012380' }] } };

const caller = {
  agency: { id: 'malmo-stad', name: 'Malmö stad', organisationNumber: '212000-1124' },
  official: 'tjm-8',
  purpose: 'CASE_HANDLING' as const,
  caseId: 'CASE-1',
  subjects: ['199001012380'],
  requestId: 'req-1',
  certificateThumbprint: 'x5t',
  tokenId: 'tid-1',
};

const validToken = () => signGatewayContext(gateway.privateKey, SUBGRAPH, { caller, protectedIdentityAccess: false, categories: new Set(['IDENTITY']) }, body);

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A token with the given header and claims, ES256-signed by `key`. */
function forge(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject = gateway.privateKey): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const HEADER = { alg: 'ES256', typ: 'gateway-context+jwt' };
const now = () => Math.floor(Date.now() / 1000);

async function reasonFor(token: string | undefined, options: { subgraph?: string; body?: SubgraphRequestBody; replayCache?: MemoryReplayCache } = {}): Promise<string | null> {
  try {
    await verifyGatewayContext(token, {
      publicKey: gateway.publicKey,
      subgraph: options.subgraph ?? SUBGRAPH,
      body: options.body ?? body,
      replayCache: options.replayCache ?? new MemoryReplayCache(),
    });
    return null;
  } catch (error) {
    if (!(error instanceof GatewayError) || error.code !== 'GATEWAY_CONTEXT_INVALID') throw error;
    return String(error.extensions['reason']);
  }
}

describe('a subgraph verifies the gateway context token', () => {
  it('accepts the gateway’s token for this subgraph and request, with the caller and the allowance it carries', async () => {
    const verified = await verifyGatewayContext(validToken(), { publicKey: gateway.publicKey, subgraph: SUBGRAPH, body, replayCache: new MemoryReplayCache() });
    expect(verified.caller).toEqual(caller);
    expect([...verified.categories]).toEqual(['IDENTITY']);
    expect(verified.protectedIdentityAccess).toBe(false);
  });

  it.each([
    ['a WebCrypto key', async () => importJWK(gateway.publicKey.export({ format: 'jwk' }), 'ES256')],
    ['a JWK', async () => gateway.publicKey.export({ format: 'jwk' })],
  ])('takes the public key as %s', async (_form, key) => {
    const verified = await verifyGatewayContext(validToken(), { publicKey: (await key()) as never, subgraph: SUBGRAPH, body, replayCache: new MemoryReplayCache() });
    expect(verified.caller.agency.id).toBe('malmo-stad');
  });

  const hmacWithPublicKey = () => {
    const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'gateway-context+jwt' })).toString('base64url')}.${validToken().split('.')[1]}`;
    return `${input}.${createHmac('sha256', gateway.publicKey.export({ format: 'pem', type: 'spki' }))
      .update(input)
      .digest('base64url')}`;
  };

  it.each<[string, () => string | undefined, string]>([
    ['no token', () => undefined, 'missing'],
    ['not a compact JWS', () => 'not.a-token', 'malformed'],
    ['signed by another key', () => forge(HEADER, claimsOf(validToken()), stranger.privateKey), 'signature'],
    [
      'a payload changed after signing',
      () => {
        const [h, , s] = validToken().split('.');
        return `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(validToken()), cats: ['IDENTITY', 'HEALTH_RELATED'] })).toString('base64url')}.${s}`;
      },
      'signature',
    ],
    ['alg none', () => `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'gateway-context+jwt' })).toString('base64url')}.${validToken().split('.')[1]}.`, 'signature'],
    ['HS256 keyed with the public key', hmacWithPublicKey, 'signature'],
    ['another token type', () => forge({ alg: 'ES256', typ: 'JWT' }, claimsOf(validToken())), 'type'],
    ['another issuer', () => forge(HEADER, { ...claimsOf(validToken()), iss: 'someone-else' }), 'issuer'],
    ['issued for another subgraph', () => forge(HEADER, { ...claimsOf(validToken()), aud: 'csn' }), 'audience'],
    ['expired beyond the clock tolerance', () => forge(HEADER, { ...claimsOf(validToken()), iat: now() - 120, exp: now() - 60 }), 'expired'],
    ['issued in the future', () => forge(HEADER, { ...claimsOf(validToken()), iat: now() + 60, exp: now() + 120 }), 'not-yet-valid'],
    [
      'without iat',
      () => {
        const { iat: _iat, ...claims } = claimsOf(validToken());
        return forge(HEADER, claims);
      },
      'claims',
    ],
    [
      'without its categories',
      () => {
        const { cats: _cats, ...claims } = claimsOf(validToken());
        return forge(HEADER, claims);
      },
      'claims',
    ],
    ['with an unknown category', () => forge(HEADER, { ...claimsOf(validToken()), cats: ['EVERYTHING'] }), 'claims'],
    [
      'without an id',
      () => {
        const { jti: _jti, ...claims } = claimsOf(validToken());
        return forge(HEADER, claims);
      },
      'claims',
    ],
  ])('refuses %s', async (_form, token, reason) => {
    expect(await reasonFor(token())).toBe(reason);
  });

  it('refuses a token sent with another request than the one it was signed for', async () => {
    expect(await reasonFor(validToken(), { body: { ...body, variables: { r: [{ __typename: 'Person', personnummer: '198507152391' }] } } })).toBe('binding');
    expect(await reasonFor(validToken(), { body: { ...body, query: '{ _service { sdl } }' } })).toBe('binding');
  });

  it('accepts a token once', async () => {
    const replayCache = new MemoryReplayCache();
    const token = validToken();
    expect(await reasonFor(token, { replayCache })).toBeNull();
    expect(await reasonFor(token, { replayCache })).toBe('replayed');
  });

  it('binds by the query’s digest and the variables, the same on both sides', () => {
    expect(subgraphRequestHash(body)).toBe(claimsOf(validToken())['bh']);
    expect(subgraphRequestHash({ ...body, variables: {} })).not.toBe(claimsOf(validToken())['bh']);
  });

  it('hashes variables the gateway serialised once for the body as it hashes them parsed', () => {
    const forms: SubgraphRequestBody[] = [
      body,
      { ...body, operationName: 'Fetch"1' },
      { query: body.query, variables: { r: [{ text: 'Å "quoted" \u2028 line', n: 1.5, none: null }], dropped: undefined } },
      { query: body.query, variables: null, operationName: null },
      { query: body.query },
    ];
    for (const form of forms) {
      const variablesJson = form.variables === undefined ? undefined : JSON.stringify(form.variables);
      expect(subgraphRequestHash(form, variablesJson)).toBe(subgraphRequestHash(form));
    }
  });

  it('signs the claims serialised once per request and allowance exactly as it signs the whole context', async () => {
    const context = { caller, protectedIdentityAccess: true, categories: new Set(['IDENTITY', 'ADDRESS_CONTACT'] as const), provided: new Set(['Person.name']) };
    const whole = claimsOf(signGatewayContext(gateway.privateKey, SUBGRAPH, context, body));
    const token = signGatewayContextClaims(gateway.privateKey, SUBGRAPH, `${callerClaimsJson(caller)},${allowanceClaimsJson(context)}`, subgraphRequestHash(body));
    const parts = claimsOf(token);
    expect(Object.keys(parts)).toEqual(Object.keys(whole));
    expect({ ...parts, jti: 'id', iat: 0, exp: 0 }).toEqual({ ...whole, jti: 'id', iat: 0, exp: 0 });
    expect(await reasonFor(token)).toBeNull();
  });
});
