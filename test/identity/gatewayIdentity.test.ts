import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agencyCertificateSubject } from '../../src/identity/pki/agencySubject.js';
import { commonNameSubject, createCertificateAuthority, issueCertificate, validityFor } from '../../src/identity/pki/issueCertificate.js';
import { issueAgencyCertificateFiles, revokeSerialNumber } from '../../src/identity/pki/devFederation.js';
import { certificateThumbprint } from '../../src/identity/index.js';
import { signGatewayContext } from '../../src/identity/gatewayContextToken.js';
import { createContextSigner } from '../../src/gateway/contextSigner.js';
import { CATEGORIES } from '../../src/policy/purposes.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';

const catalogue = readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
import { startStack, type Stack } from '../support/stack.js';

/**
 * Identity end to end, over real TLS to the running gateway: every way to present a wrong
 * certificate or token gets its own code, and none gets data.
 */
interface Credentials {
  readonly cert: string;
  readonly key: string;
}

const QUERY = 'query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }';

let stack: Stack;
let malmo: Credentials;
let skatteverket: Credentials;
beforeAll(async () => {
  stack = await startStack({ persons: 300 });
  const read = (id: string): Credentials => ({
    cert: readFileSync(path.join(stack.certsDir, 'agencies', `${id}.crt`), 'utf8'),
    key: readFileSync(path.join(stack.certsDir, 'agencies', `${id}.key`), 'utf8'),
  });
  malmo = read('malmo-stad');
  skatteverket = read('skatteverket');
});
afterAll(async () => {
  await stack?.close();
});

interface TokenOptions {
  readonly signedWith?: Credentials;
  readonly boundTo?: Credentials;
  readonly issuer?: string;
  readonly iat?: number;
  readonly exp?: number;
  readonly jti?: string;
  readonly omit?: string;
}

async function token(holder: Credentials, options: TokenOptions = {}): Promise<string> {
  const boundTo = new X509Certificate((options.boundTo ?? holder).cert);
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: options.issuer ?? '212000-1124',
    sub: 'handlaggare-42',
    aud: 'agency-exchange-gateway',
    iat,
    exp: options.exp ?? iat + 60,
    jti: options.jti ?? randomUUID(),
    cnf: { 'x5t#S256': certificateThumbprint(boundTo) },
    purpose: 'CASE_HANDLING',
    case: 'SOC-2026-0099',
    subjects: [stack.sample.withBenefits],
  };
  if (options.omit) delete claims[options.omit];
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(createPrivateKey((options.signedWith ?? holder).key));
}

async function call(url: string, credentials: Credentials | null, bearer: string | null, body: unknown = { query: QUERY, variables: { p: stack.sample.withBenefits } }) {
  const agent = new Agent({
    connect: { ca: readFileSync(path.join(stack.certsDir, 'ca.crt')), ...(credentials ?? {}) },
  });
  try {
    const response = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: JSON.parse(text) as { data?: unknown; errors?: Array<{ extensions?: { code?: string; reason?: string } }> } };
  } finally {
    await agent.close();
  }
}

/** A registered agency's development certificate, and a token it signs in its own organisation number's name. */
async function registeredAgency(id: string): Promise<{ credentials: Credentials; bearer: string }> {
  const credentials = {
    cert: readFileSync(path.join(stack.certsDir, 'agencies', `${id}.crt`), 'utf8'),
    key: readFileSync(path.join(stack.certsDir, 'agencies', `${id}.key`), 'utf8'),
  };
  const issuer = /serialNumber=([\d-]+)/.exec(new X509Certificate(credentials.cert).subject.replace(/\n/g, ','))?.[1] ?? '';
  return { credentials, bearer: await token(credentials, { issuer }) };
}

function issueFromFederation(agency: { id: string; name: string; organisationNumber: string }, options: { days?: number; notBefore?: Date } = {}): Credentials {
  const issued = issueAgencyCertificateFiles({
    dir: stack.certsDir,
    agency: { ...agency, roles: ['CLIENT'], status: 'ACTIVE' },
    outDir: path.join(stack.dir, 'extra-certs', randomUUID()),
    ...options,
  });
  return { cert: issued.certificatePem, key: issued.keyPair.privateKeyPem };
}

const MALMO = { id: 'malmo-stad', name: 'Malmö stad', organisationNumber: '212000-1124' };

