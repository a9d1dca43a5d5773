import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { createRawClient, type RawClient } from '../support/rawClient.js';
import type { RequestTokenClaims } from '../../src/client/mintRequestToken.js';

let stack: Stack;
let raw: RawClient;
let claims: RequestTokenClaims;

const LIMITS = {
  MAX_BODY_BYTES: '20000',
  LIMIT_DOCUMENT_TOKENS: '400',
  LIMIT_DEPTH: '4',
  LIMIT_ALIASES: '5',
  LIMIT_ROOT_FIELDS: '4',
  LIMIT_PERSONS: '20',
  LIMIT_HOUSEHOLD_SIZE: '8',
  LIMIT_LIST_SIZE: '2',
  LIMIT_COST: '100',
};

beforeAll(async () => {
  stack = await startStack({ persons: 400, env: LIMITS });
  claims = { official: 'handlaggare-17', purpose: 'CASE_HANDLING', caseId: 'LIMITS-1', subjects: [stack.sample.withBenefits, ...stack.sample.household] };
  raw = createRawClient(stack.certsDir, 'malmo-stad', stack.gateway.url);
});

afterAll(async () => {
  await raw?.close();
  await stack?.close();
});

async function post(query: string, variables?: Record<string, unknown>) {
  const response = await raw.send({ claims, body: JSON.stringify({ query, ...(variables ? { variables } : {}) }) });
  return { ...response, codes: ((response.json?.errors ?? []) as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code) };
}

const personQuery = (selection: string) => `query ($p: Personnummer!) { person(personnummer: $p) { ${selection} } }`;

