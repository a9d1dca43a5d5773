import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ACCESS_LOG_TEXT_LIMITS, validateAccessLogEntry, type AccessLogEntry } from '../../src/audit/entry.js';
import { MAX_CASE_LENGTH, MAX_ID_LENGTH } from '../../src/identity/requestToken.js';
import { createOperationAnalyser } from '../../src/pipeline/operationAnalysis.js';
import { resolveOperation } from '../../src/pipeline/resolveOperation.js';
import { caller, catalogue, schema, SUBJECT } from '../support/pipelineChecks.js';

/**
 * What a request supplies that the access log keeps as text must fit the log's column before
 * anything is fetched: found only when the entries are written, it failed the request with
 * ACCESS_LOG_UNAVAILABLE after the agencies had answered, and lost a refusal's denial entries.
 */
const analyse = createOperationAnalyser({ catalogue });

function resolveNamed(name: string) {
  const document = parse(`query ${name} { person(personnummer: "${SUBJECT}") { name { givenName } } }`);
  return resolveOperation({ schema, document, operation: getOperationAST(document) ?? undefined, operationName: name, documentHash: 'h', rawVariables: {}, caller, analyse });
}

function entryNamed(operationName: string): AccessLogEntry {
  return {
    time: '2026-06-01T10:00:00.000Z',
    requestId: 'req-1',
    clientAgency: { organisationNumber: '212000-1124', id: 'malmo-stad' },
    official: caller.official,
    purpose: 'CASE_HANDLING',
    caseId: caller.caseId,
    operationName,
    documentHash: 'a'.repeat(64),
    legalBasis: 'SFS 2001:453',
    processingRegisterRef: { recordId: 'REG-1', version: '1' },
    subject: SUBJECT,
    field: 'Person.name',
    owningAgency: 'skatteverket',
    outcome: 'denied',
    outcomeCode: 'NO_AGREEMENT',
  };
}

describe('an operation name the access log could not keep is refused before anything runs', () => {
  const limit = ACCESS_LOG_TEXT_LIMITS.operationName;
  it(`${limit} characters: resolved, and an entry with it is one the log keeps`, () => {
    const name = `Q${'x'.repeat(limit - 1)}`;
    expect('errors' in resolveNamed(name)).toBe(false);
    expect(() => validateAccessLogEntry(entryNamed(name))).not.toThrow();
  });

  it(`${limit + 1} characters: BAD_USER_INPUT naming the limit, not the name`, () => {
    const name = `Q${'x'.repeat(limit)}`;
    const outcome = resolveNamed(name);
    expect('errors' in outcome).toBe(true);
    if (!('errors' in outcome)) return;
    expect(outcome.errors.map((e) => e.code)).toEqual(['BAD_USER_INPUT']);
    expect(outcome.errors[0]!.extensions).toMatchObject({ problem: 'OPERATION_NAME_TOO_LONG', limit });
    expect(outcome.errors[0]!.message).not.toContain(name);
    expect(() => validateAccessLogEntry(entryNamed(name))).toThrow(/operationName/);
  });
});

it("the request token's case and official fit the log's columns (they are checked when the token is read)", () => {
  expect(MAX_CASE_LENGTH).toBeLessThanOrEqual(ACCESS_LOG_TEXT_LIMITS.caseId);
  expect(MAX_ID_LENGTH).toBeLessThanOrEqual(ACCESS_LOG_TEXT_LIMITS.official);
});

describe('an operation name carrying a personnummer is refused: the log keeps names in plain text', () => {
  it.each([`_${SUBJECT}`, `Q_${SUBJECT.slice(2)}`, `Lookup${SUBJECT}`])('%s', (name) => {
    const outcome = resolveNamed(name);
    expect('errors' in outcome && outcome.errors.map((e) => [e.code, e.extensions['problem']])).toEqual([['BAD_USER_INPUT', 'PERSONNUMMER_IN_OPERATION_NAME']]);
    expect('errors' in outcome && outcome.errors[0]!.message).not.toContain(SUBJECT.slice(2));
  });
  it.each(['Q2025', 'PersonAndHousehold', 'List_50_Persons'])('%s is taken', (name) => {
    expect('errors' in resolveNamed(name)).toBe(false);
  });
});
