import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createOperationAnalyser } from '../../src/pipeline/operationAnalysis.js';
import { resolveOperation } from '../../src/pipeline/resolveOperation.js';
import { caller, catalogue, schema } from '../support/pipelineChecks.js';
import { AgencyDataSource } from '../../src/apollo/agencyDataSource.js';
import { parseJsonBody } from '../../src/http/readJsonBody.js';
import { MAX_JSON_DEPTH } from '../../src/http/jsonDepth.js';
import { CircuitBreaker } from '../../src/resilience/circuitBreaker.js';

/**
 * The circuit breaker counts what the agency does, never what one partner's request does to the
 * gateway: a call the gateway cannot even prepare (its variables do not serialise, or nest
 * deeper than anything walks safely) fails that request alone, and the agency stays open to
 * everyone else. Before, five such requests opened the circuit for every partner.
 */
const THRESHOLD = 2;

function dataSource(send: () => Promise<{ status: number; contentType: string; text: string }>) {
  const breaker = new CircuitBreaker({ failureThreshold: THRESHOLD, resetMs: 60_000 });
  const calls: string[] = [];
  const source = new AgencyDataSource({
    name: 'csn',
    url: 'https://csn.invalid/graphql',
    fetcher: (() => Promise.reject(new Error('not used'))) as never,
    breaker,
    signContext: () => 'token',
    send: async (_url, _headers, body) => {
      calls.push(body);
      return send();
    },
  });
  const call = async (variables: Record<string, unknown>): Promise<{ readonly errors?: ReadonlyArray<{ readonly extensions?: Readonly<Record<string, unknown>> | undefined }> | undefined }> =>
    await source.process({
      kind: 'incoming operation',
      request: { query: 'query ($d: Date) { studentAid(from: $d) { grant } }', variables },
      context: { requestId: 'req-1' },
      document: undefined,
    } as never);
  return { breaker, calls, call };
}

describe('a call the gateway could not prepare', () => {
  it('fails its own request, is never sent, and leaves the circuit closed however often it comes', async () => {
    const { breaker, calls, call } = dataSource(async () => ({ status: 200, contentType: 'application/json', text: '{"data":{}}' }));
    for (let i = 0; i < THRESHOLD * 3; i++) {
      // A BigInt does not serialise: the body cannot be written.
      const result = await call({ d: 1n });
      expect(result.errors?.map((e) => e.extensions?.['code'])).toEqual(['INTERNAL_SERVER_ERROR']);
    }
    expect(calls).toEqual([]);
    expect(breaker.state).toBe('closed');
    const answered = await call({ d: '2026-01-01' });
    expect(answered.errors).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('unlike an agency that cannot be reached, which opens it (the control)', async () => {
    const { breaker, call } = dataSource(() => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    for (let i = 0; i < THRESHOLD; i++) expect((await call({ d: '2026-01-01' })).errors?.map((e) => e.extensions?.['code'])).toEqual(['AGENCY_UNAVAILABLE']);
    expect(breaker.state).toBe('open');
  });
});

describe('how deep a request body may nest', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  it(`${MAX_JSON_DEPTH} levels are read`, () => {
    expect(() => parseJsonBody(`{"variables":{"d":${nested(MAX_JSON_DEPTH - 2)}}}`, 'application/json')).not.toThrow();
  });
  it.each([MAX_JSON_DEPTH - 1, 5000])('%i levels inside the body are refused with BAD_REQUEST, naming the limit', (depth) => {
    expect(() => parseJsonBody(`{"variables":{"d":${nested(depth)}}}`, 'application/json')).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', extensions: expect.objectContaining({ limit: MAX_JSON_DEPTH }) }),
    );
  });
});

it('variables sent in a URL, which no body reader saw, are held to the same depth when the operation is resolved', () => {
  const document = parse('query ($d: Date) { person(personnummer: "197803304117") { benefitPayments(from: $d) { amount } } }');
  const resolve = (d: unknown) =>
    resolveOperation({
      schema,
      document,
      operation: getOperationAST(document) ?? undefined,
      operationName: null,
      documentHash: 'h',
      rawVariables: { d },
      caller,
      analyse: createOperationAnalyser({ catalogue }),
    });
  const deep = JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`) as unknown;
  const refused = resolve(deep);
  expect('errors' in refused && refused.errors.map((e) => [e.code, e.extensions['limit']])).toEqual([['BAD_USER_INPUT', MAX_JSON_DEPTH]]);
  expect('errors' in resolve('2026-01-01')).toBe(false);
});
