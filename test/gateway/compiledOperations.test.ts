import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../src/createGateway.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { documentId, normalizeDocument } from '../../src/trusted-documents/documentId.js';
import { writeManifest } from '../../src/trusted-documents/manifest.js';
import { workloads } from '../../bench/workloads.js';
import { entriesOfCase } from '../support/accessLogEntries.js';
import { operationForm, render } from '../support/operationForms.js';
import { createRawClient, type RawClient, type RawResponse } from '../support/rawClient.js';
import { releasedCoordinates } from '../support/releasedValues.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Compiled trusted operations (src/apollo/compiledOperations.ts) against Apollo Server's path, the
 * same gateway with COMPILED_OPERATIONS=false, on the same subgraphs, log and keys. Every document
 * is registered for the caller and sent to both; the answers must be equal byte for byte (status,
 * content type, cache-control, and the body's text with only the request id told apart: data,
 * errors, extensions, key order included), and on both paths the released values are exactly the
 * access log's `released` entries. The compiled path must really have answered (its counter).
 *
 * Documents: the bench workloads, forms over the reference API (fragments, aliases, __typename,
 * @skip/@include, entity lists with nulls, a person outside the case, a household), refusals
 * (purpose, variables), the released-values property test's generated forms, a stage that throws,
 * and a subgraph down. The federation conformance forms with personal fields run compiled in
 * test/gateway/federationPersonal.test.ts, compared there with Apollo Server's path and bare
 * @apollo/gateway.
 */

const PERSON = `personnummer name { givenName familyName } taxedIncome { year earnedIncome } benefits { benefit amount unit } studentAid { grant loan } jobSeeker { status }`;

interface Case {
  readonly name: string;
  readonly query: string;
  readonly variables: (stack: Stack) => Record<string, unknown>;
  /** The case's subjects (a person reached but not listed is outside the case). */
  readonly subjects: (stack: Stack) => readonly string[];
  readonly purpose?: 'CASE_HANDLING' | 'STATISTICS';
}

const CASES: readonly Case[] = [
  {
    name: 'four agencies, one person',
    query: `query Person($p: Personnummer!) { person(personnummer: $p) { ${PERSON} } }`,
    variables: (s) => ({ p: s.sample.withBenefits }),
    subjects: (s) => [s.sample.withBenefits],
  },
  {
    name: 'a list with a person nobody has (null in the list) and one outside the case',
    query: `query ($ps: [Personnummer!]!) { persons(personnummer: $ps) { ${PERSON} } }`,
    variables: (s) => ({ ps: [s.sample.withBenefits, s.sample.notInRegister, s.sample.jobSeeker, s.sample.withStudentAid] }),
    subjects: (s) => [s.sample.withBenefits, s.sample.jobSeeker],
  },
  {
    name: 'aliases, fragments, __typename, @skip/@include on variables and literals',
    query: `query Forms($p: Personnummer!, $withIncome: Boolean = true, $skipAid: Boolean!) {
      who: person(personnummer: $p) {
        __typename
        ...Identity
        income: taxedIncome @include(if: $withIncome) { year earnedIncome }
        studentAid @skip(if: $skipAid) { grant }
        ... on Person @include(if: false) { jobSeeker { status } }
        ... @skip(if: false) { benefits { benefit } b2: benefits { amount } }
      }
    }
    fragment Identity on Person { personnummer givenOnly: name { givenName } }`,
    variables: (s) => ({ p: s.sample.withStudentAid, skipAid: false }),
    subjects: (s) => [s.sample.withStudentAid],
  },
  {
    name: 'a household, some members outside the case (withheld, SUBJECT_NOT_IN_CASE)',
    query: `query Household($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName } household { personnummer name { familyName } benefits { benefit } } } }`,
    variables: (s) => ({ p: s.sample.household[0]! }),
    subjects: (s) => s.sample.household.slice(0, 2),
  },
  {
    name: 'protected identity',
    query: `query ($p: Personnummer!) { person(personnummer: $p) { personnummer name { givenName } registeredAddress { city } taxedIncome { year } } }`,
    variables: (s) => ({ p: s.sample.protectedIdentity }),
    subjects: (s) => [s.sample.protectedIdentity],
  },
  {
    name: 'lookup through an abstract type',
    query: `query ($p: Personnummer!) { lookup(personnummer: $p) { __typename ... on Person { personnummer name { givenName } studentAid { grant } } } }`,
    variables: (s) => ({ p: s.sample.withStudentAid }),
    subjects: (s) => [s.sample.withStudentAid],
  },
  {
    name: 'refused by the purpose check (NO_AGREEMENT, 403)',
    query: `query Denied($p: Personnummer!) { person(personnummer: $p) { name { givenName } sicknessBenefit { outcome decidedOn } } }`,
    variables: (s) => ({ p: s.sample.withSicknessBenefit }),
    subjects: (s) => [s.sample.withSicknessBenefit],
  },
  {
    name: 'refused for its variables (BAD_USER_INPUT)',
    query: `query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }`,
    variables: () => ({ p: 12 }),
    subjects: (s) => [s.sample.withBenefits],
  },
  {
    name: 'a variable left out (required)',
    query: `query ($p: Personnummer!) { person(personnummer: $p) { personnummer } }`,
    variables: () => ({}),
    subjects: (s) => [s.sample.withBenefits],
  },
  {
    name: 'a subject not in the case as input (SUBJECT_NOT_IN_CASE)',
    query: `query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }`,
    variables: (s) => ({ p: s.sample.jobSeeker }),
    subjects: (s) => [s.sample.withBenefits],
  },
  {
    name: 'the exchange catalogue (answered in process)',
    query: `{ myPermissions { field owner purpose agreementId } }`,
    variables: () => ({}),
    subjects: (s) => [s.sample.withBenefits],
  },
];