describe('the gateway refuses every wrong identity with its own code and no data', () => {
  const cases: ReadonlyArray<readonly [string, () => Promise<{ credentials: Credentials; bearer: string | null }>, number, string | null]> = [
    ['a valid agency certificate and bound token', async () => ({ credentials: malmo, bearer: await token(malmo) }), 200, null],
    [
      'a certificate from another CA',
      async () => {
        const otherCa = createCertificateAuthority({ subject: commonNameSubject('Someone else root CA'), validity: validityFor(30) });
        const issued = issueCertificate(otherCa, { subject: agencyCertificateSubject({ ...MALMO }), profile: { kind: 'client' }, validity: validityFor(30) });
        const credentials = { cert: issued.certificatePem, key: issued.keyPair.privateKeyPem };
        return { credentials, bearer: await token(credentials) };
      },
      401,
      'CLIENT_CERTIFICATE_UNTRUSTED',
    ],
    [
      'an expired certificate',
      async () => {
        const credentials = issueFromFederation(MALMO, { days: 10, notBefore: new Date(Date.now() - 40 * 86_400_000) });
        return { credentials, bearer: await token(credentials) };
      },
      401,
      'CLIENT_CERTIFICATE_EXPIRED',
    ],
    [
      'a certificate not yet valid',
      async () => {
        const credentials = issueFromFederation(MALMO, { days: 10, notBefore: new Date(Date.now() + 5 * 86_400_000) });
        return { credentials, bearer: await token(credentials) };
      },
      401,
      'CLIENT_CERTIFICATE_NOT_YET_VALID',
    ],
    [
      'an organisation the registry does not know',
      async () => {
        const credentials = issueFromFederation({ id: 'okand-ab', name: 'Okänd AB', organisationNumber: '556000-0001' });
        return { credentials, bearer: await token(credentials, { issuer: '556000-0001' }) };
      },
      401,
      'AGENCY_NOT_REGISTERED',
    ],
    ['a suspended agency', () => registeredAgency('test-suspended'), 401, 'AGENCY_SUSPENDED'],
    [
      // IMY holds SUPERVISOR only: it audits the exchange and asks it for no one's data.
      'an agency without the CLIENT role',
      () => registeredAgency('imy'),
      403,
      'ROLE_NOT_ALLOWED',
    ],
    ['no token', async () => ({ credentials: malmo, bearer: null }), 401, 'TOKEN_MISSING'],
    ['a token signed by another agency’s key', async () => ({ credentials: malmo, bearer: await token(malmo, { signedWith: skatteverket }) }), 401, 'TOKEN_SIGNATURE_INVALID'],
    ['a token bound to another certificate', async () => ({ credentials: malmo, bearer: await token(malmo, { boundTo: skatteverket }) }), 401, 'TOKEN_NOT_BOUND'],
    ['a token issued in another organisation’s name', async () => ({ credentials: malmo, bearer: await token(malmo, { issuer: '202100-5448' }) }), 401, 'TOKEN_ISSUER_MISMATCH'],
    [
      'an expired token',
      async () => {
        const iat = Math.floor(Date.now() / 1000) - 600;
        return { credentials: malmo, bearer: await token(malmo, { iat, exp: iat + 120 }) };
      },
      401,
      'TOKEN_EXPIRED',
    ],
    [
      'a token living longer than five minutes',
      async () => {
        const iat = Math.floor(Date.now() / 1000);
        return { credentials: malmo, bearer: await token(malmo, { iat, exp: iat + 3600 }) };
      },
      401,
      'TOKEN_LIFETIME_TOO_LONG',
    ],
    ...(['purpose', 'case', 'subjects', 'sub', 'jti', 'cnf'] as const).map(
      (claim) => [`a token without ${claim}`, async () => ({ credentials: malmo, bearer: await token(malmo, { omit: claim }) }), 401, 'TOKEN_MISSING_CLAIM'] as const,
    ),
  ];

  it.each(cases)('%s', async (_name, setup, status, code) => {
    const { credentials, bearer } = await setup();
    const before = stack.queryCounts();
    const response = await call(stack.gateway.url, credentials, bearer);
    expect(response.status).toBe(status);
    if (code === null) {
      expect(response.body.errors).toBeUndefined();
      return;
    }
    expect(response.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(response.body.data ?? null).toBeNull();
    expect(stack.queryCounts()).toEqual(before);
  });

  it('refuses a replayed token', async () => {
    const bearer = await token(malmo);
    expect((await call(stack.gateway.url, malmo, bearer)).status).toBe(200);
    const replay = await call(stack.gateway.url, malmo, bearer);
    expect(replay.status).toBe(401);
    expect(replay.body.errors?.[0]?.extensions?.code).toBe('TOKEN_REPLAYED');
    expect(replay.body.data ?? null).toBeNull();
  });

  it('refuses a certificate revoked after start-up, once the CRL is reloaded, without a restart', async () => {
    const credentials = issueFromFederation(MALMO);
    expect((await call(stack.gateway.url, credentials, await token(credentials))).status).toBe(200);
    revokeSerialNumber({ dir: stack.certsDir, serialNumber: new X509Certificate(credentials.cert).serialNumber });
    expect(stack.deps.trust.reload()).toEqual({ ok: true });
    const response = await call(stack.gateway.url, credentials, await token(credentials));
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('CLIENT_CERTIFICATE_REVOKED');
  });

  it('refuses a connection without a client certificate', async () => {
    const response = await call(stack.gateway.url, null, await token(malmo));
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('CLIENT_CERTIFICATE_REQUIRED');
  });
});

describe('subgraphs accept the gateway only', () => {
  const subgraphUrl = () => stack.subgraphs.get('skatteverket')!.url;
  const entitiesQuery = () => ({
    query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Person { name { givenName } } } }',
    variables: { r: [{ __typename: 'Person', personnummer: stack.sample.withBenefits }] },
  });

  it('refuses an agency certificate, even from the federation CA and with a valid partner token', async () => {
    const response = await call(subgraphUrl(), malmo, await token(malmo), entitiesQuery());
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('CLIENT_CERTIFICATE_UNTRUSTED');
    expect(response.body.data ?? null).toBeNull();
  });

  it('refuses the gateway certificate without the gateway’s signed context', async () => {
    const gateway = {
      cert: readFileSync(path.join(stack.certsDir, 'servers', 'gateway-client.crt'), 'utf8'),
      key: readFileSync(path.join(stack.certsDir, 'servers', 'gateway-client.key'), 'utf8'),
    };
    for (const bearer of [null, await token(malmo)]) {
      const response = await call(subgraphUrl(), gateway, bearer, entitiesQuery());
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('GATEWAY_CONTEXT_INVALID');
      expect(response.body.data ?? null).toBeNull();
    }
  });

  it('refuses a TLS connection without any client certificate', async () => {
    await expect(call(subgraphUrl(), null, null, entitiesQuery())).rejects.toThrow();
  });

  // An attacker holding the gateway's client key and a captured context token (the review's case).
  const gatewayClient = () => ({
    cert: readFileSync(path.join(stack.certsDir, 'servers', 'gateway-client.crt'), 'utf8'),
    key: readFileSync(path.join(stack.certsDir, 'servers', 'gateway-client.key'), 'utf8'),
  });
  const callerFor = (subjects: string[]) => ({
    agency: { id: 'malmo-stad', name: 'Malmö stad', organisationNumber: '212000-1124' },
    official: 'handlaggare-42',
    purpose: 'CASE_HANDLING' as const,
    caseId: 'CTX-1',
    subjects,
    requestId: randomUUID(),
    certificateThumbprint: 't',
    tokenId: randomUUID(),
  });
  const signer = () => createContextSigner({ signingKey: stack.deps.signingKey, agreements: stack.deps.agreements, today: () => new Date().toISOString().slice(0, 10), catalogue: () => catalogue });

  it('accepts a context token once: a captured token is refused when sent again', async () => {
    const body = entitiesQuery();
    const bearer = signer()({ requestId: 'r', caller: callerFor([stack.sample.withBenefits]) }, 'skatteverket', body);
    const first = await call(subgraphUrl(), gatewayClient(), bearer, body);
    expect(first.status).toBe(200);
    expect(first.body.data).toBeTruthy();
    const replay = await call(subgraphUrl(), gatewayClient(), bearer, body);
    expect(replay.status).toBe(401);
    expect(replay.body.errors?.[0]?.extensions).toMatchObject({ code: 'GATEWAY_CONTEXT_INVALID', reason: 'replayed' });
    expect(replay.body.data ?? null).toBeNull();
  });

  it('refuses a context token sent with another request than the one it was signed for', async () => {
    const bearer = signer()({ requestId: 'r', caller: callerFor([stack.sample.withBenefits]) }, 'skatteverket', entitiesQuery());
    const other = { ...entitiesQuery(), query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Person { taxedIncome { year } } } }' };
    const response = await call(subgraphUrl(), gatewayClient(), bearer, other);
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'GATEWAY_CONTEXT_INVALID', reason: 'binding' });
  });

  it('withholds a field whose category no agreement gives the caller, even with a fresh token for exactly that request', async () => {
    const fk = stack.subgraphs.get('forsakringskassan')!.url;
    const subject = stack.sample.withBenefits;
    const body = {
      query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Person { sicknessBenefit { id } benefits { id } } } }',
      variables: { r: [{ __typename: 'Person', personnummer: subject }] },
    };
    const bearer = signer()({ requestId: 'r', caller: callerFor([subject]) }, 'forsakringskassan', body);
    const response = await call(fk, gatewayClient(), bearer, body);
    expect(response.status).toBe(200);
    const entity = (response.body.data as { _entities: Array<Record<string, unknown>> })._entities[0]!;
    expect(entity['sicknessBenefit']).toBeNull();
    expect(entity['benefits']).not.toBeNull();
    expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['NO_AGREEMENT']);
  });

  it("withholds it by the agency's own agreements even when a token claims every category", async () => {
    const fk = stack.subgraphs.get('forsakringskassan')!.url;
    const subject = stack.sample.withBenefits;
    const body = { query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Person { sicknessBenefit { id } } } }', variables: { r: [{ __typename: 'Person', personnummer: subject }] } };
    const forged = signGatewayContext(stack.deps.signingKey.privateKey, 'forsakringskassan', { caller: callerFor([subject]), protectedIdentityAccess: false, categories: new Set(CATEGORIES) }, body);
    const response = await call(fk, gatewayClient(), `${forged}`, body);
    expect((response.body.data as { _entities: Array<Record<string, unknown>> })._entities[0]!['sicknessBenefit']).toBeNull();
    expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['NO_AGREEMENT']);
  });
});
