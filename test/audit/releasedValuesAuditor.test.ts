import { describe, expect, it } from 'vitest';
import { releasedPersonalValues, UncountableResponseError } from '../../src/audit/releasedValues.js';
import { catalogue, SUBJECT, schema } from '../support/pipelineChecks.js';

/**
 * The auditor's count of what a partner received (`npm run soak` compares it with the access
 * log) must never come out short: an object of a union whose type it cannot tell is reported as
 * uncountable, not skipped. Partners' answers carry no access-log markers, so without a selected
 * __typename nothing says which member of RegisterLookup an object is.
 */
const DOCUMENT = 'query ($p: Personnummer!) { lookup(personnummer: $p) { ... on Person { sex name { givenName } } } }';
const DATA = { lookup: { sex: 'FEMALE', name: { givenName: 'Anna' } } };

describe("the auditor's count under a union", () => {
  it('refuses to count an object whose member type it cannot tell, naming where', () => {
    const count = () => releasedPersonalValues({ schema, catalogue, document: DOCUMENT, variables: { p: SUBJECT }, data: DATA, caseSubjects: [SUBJECT] });
    expect(count).toThrow(UncountableResponseError);
    expect(count).toThrow(/\(first at lookup\); select __typename there/);
  });

  it('counts it when the document selects __typename', () => {
    const document = DOCUMENT.replace('{ ... on Person', '{ __typename ... on Person');
    const data = { lookup: { __typename: 'Person', ...DATA.lookup } };
    expect(releasedPersonalValues({ schema, catalogue, document, variables: { p: SUBJECT }, data, caseSubjects: [SUBJECT] })).toEqual(['Person.sex', 'Person.name']);
  });

  it('counts it when the caller knows the type (typeOf)', () => {
    expect(releasedPersonalValues({ schema, catalogue, document: DOCUMENT, variables: { p: SUBJECT }, data: DATA, caseSubjects: [SUBJECT], typeOf: () => 'Person' })).toEqual([
      'Person.sex',
      'Person.name',
    ]);
  });
});