const ACCEPTS = ['application/graphql-response+json, application/json', undefined, 'application/json'] as const;

let stack: Stack;
let documentsDir: string;
let compiled: { gateway: RunningGateway; metrics: GatewayMetrics; client: RawClient };
let apollo: { gateway: RunningGateway; metrics: GatewayMetrics; client: RawClient };
const registered = new Map<string, string>();
let caseNumber = 0;

/** Registers documents for malmo-stad (registration's own purpose check skipped, as the bench does, so refusals reach the checks) and reloads the manifests. */
function register(queries: readonly string[]): void {
  for (const query of queries) registered.set(documentId(query), normalizeDocument(query));
  writeManifest(documentsDir, {
    agency: 'malmo-stad',
    documents: [...registered].map(([id, document]) => ({ id, operationName: null, purposes: ['CASE_HANDLING'], document, registeredOn: '2026-01-01' })),
  });
  stack?.deps.trustedDocuments?.reload();
}

beforeAll(async () => {
  documentsDir = mkdtempSync(path.join(os.tmpdir(), 'compiled-documents-'));
  register(CASES.map((c) => c.query));
  stack = await startStack({ trustedDocumentsDir: documentsDir });
  const start = async (env: Record<string, string>) => {
    const metrics = new GatewayMetrics();
    const gateway = await stack.startGateway(env, { metrics });
    return { gateway, metrics, client: createRawClient(stack.certsDir, 'malmo-stad', gateway.url) };
  };
  compiled = await start({});
  apollo = await start({ COMPILED_OPERATIONS: 'false' });
}, 120_000);

afterAll(async () => {
  await compiled?.client.close();
  await apollo?.client.close();
  await stack?.close();
});

const compiledAnswers = async (metrics: GatewayMetrics) => (await metrics.compiledOperationAnswers.get()).values[0]?.value ?? 0;

/** The answer with the parts that differ by request, its id and its case (each side has its own), replaced. */
function comparable(response: RawResponse & { readonly caseId: string }) {
  const requestId = response.json?.extensions?.requestId;
  return {
    status: response.status,
    contentType: response.headers['content-type'],
    cacheControl: response.headers['cache-control'],
    body: (typeof requestId === 'string' ? response.text.replaceAll(requestId, '<request id>') : response.text).replaceAll(`"${response.caseId}"`, '"<case>"'),
  };
}