describe('request limits', () => {
  it('refuses a body over MAX_BODY_BYTES with REQUEST_TOO_LARGE', async () => {
    const response = await post(`{ myAgreements { id } } # ${'x'.repeat(25_000)}`);
    expect(response.status).toBe(413);
    expect(response.codes).toEqual(['REQUEST_TOO_LARGE']);
  });

  it('refuses a document over LIMIT_DOCUMENT_TOKENS with DOCUMENT_TOO_LARGE', async () => {
    const response = await post(`{ ${'__typename '.repeat(450)} }`);
    expect(response.status).toBe(413);
    expect(response.codes).toEqual(['DOCUMENT_TOO_LARGE']);
  });

  it('still answers an ordinary syntax error with GRAPHQL_PARSE_FAILED', async () => {
    const response = await post('{ person(personnummer: ) {');
    expect(response.status).toBe(400);
    expect(response.codes).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('refuses nesting deeper than LIMIT_DEPTH with QUERY_TOO_DEEP', async () => {
    const response = await post(personQuery('benefits { payments { period { start } } }'), { p: stack.sample.withBenefits });
    expect(response.status).toBe(400);
    expect(response.codes).toEqual(['QUERY_TOO_DEEP']);
  });

  it('counts depth through fragments', async () => {
    const response = await post(`query ($p: Personnummer!) { person(personnummer: $p) { ...B } } fragment B on Person { benefits { payments { period { start } } } }`, {
      p: stack.sample.withBenefits,
    });
    expect(response.codes).toEqual(['QUERY_TOO_DEEP']);
  });

  it('refuses more than LIMIT_ALIASES aliases with TOO_MANY_ALIASES', async () => {
    const aliases = Array.from({ length: 6 }, (_, i) => `n${i}: name { givenName }`).join(' ');
    const response = await post(personQuery(aliases), { p: stack.sample.withBenefits });
    expect(response.status).toBe(400);
    expect(response.codes).toEqual(['TOO_MANY_ALIASES']);
  });

  it('counts an alias in a fragment once per spread', async () => {
    const response = await post(
      `query ($p: Personnummer!) { person(personnummer: $p) { ...A ...A2 } } fragment A on Person { a: name { givenName } b: name { familyName } c: sex } fragment A2 on Person { ...A d: dateOfBirth }`,
      { p: stack.sample.withBenefits },
    );
    expect(response.codes).toEqual(['TOO_MANY_ALIASES']);
  });

  it('refuses more than LIMIT_ROOT_FIELDS root fields with TOO_MANY_ROOT_FIELDS', async () => {
    const response = await post(`{ a: myAgreements { id } b: myAgreements { id } c: myAgreements { id } d: myAgreements { id } e: myAgreements { id } }`);
    expect(response.status).toBe(400);
    expect(response.codes).toEqual(['TOO_MANY_ROOT_FIELDS']);
  });

  it('refuses a persons list longer than LIMIT_PERSONS with TOO_MANY_PERSONS', async () => {
    const numbers = Array.from({ length: 21 }, () => stack.sample.withBenefits);
    const response = await post(`query ($p: [Personnummer!]!) { persons(personnummer: $p) { personnummer } }`, { p: numbers });
    expect(response.status).toBe(400);
    expect(response.codes).toEqual(['TOO_MANY_PERSONS']);
  });

  it('counts persons in list literals too', async () => {
    const list = Array.from({ length: 21 }, () => `"${stack.sample.withBenefits}"`).join(', ');
    const response = await post(`{ persons(personnummer: [${list}]) { personnummer } }`);
    expect(response.codes).toEqual(['TOO_MANY_PERSONS']);
  });

  it('does not let aliases multiply person reads past LIMIT_PERSONS: each aliased lookup and its household counts', async () => {
    // 3 × (1 person + 8 assumed household members) = 27 > 20, though each lookup alone is 9.
    const one = (alias: string) => `${alias}: person(personnummer: $p) { household { personnummer } }`;
    const response = await post(`query ($p: Personnummer!) { ${one('a')} ${one('b')} ${one('c')} }`, { p: stack.sample.withBenefits });
    expect(response.codes).toEqual(['TOO_MANY_PERSONS']);
    const single = await post(`query ($p: Personnummer!) { ${one('a')} }`, { p: stack.sample.withBenefits });
    expect(single.status).toBe(200);
  });

  it('does not let fragments spread twice multiply person reads unseen', async () => {
    const response = await post(
      `query ($p: Personnummer!) { ...Q ...Q2 } fragment Q on Query { a: person(personnummer: $p) { household { household { personnummer } } } } fragment Q2 on Query { ...Q }`,
      { p: stack.sample.withBenefits },
    );
    expect(response.codes).toContain('TOO_MANY_PERSONS');
  });

  it('refuses an operation costing more than LIMIT_COST with QUERY_TOO_COSTLY', async () => {
    const numbers = Array.from({ length: 10 }, () => stack.sample.withBenefits);
    const response = await post(
      `query ($p: [Personnummer!]!) { persons(personnummer: $p) { taxedIncome { year employmentIncome businessIncome capitalIncome earnedIncome finalTax } benefits { id benefit outcome decidedOn amount unit } } }`,
      { p: numbers },
    );
    expect(response.status).toBe(400);
    expect(response.codes).toEqual(['QUERY_TOO_COSTLY']);
  });

  it('refuses a batched request with BATCHING_NOT_ALLOWED', async () => {
    const response = await raw.send({ claims, body: JSON.stringify([{ query: '{ myAgreements { id } }' }, { query: '{ myAgreements { id } }' }]) });
    expect(response.status).toBe(400);
    expect(response.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['BATCHING_NOT_ALLOWED']);
  });

  it('refuses introspection outside development mode with INTROSPECTION_DISABLED', async () => {
    const response = await post('{ __schema { types { name } } }');
    expect(response.status).toBe(403);
    expect(response.codes).toEqual(['INTROSPECTION_DISABLED']);
    const type = await post('{ __type(name: "Person") { fields { name } } }');
    expect(type.codes).toEqual(['INTROSPECTION_DISABLED']);
  });

  it('gives no field suggestions outside development mode', async () => {
    const response = await post(personQuery('nme { givenName }'), { p: stack.sample.withBenefits });
    expect(response.codes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    // The property under test is the absence of schema details, so the message is what is checked here.
    expect(response.text).not.toMatch(/Did you mean/);
  });

  it('calls no subgraph and writes no access-log entry for a refused operation', async () => {
    const before = stack.queryCounts();
    const entriesBefore = await stack.deps.openedAccessLog.store.query({ caseId: 'LIMITS-1' }, null, 1000);
    await post(`query ($p: [Personnummer!]!) { persons(personnummer: $p) { name { givenName } } }`, { p: Array.from({ length: 25 }, () => stack.sample.withBenefits) });
    expect(stack.queryCounts()).toEqual(before);
    const entriesAfter = await stack.deps.openedAccessLog.store.query({ caseId: 'LIMITS-1' }, null, 1000);
    expect(entriesAfter.entries.length).toBe(entriesBefore.entries.length);
  });

  it('answers an operation within every limit', async () => {
    const response = await post(personQuery('name { givenName } household { personnummer }'), { p: stack.sample.withBenefits });
    expect(response.status).toBe(200);
    expect(response.json.errors).toBeUndefined();
    expect(response.json.data.person.name.givenName).toEqual(expect.any(String));
  });
});

describe("the request's own mistakes, answered with what is wrong and the request id", () => {
  const send = async (body: Record<string, unknown>) => {
    const response = await raw.send({ claims, body: JSON.stringify(body) });
    return {
      status: response.status,
      codes: ((response.json?.errors ?? []) as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code),
      json: response.json,
      requestId: response.headers['x-request-id'],
    };
  };

  it.each([
    ['names an operation the document lacks', { query: 'query A { myAgreements { id } }', operationName: 'B' }, 'operationName names no operation of the document.'],
    ['names the empty operation', { query: 'query A { myAgreements { id } }', operationName: '' }, 'operationName names no operation of the document.'],
    ['names none of two operations', { query: 'query A { myAgreements { id } } query B { myAgreements { owner } }' }, 'The document has several operations; say which one with operationName.'],
  ])('a request that %s', async (_what, body, message) => {
    const response = await send(body);
    expect(response.status).toBe(400);
    expect(response.codes).toEqual(['OPERATION_RESOLUTION_FAILURE']);
    expect(response.json.errors[0].message).toBe(message);
    expect(response.json.extensions.requestId).toBe(response.requestId);
  });

  it.each([
    ['a method Apollo Server does not serve', { method: 'PUT' as const, body: '{"query":"{ myAgreements { id } }"}' }],
    ['a POST body that is missing', { body: '' }],
  ])("carries the request id on Apollo Server's own refusal: %s", async (_what, request) => {
    const response = await raw.send({ claims, ...request });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.json?.errors?.[0]?.extensions?.code).toEqual(expect.any(String));
    expect(response.json.extensions.requestId).toBe(response.headers['x-request-id']);
  });
});
