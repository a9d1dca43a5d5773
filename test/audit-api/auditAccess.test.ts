import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintRequestToken } from '../../src/client/index.js';
import { certificateThumbprint, issueOfficerSession, type VerifiedClientCertificate } from '../../src/identity/index.js';
import { issueOfficialCertificateFiles } from '../../src/identity/pki/devFederation.js';
import { startStack, type Stack } from '../support/stack.js';
import { auditClient, certificateFiles, type Holder } from './auditClient.js';

/**
 * Who may read the access log. The agency's system certificate proves only the agency, and every
 * partner system of the agency holds it: it opens nothing under /audit. An official proves who
 * they are with a personal certificate whose HSA-id the officials registry knows, and an officer
 * token (a session the console opens, or one a script signs) naming the role.
 */

let stack: Stack;
let subject: string;
const ME = `{ me { official role agency { id } } }`;

type Client = ReturnType<typeof auditClient>;
const clients: Client[] = [];
function client(holder: Holder, options: Parameters<typeof auditClient>[2] = {}): Client {
  const made = auditClient(stack, holder, options);
  clients.push(made);
  return made;
}

function codeOf(text: string): string | undefined {
  return (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
}

/** A partner request token, minted with the agency's system certificate as partners do. */
async function partnerToken(agency: string): Promise<string> {
  const files = certificateFiles(stack, { agency });
  return mintRequestToken({
    certificate: readFileSync(files.cert, 'utf8'),
    privateKey: readFileSync(files.key, 'utf8'),
    official: 'handlaggare-1',
    purpose: 'CASE_HANDLING',
    caseId: 'SOC-1',
    subjects: [subject],
  });
}

beforeAll(async () => {
  stack = await startStack({ persons: 200 });
  subject = stack.sample.withBenefits;
  const malmo = stack.client('malmo-stad', { official: 'tjm-1', purpose: 'CASE_HANDLING', caseId: 'SOC-ACCESS-1', subjects: [subject] });
  expect((await malmo.query(`query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }`, { p: subject })).status).toBe(200);
});

afterAll(async () => {
  for (const made of clients) made.close();
  await stack?.close();
});

/** Every route under /audit that reads or hands out anything, as a program calls it. */
const ROUTES: Array<[string, string, string, (body: Record<string, string>) => string, string]> = [
  ['the audit API', 'POST', '/audit/graphql', () => JSON.stringify({ query: ME }), 'application/json'],
  ['the CSV export', 'POST', '/audit/export.csv', (fields) => new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded'],
  ['the citizen report', 'POST', '/audit/citizen-report', (fields) => new URLSearchParams({ ...fields, personnummer: subject }).toString(), 'application/x-www-form-urlencoded'],
  ['the officer session', 'POST', '/audit/session', () => '{}', 'application/json'],
  ['the console page', 'GET', '/audit', () => '', 'application/json'],
  ["the console's script", 'GET', '/audit/console.js', () => '', 'application/json'],
];

describe("an agency's system certificate opens nothing under /audit", () => {
  it.each(ROUTES.flatMap(([name, ...rest]) => ['skatteverket', 'imy'].map((agency) => [name, agency, ...rest] as const)))(
    'refuses %s to the %s system certificate without a token, and with a partner request token (PERSONAL_CERTIFICATE_REQUIRED)',
    async (_name, agency, method, pathname, body, contentType) => {
      const partner = client({ agency }, { tokens: 'none' });
      const token = await partnerToken(agency);
      for (const headers of [{}, { authorization: `Bearer ${token}` }]) {
        const response = await partner.request(method, pathname, method === 'POST' ? body(headers.authorization ? { token } : {}) : undefined, { 'content-type': contentType, ...headers });
        expect(response.status).toBe(401);
        expect(codeOf(response.text)).toBe('PERSONAL_CERTIFICATE_REQUIRED');
      }
    },
  );

  it('shows a person who opens the console with it a page saying what is needed, with the code', async () => {
    const partner = client({ agency: 'skatteverket' }, { tokens: 'none' });
    const response = await partner.request('GET', '/audit', undefined, { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'accept-language': 'sv-SE,sv;q=0.9' });
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['x-error-code']).toBe('PERSONAL_CERTIFICATE_REQUIRED');
    expect(response.text).toMatch(/data-code="PERSONAL_CERTIFICATE_REQUIRED"/);
    expect(response.text).toMatch(/<html lang="sv">/);
    // Its stylesheet is the one public file.
    expect((await partner.request('GET', '/audit/console.css')).status).toBe(200);
  });

  it.each([
    [{ agency: 'test-suspended' }, 401, 'AGENCY_SUSPENDED'],
    [{ official: 'ops-fk-1' }, 403, 'ROLE_NOT_ALLOWED'],
  ] as const)('answers a browser with a human page for certificate and role errors: %j → %i %s', async (holder, status, code) => {
    const response = await client(holder, { tokens: 'none' }).request('GET', '/audit', undefined, { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'accept-language': 'en' });
    expect(response.status).toBe(status);
    expect(response.headers['x-error-code']).toBe(code);
    expect(response.text).toContain(`data-code="${code}"`);
    expect(response.text).toMatch(/<html lang="en">/);
  });
});

describe('the printable report opened in a new tab', () => {
  it.each([
    ['without a session', {}, 401, 'TOKEN_MISSING'],
    ['with an invalid personnummer', { personnummer: '19850314-0000' }, 400, 'BAD_USER_INPUT'],
  ] as const)('answers %s with a page, not JSON', async (_name, fields, status, code) => {
    const officer = client({ official: 'dso-skv-1' }, { tokens: 'none' });
    const token = status === 400 ? (JSON.parse((await officer.openSession()).text) as { token: string }).token : '';
    const response = await officer.request('POST', '/audit/citizen-report', new URLSearchParams({ personnummer: subject, token, ...fields }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-site': 'same-origin',
    });
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toContain(`data-code="${code}"`);
    expect(response.text).not.toContain('19850314');
  });
});

describe('the officer token', () => {
  it('lets a registered privacy officer in with a session the console opens, bound to the personal certificate', async () => {
    const officer = client({ official: 'dso-skv-1' });
    const session = await officer.openSession();
    expect(session.status).toBe(200);
    const opened = JSON.parse(session.text) as { token: string; role: string; official: { id: string }; expiresAt: string };
    expect(opened).toMatchObject({ role: 'PRIVACY_OFFICER', official: { id: 'dso-skv-1' } });
    expect(Date.parse(opened.expiresAt)).toBeGreaterThan(Date.now());
    // A session is reused for its lifetime: bound to the certificate, it is useless without its key.
    for (let i = 0; i < 3; i += 1) {
      const answer = await officer.graphql(ME, {}, { authorization: `Bearer ${opened.token}` });
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({ me: { official: 'dso-skv-1', role: 'PRIVACY_OFFICER', agency: { id: 'skatteverket' } } });
    }
  });

  it("lets a script in with a token the official's certificate key signs, once per token", async () => {
    const script = client({ official: 'imy-insp-1' }, { tokens: 'none', role: 'SUPERVISOR' });
    const token = await script.signedToken();
    const first = await script.graphql(ME, {}, { authorization: `Bearer ${token}` });
    expect(first.data).toEqual({ me: { official: 'imy-insp-1', role: 'SUPERVISOR', agency: { id: 'imy' } } });
    const replayed = await script.graphql(ME, {}, { authorization: `Bearer ${token}` });
    expect(replayed.status).toBe(401);
    expect(replayed.errors?.[0]?.extensions?.code).toBe('TOKEN_REPLAYED');
  });

  it('refuses a personal certificate without a token (TOKEN_MISSING)', async () => {
    const answer = await client({ official: 'dso-skv-1' }, { tokens: 'none' }).graphql(ME);
    expect([answer.status, answer.errors?.[0]?.extensions?.code]).toEqual([401, 'TOKEN_MISSING']);
  });

  it('refuses an official who is not in the registry, with a session or a signed token (OFFICIAL_NOT_REGISTERED)', async () => {
    issueOfficialCertificateFiles({ dir: stack.certsDir, agency: stack.deps.registry.byId('skatteverket')!, official: { id: 'dso-skv-ghost', hsaId: 'SE2021005448-GHOST1', name: 'Okänd Person' } });
    const ghost = client({ official: 'dso-skv-ghost' }, { tokens: 'none' });
    const session = await ghost.openSession();
    expect([session.status, codeOf(session.text)]).toEqual([401, 'OFFICIAL_NOT_REGISTERED']);
    const signed = await ghost.graphql(ME, {}, { authorization: `Bearer ${await ghost.signedToken()}` });
    expect([signed.status, signed.errors?.[0]?.extensions?.code]).toEqual([401, 'OFFICIAL_NOT_REGISTERED']);
  });

  it("refuses a personal certificate whose HSA-id names another employer than the certificate's organisation", async () => {
    issueOfficialCertificateFiles({ dir: stack.certsDir, agency: stack.deps.registry.byId('skatteverket')!, official: { id: 'dso-mixed', hsaId: 'SE2021005521-DSO1', name: 'Blandad Identitet' } });
    const mixed = await client({ official: 'dso-mixed' }, { tokens: 'none' }).openSession();
    expect([mixed.status, codeOf(mixed.text)]).toEqual([401, 'CLIENT_CERTIFICATE_INVALID']);
  });

  it.each([
    ['a privacy officer claiming the supervisor role', { official: 'dso-skv-1' }, 'SUPERVISOR'],
    ['an operator', { official: 'ops-fk-1' }, 'PRIVACY_OFFICER'],
  ] as const)('refuses %s (ROLE_NOT_ALLOWED)', async (_name, holder, role) => {
    const official = client(holder, { tokens: 'none', role });
    const signed = await official.graphql(ME, {}, { authorization: `Bearer ${await official.signedToken()}` });
    expect([signed.status, signed.errors?.[0]?.extensions?.code]).toEqual([403, 'ROLE_NOT_ALLOWED']);
    const session = await official.openSession(role);
    expect([session.status, codeOf(session.text)]).toEqual([403, 'ROLE_NOT_ALLOWED']);
  });

  it("refuses another official's session over one's own certificate (TOKEN_NOT_BOUND), and another's signed token (TOKEN_SIGNATURE_INVALID)", async () => {
    const anna = client({ official: 'dso-skv-1' }, { tokens: 'none' });
    const erik = client({ official: 'dso-csn-1' }, { tokens: 'none' });
    const annasSession = (JSON.parse((await anna.openSession()).text) as { token: string }).token;
    const stolen = await erik.graphql(ME, {}, { authorization: `Bearer ${annasSession}` });
    expect([stolen.status, stolen.errors?.[0]?.extensions?.code]).toEqual([401, 'TOKEN_NOT_BOUND']);
    const signed = await erik.graphql(ME, {}, { authorization: `Bearer ${await anna.signedToken()}` });
    expect([signed.status, signed.errors?.[0]?.extensions?.code]).toEqual([401, 'TOKEN_SIGNATURE_INVALID']);
  });

  it('refuses an expired token, signed or session (TOKEN_EXPIRED), and a session longer than allowed', async () => {
    const officer = client({ official: 'dso-skv-1' }, { tokens: 'none' });
    const expired = await officer.signedToken({ now: new Date(Date.now() - 10 * 60_000), lifetimeSeconds: 60 });
    const answer = await officer.graphql(ME, {}, { authorization: `Bearer ${expired}` });
    expect([answer.status, answer.errors?.[0]?.extensions?.code]).toEqual([401, 'TOKEN_EXPIRED']);

    const certificate = new X509Certificate(readFileSync(certificateFiles(stack, { official: 'dso-skv-1' }).cert));
    const bound = { thumbprint: certificateThumbprint(certificate), agency: stack.deps.registry.byId('skatteverket')!, hsaId: 'SE2021005448-DSO1' } as VerifiedClientCertificate;
    const official = stack.deps.officials.byId('dso-skv-1')!;
    const session = (now: Date, lifetimeSeconds: number) =>
      issueOfficerSession({ signingKey: stack.deps.signingKey, client: bound, official, role: 'PRIVACY_OFFICER', audience: 'agency-exchange-gateway/audit', lifetimeSeconds, now });
    const old = await session(new Date(Date.now() - 3_600_000), 600);
    const late = await officer.graphql(ME, {}, { authorization: `Bearer ${old.token}` });
    expect([late.status, late.errors?.[0]?.extensions?.code]).toEqual([401, 'TOKEN_EXPIRED']);
    const long = await session(new Date(), 86_400);
    const tooLong = await officer.graphql(ME, {}, { authorization: `Bearer ${long.token}` });
    expect([tooLong.status, tooLong.errors?.[0]?.extensions?.code]).toEqual([401, 'TOKEN_LIFETIME_TOO_LONG']);
    const good = await session(new Date(), 600);
    expect((await officer.graphql(ME, {}, { authorization: `Bearer ${good.token}` })).errors).toBeUndefined();
  });

  it("refuses a partner request token signed with the personal certificate's key: it is not an officer token", async () => {
    const files = certificateFiles(stack, { official: 'dso-skv-1' });
    const token = await mintRequestToken({
      certificate: readFileSync(files.cert, 'utf8'),
      privateKey: readFileSync(files.key, 'utf8'),
      official: 'dso-skv-1',
      purpose: 'CASE_HANDLING',
      caseId: 'X-1',
      subjects: [subject],
    });
    const answer = await client({ official: 'dso-skv-1' }, { tokens: 'none' }).graphql(ME, {}, { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(401);
    expect(['TOKEN_MISSING_CLAIM', 'TOKEN_ISSUER_MISMATCH', 'TOKEN_INVALID_CLAIM']).toContain(answer.errors?.[0]?.extensions?.code);
  });

  it("refuses a personal certificate at the partner API: it does not act as the agency's system", async () => {
    const files = certificateFiles(stack, { official: 'dso-skv-1' });
    const { createAgencyClient } = await import('../../src/client/index.js');
    const personal = createAgencyClient({
      certPath: files.cert,
      keyPath: files.key,
      caPath: `${stack.certsDir}/ca.crt`,
      gatewayUrl: stack.gateway.url,
      official: 'dso-skv-1',
      purpose: 'CASE_HANDLING',
      caseId: 'X-2',
      subjects: [subject],
    });
    try {
      const answer = await personal.query(`{ myPermissions { field } }`);
      expect(answer.status).toBe(401);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'CLIENT_CERTIFICATE_WRONG_USAGE', reason: 'PERSONAL_CERTIFICATE' });
    } finally {
      await personal.close();
    }
  });
});

describe('the audit of the audit records the verified official', () => {
  it('logs the official of the certificate and token, whatever x-official says', async () => {
    const officer = client({ official: 'dso-malmo-1' });
    const read = await officer.graphql(`query ($s: String) { entries(filter: { subject: $s, caseId: "SOC-ACCESS-1" }) { totalCount } }`, { s: subject }, { 'x-official': 'someone-else' });
    expect(read.errors).toBeUndefined();
    expect((read.data as { entries: { totalCount: number } }).entries.totalCount).toBeGreaterThan(0);
    const csv = await officer.post('/audit/export.csv', { caseId: 'SOC-ACCESS-1', official: 'tjm-1' }, { 'x-official': 'someone-else' });
    expect(csv.status).toBe(200);

    const logged = (await stack.deps.openedAccessLog.store.query({ kind: 'audit-query', clientAgency: 'malmo-stad' }, null, 100)).entries;
    expect(logged.map((e) => [e.official, e.field])).toEqual(
      expect.arrayContaining([
        ['dso-malmo-1', 'Query.entries'],
        ['dso-malmo-1', 'Query.exportCsv'],
      ]),
    );
    const recorded = new Set((await stack.deps.openedAccessLog.store.query({ kind: 'audit-query' }, null, 1000)).entries.map((e) => e.official));
    expect(recorded.has('someone-else')).toBe(false);
    expect(recorded.has('unnamed')).toBe(false);
  });
});