interface Sent {
  readonly body: string;
  readonly subjects: readonly string[];
  readonly purpose?: 'CASE_HANDLING' | 'STATISTICS';
  readonly accept?: string | undefined;
  /** For the released-values count. */
  readonly query: string;
  readonly variables: Record<string, unknown>;
}

/** Sends to both paths (each its own case, so each request's entries are its own); returns both answers after checking released values == entries on each. */
async function sendToBoth(sent: Sent): Promise<{ compiled: RawResponse & { caseId: string }; apollo: RawResponse & { caseId: string } }> {
  const answers: (RawResponse & { caseId: string })[] = [];
  for (const side of [compiled, apollo]) {
    const caseId = `COMPILED-${caseNumber++}`;
    const response = await side.client.send({
      body: sent.body,
      claims: { official: 'handlaggare-17', purpose: sent.purpose ?? 'CASE_HANDLING', caseId, subjects: sent.subjects },
      headers: sent.accept === undefined ? {} : { accept: sent.accept },
    });
    const expected = response.json?.data ? releasedCoordinates(sent.query, sent.variables, response.json, undefined, sent.subjects) : [];
    const logged = (await entriesOfCase(stack, caseId)).filter((e) => e.outcome === 'released').map((e) => e.field);
    expect(logged.sort(), `released values == entries (${side === compiled ? 'compiled' : 'Apollo Server'})`).toEqual(expected.sort());
    answers.push({ ...response, caseId });
  }
  return { compiled: answers[0]!, apollo: answers[1]! };
}

