import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { agreements, caller, catalogue, checks, OUTSIDE_CASE, schema, SUBJECT } from '../support/pipelineChecks.js';
import { checkOperation } from '../../src/pipeline/checkOperation.js';
import { createOperationAnalyser } from '../../src/pipeline/operationAnalysis.js';
import { releaseUnchecked } from '../../src/pipeline/releaseResponse.js';
import { resolveOperation } from '../../src/pipeline/resolveOperation.js';
import type { ResolvedOperation } from '../../src/pipeline/stages.js';

const analyse = createOperationAnalyser({ catalogue });

function resolved(query: string, variables: Record<string, unknown>): ResolvedOperation {
  const document = parse(query);
  const outcome = resolveOperation({ schema, document, operation: getOperationAST(document) ?? undefined, operationName: null, documentHash: 'h', rawVariables: variables, caller, analyse });
  if ('errors' in outcome) throw new Error(`the operation does not resolve: ${outcome.errors.map((e) => e.code).join(', ')}`);
  return outcome;
}

async function refusalCodes(query: string, variables: Record<string, unknown>): Promise<string[]> {
  const outcome = await checkOperation(resolved(query, variables), checks);
  return 'refusal' in outcome ? outcome.refusal.errors.map((e) => e.code) : [];
}

describe('the checks, in the order checks/index.ts lists them', () => {
  it('refuses with the first check that refuses: an alias reserved for the access log before a personnummer outside the case', async () => {
    const query = 'query ($p: Personnummer!) { _audit_x: person(personnummer: $p) { name { givenName } } }';
    expect(await refusalCodes(query, { p: OUTSIDE_CASE })).toEqual(['BAD_USER_INPUT']);
    expect(await refusalCodes(query.replace('_audit_x: ', ''), { p: OUTSIDE_CASE })).toEqual(['SUBJECT_NOT_IN_CASE']);
  });

  it('refuses a personnummer outside the case before the purpose check judges the fields', async () => {
    // Person.sicknessBenefit has no agreement for malmo-stad: NO_AGREEMENT, were the purpose check reached.
    const query = 'query ($p: Personnummer!) { person(personnummer: $p) { sicknessBenefit { outcome } } }';
    expect(await refusalCodes(query, { p: OUTSIDE_CASE })).toEqual(['SUBJECT_NOT_IN_CASE']);
    expect(await refusalCodes(query, { p: SUBJECT })).toEqual(['NO_AGREEMENT']);
  });

  it('hands on an operation every check passed with the legal basis of each personal field, and it cannot be changed', async () => {
    const checked = await checkOperation(resolved('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }', { p: SUBJECT }), checks);
    if ('refusal' in checked) throw new Error(`refused: ${checked.refusal.errors.map((e) => e.code).join(', ')}`);
    const skv = agreements.find((a) => a.id === 'AGR-MALMO-SKV-2025-01')!;
    expect(checked.legalBases.get('Person.name')).toEqual({
      legalBasis: skv.legalBasis,
      processingRegisterRef: { recordId: skv.processingRegister.recordId, version: String(skv.processingRegister.version) },
    });
    expect(Object.isFrozen(checked)).toBe(true);
  });
});

describe('a response to no checked operation', () => {
  it('is released when it carries no data, and replaced when it does', () => {
    const errors = [{ message: 'Cannot query field "nope" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }];
    expect(releaseUnchecked({ errors })).toEqual({ kind: 'released', result: { errors } });
    const replaced = releaseUnchecked({ data: { person: { name: { givenName: 'Anna' } } } });
    expect(replaced.kind).toBe('failed-closed');
    expect(replaced.kind === 'failed-closed' && replaced.error.code).toBe('INTERNAL_SERVER_ERROR');
  });
});
