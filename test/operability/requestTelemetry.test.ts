import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_TRUSTED_DOCUMENTS_DIR } from '../../src/config/gatewayConfig.js';
import { mintRequestToken } from '../../src/client/index.js';
import { createRawClient } from '../support/rawClient.js';
import { certificateAgent, DEV_OPERATOR, get } from '../support/certificateAgent.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * What an operator reads about one request: the request id in every answer (refusals before
 * execution included) and in the log lines of the gateway and of each subgraph it called, and the
 * request metrics by agency and operation with bounded label values.
 */

let stack: Stack;
const lines: string[] = [];
const HOUSEHOLD_ID = JSON.parse(readFileSync(path.join(DEV_TRUSTED_DOCUMENTS_DIR, 'malmo-stad.json'), 'utf8')).documents.find(
  (d: { operationName: string }) => d.operationName === 'EkonomisktBistandHousehold',
).id as string;

beforeAll(async () => {
  stack = await startStack({ persons: 300, logLines: lines, trustedDocumentsDir: DEV_TRUSTED_DOCUMENTS_DIR });
});
afterAll(async () => {
  await stack?.close();
});

/** One raw request as the agency (or with no certificate): the status, the x-request-id header and the JSON body. */
async function raw(options: { agency?: string; path?: string; headers?: Record<string, string>; body?: unknown; method?: 'GET' | 'POST' }) {
  const client = createRawClient(stack.certsDir, options.agency ?? null, stack.gateway.url);
  try {
    const response = await client.send({
      method: options.method ?? 'POST',
      path: options.path ?? '/graphql',
      noToken: true,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.method === 'GET' ? {} : { body: JSON.stringify(options.body ?? { query: '{ __typename }' }) }),
    });
    return {
      status: response.status,
      requestId: response.headers['x-request-id'],
      body: response.json as { errors?: { extensions: { code: string } }[]; extensions?: { requestId?: string } },
      text: response.text,
    };
  } finally {
    await client.close();
  }
}

async function tokenFor(agency: string, subject: string): Promise<string> {
  return mintRequestToken({
    certificate: readFileSync(path.join(stack.certsDir, 'agencies', `${agency}.crt`), 'utf8'),
    privateKey: readFileSync(path.join(stack.certsDir, 'agencies', `${agency}.key`), 'utf8'),
    official: 'tel-1',
    purpose: 'CASE_HANDLING',
    caseId: 'TEL-1',
    subjects: [subject],
  });
}

describe('request ids in refusals', () => {
  const CASES: ReadonlyArray<[string, () => Promise<Parameters<typeof raw>[0]>, number, string]> = [
    ['no client certificate', async () => ({}), 401, 'CLIENT_CERTIFICATE_REQUIRED'],
    ['no request token', async () => ({ agency: 'malmo-stad' }), 401, 'TOKEN_MISSING'],
    ['a token that is not a JWS', async () => ({ agency: 'malmo-stad', headers: { authorization: 'Bearer x.y' } }), 401, 'TOKEN_INVALID'],
    ['a suspended agency', async () => ({ agency: 'test-suspended', headers: { authorization: `Bearer ${await tokenFor('test-suspended', stack.sample.withBenefits)}` } }), 401, 'AGENCY_SUSPENDED'],
    ['a batch', async () => ({ agency: 'malmo-stad', body: [{ query: '{ __typename }' }] }), 400, 'BATCHING_NOT_ALLOWED'],
    ['an unknown route', async () => ({ agency: 'malmo-stad', path: '/nowhere', method: 'GET' as const }), 404, 'NOT_FOUND'],
    ['/metrics without a certificate', async () => ({ path: '/metrics', method: 'GET' as const }), 401, 'CLIENT_CERTIFICATE_REQUIRED'],
  ];

  it.each(CASES)('%s: the body carries extensions.requestId, the one in x-request-id', async (_name, options, status, code) => {
    const answer = await raw(await options());
    expect(answer.status).toBe(status);
    expect(answer.body.errors?.[0]?.extensions.code).toBe(code);
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body.extensions?.requestId).toBe(answer.requestId);
  });
});

describe('logs', () => {
  it("the gateway's and each called subgraph's lines are pino JSON with the same request id, and no personal data", async () => {
    const applicant = stack.sample.household[0]!;
    // The stack closes the clients it hands out.
    const client = stack.client('malmo-stad', { official: 'log-1', purpose: 'CASE_HANDLING', caseId: 'LOG-1', subjects: [applicant] });
    // A registered document (production mode runs only those); Skatteverket answers the household.
    const response = await client.query('', { applicant }, { documentId: HOUSEHOLD_ID });
    expect(response.status).toBe(200);
    const requestId = response.extensions?.['requestId'];
    expect(typeof requestId).toBe('string');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['requestId'] === requestId);
    expect(new Set(parsed.map((line) => line['service']))).toEqual(new Set(['gateway', 'skatteverket']));
    for (const line of parsed) {
      expect(line).toMatchObject({ level: 'info', msg: 'request', time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/), status: expect.any(Number) });
    }
    const population = [...stack.sample.persons, ...stack.sample.household, stack.sample.withStudentAid, stack.sample.withBenefits];
    for (const line of lines) for (const personnummer of population) expect(line).not.toContain(personnummer);
  });
});

describe('request metrics by agency and operation', () => {
  it('label a registered operation by name, anything else by a fixed value, and a caller before identity as none', async () => {
    const household = stack.sample.household[0] ?? stack.sample.withBenefits;
    const client = stack.client('malmo-stad', { official: 'met-1', purpose: 'CASE_HANDLING', caseId: 'MET-1', subjects: [household] });
    const registered = await client.query('', { applicant: household }, { documentId: HOUSEHOLD_ID });
    expect(registered.status).toBe(200);
    // Production mode refuses a document not registered for the agency; its name is the client's choice, never a label.
    const adHoc = await client.query('query ChosenByTheCaller { __typename }');
    expect(adHoc.errors?.[0]?.extensions?.['code']).toBe('DOCUMENT_NOT_REGISTERED');
    await raw({ agency: 'malmo-stad' });
    // /metrics is for the exchange's operators (a personal certificate with the OPERATOR role).
    const operator = certificateAgent(stack.certsDir, 'officials', DEV_OPERATOR);
    const { text } = await get(stack.gateway.url, '/metrics', operator);
    await operator.close();
    const series = text.split('\n').filter((line) => line.startsWith('gateway_http_requests_total{'));
    const labelsOf = (line: string) => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const graphql = series.map(labelsOf).filter((labels) => labels['route'] === '/graphql');
    expect(graphql).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ agency: 'malmo-stad', operation: 'EkonomisktBistandHousehold', status: '200' }),
        expect.objectContaining({ agency: 'malmo-stad', operation: 'unregistered' }),
        expect.objectContaining({ agency: 'none', operation: 'none', status: '401' }),
      ]),
    );
    expect(text).not.toContain('ChosenByTheCaller');
    // Every operation label is a registered name or one of the fixed values.
    for (const labels of graphql) expect(['EkonomisktBistandHousehold', 'EkonomisktBistandIncomes', 'unregistered', 'none']).toContain(labels['operation']);
    expect(text).toMatch(/gateway_http_request_duration_seconds_count\{[^}]*agency="malmo-stad"[^}]*operation="EkonomisktBistandHousehold"[^}]*\} [1-9]/);
  });
});