describe('compiled trusted operations answer as Apollo Server does', () => {
  it.each(CASES.flatMap((c) => ACCEPTS.map((accept) => [c.name, accept ?? '(no Accept)', c, accept] as const)))('%s, Accept %s', async (_name, _accept, c, accept) => {
    const variables = c.variables(stack);
    const before = await compiledAnswers(compiled.metrics);
    const answers = await sendToBoth({ body: JSON.stringify({ query: c.query, variables }), subjects: c.subjects(stack), accept, query: c.query, variables });
    expect(comparable(answers.compiled)).toEqual(comparable(answers.apollo));
    expect(await compiledAnswers(compiled.metrics)).toBe(before + 1);
    expect(await compiledAnswers(apollo.metrics)).toBe(0);
  });

  it('a document sent by its id is compiled too', async () => {
    const c = CASES[0]!;
    const variables = c.variables(stack);
    const before = await compiledAnswers(compiled.metrics);
    const answers = await sendToBoth({ body: JSON.stringify({ documentId: documentId(c.query), variables }), subjects: c.subjects(stack), query: c.query, variables });
    expect(answers.compiled.json.data.person.name).toBeTruthy();
    expect(comparable(answers.compiled)).toEqual(comparable(answers.apollo));
    expect(await compiledAnswers(compiled.metrics)).toBe(before + 1);
  });

  it('the bench workloads', async () => {
    const subjects = { onePerson: stack.sample.withBenefits, household: stack.sample.household, many: stack.sample.persons };
    const list = workloads(subjects);
    register(list.map((w) => w.query));
    for (const w of list) {
      const answers = await sendToBoth({ body: JSON.stringify({ query: w.query, variables: w.variables }), subjects: w.subjects, accept: ACCEPTS[0], query: w.query, variables: w.variables });
      expect(comparable(answers.compiled), w.name).toEqual(comparable(answers.apollo));
    }
  });

  it('the released-values property test generated forms', async () => {
    const [head] = stack.sample.household;
    const subjects = [head!, stack.sample.withBenefits, stack.sample.withStudentAid];
    const forms = fc.sample(operationForm, { numRuns: Number(process.env['PROPERTY_RUNS'] ?? 60), seed: Number(process.env['PROPERTY_SEED'] ?? 20261201) });
    const documents = forms.map((form) => render(form, { p: head!, ps: [head!, stack.sample.withBenefits] }));
    register(documents.map((d) => d.document));
    const before = await compiledAnswers(compiled.metrics);
    let withData = 0;
    for (const { document, variables } of documents) {
      const answers = await sendToBoth({ body: JSON.stringify({ query: document, variables }), subjects, accept: ACCEPTS[0], query: document, variables });
      expect(comparable(answers.compiled), `${document} ${JSON.stringify(variables)}`).toEqual(comparable(answers.apollo));
      if (answers.compiled.json?.data) withData++;
    }
    // Every generated document is valid and registered: each was answered compiled.
    expect(await compiledAnswers(compiled.metrics)).toBe(before + documents.length);
    // It proves nothing if every operation were refused.
    expect(withData).toBeGreaterThan(documents.length / 2);
  }, 300_000);

  it('documents it does not take on go to Apollo Server: unregistered, introspection, a body with extensions', async () => {
    const before = await compiledAnswers(compiled.metrics);
    const c = CASES[0]!;
    const variables = c.variables(stack);
    for (const body of [
      { query: `query Other($p: Personnummer!) { person(personnummer: $p) { personnummer } }`, variables },
      { query: '{ __schema { queryType { name } } }' },
      { query: c.query, variables, extensions: { anything: true } },
      { query: c.query, variables, operationName: 'NotThere' },
      { query: c.query, variables, operationName: '' },
    ]) {
      const answers = await sendToBoth({ body: JSON.stringify(body), subjects: c.subjects(stack), query: body.query, variables });
      expect(comparable(answers.compiled)).toEqual(comparable(answers.apollo));
    }
    expect(await compiledAnswers(compiled.metrics)).toBe(before);
  });

  it('a stage that throws (the agreements cannot be read): the same masked 500 from both paths', async () => {
    let broken = false;
    const agreements = () => {
      if (broken) throw new Error('agreements unavailable');
      return stack.deps.agreements();
    };
    const start = async (env: Record<string, string>) => {
      const metrics = new GatewayMetrics();
      const logged: string[] = [];
      const gateway = await stack.startGateway(env, { metrics, agreements, logError: (record) => void logged.push(record.code) });
      return { gateway, metrics, logged, client: createRawClient(stack.certsDir, 'malmo-stad', gateway.url) };
    };
    const sides = [await start({}), await start({ COMPILED_OPERATIONS: 'false' })];
    try {
      broken = true;
      const c = CASES[0]!;
      const answers: ReturnType<typeof comparable>[] = [];
      for (const side of sides) {
        const caseId = `COMPILED-${caseNumber++}`;
        const response = await side.client.send({
          body: JSON.stringify({ query: c.query, variables: c.variables(stack) }),
          claims: { official: 'handlaggare-17', purpose: 'CASE_HANDLING', caseId, subjects: c.subjects(stack) },
        });
        expect(response.status).toBe(500);
        expect(response.json.data).toBeUndefined();
        answers.push(comparable({ ...response, caseId }));
      }
      expect(answers[0]).toEqual(answers[1]);
      // The compiled path took it (and, unlike Apollo Server's errorResponse, tells the operator).
      expect(sides[0]!.logged).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(sides[1]!.logged).toEqual([]);
    } finally {
      broken = false;
      await Promise.all(sides.map((side) => side.client.close()));
    }
  });

  // Last: it stops a subgraph for good.
  it('a subgraph down: the same AGENCY_UNAVAILABLE errors at the same paths, its fields withheld', async () => {
    await stack.subgraphs.get('csn')!.close();
    const c = CASES[0]!;
    const variables = c.variables(stack);
    const answers = await sendToBoth({ body: JSON.stringify({ query: c.query, variables }), subjects: c.subjects(stack), query: c.query, variables });
    expect(answers.compiled.json.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toContain('AGENCY_UNAVAILABLE');
    expect(comparable(answers.compiled)).toEqual(comparable(answers.apollo));
  });
});
