import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SUBJECT_ALIAS, TYPENAME_ALIAS } from '../../src/audit/subjectMarkers.js';
import { createOperationAnalyser } from '../../src/pipeline/operationAnalysis.js';
import { catalogue, SUBJECT, schema } from '../support/pipelineChecks.js';

/**
 * Under a union or interface the access log's reader tells an object's type by the gateway's own
 * marker only. A partner may alias any String field as `__typename`; an object without the
 * marker is withheld whole, never read by what the partner's selection calls its type.
 */
const analyse = createOperationAnalyser({ catalogue });

function read(document: string, data: Record<string, unknown>) {
  const parsed = parse(document);
  return analyse(schema, parsed, getOperationAST(parsed)!)
    .reader()
    .read({ data, errors: undefined, caseSubjects: [SUBJECT] });
}

describe("the reader's type of an object under a union", () => {
  const DOCUMENT = 'query ($p: Personnummer!) { lookup(personnummer: $p) { __typename ... on Person { sex } } }';

  it("is the gateway's marker: the person's field is read and logged", () => {
    const data = { lookup: { [TYPENAME_ALIAS]: 'Person', [SUBJECT_ALIAS]: SUBJECT, __typename: 'Person', sex: 'FEMALE' } };
    const result = read(DOCUMENT, data);
    expect(result.accessed.map((a) => a.coordinate)).toEqual(['Person.sex']);
    expect(data.lookup).toEqual({ __typename: 'Person', sex: 'FEMALE' });
  });

  it('without the marker, a __typename in the data decides nothing: the object is withheld', () => {
    const data: Record<string, unknown> = { lookup: { [SUBJECT_ALIAS]: SUBJECT, __typename: 'Person', sex: 'FEMALE' } };
    const result = read(DOCUMENT, data);
    expect(result.accessed).toEqual([]);
    expect(JSON.stringify(data)).not.toContain('FEMALE');
    expect(result.errors.length).toBeGreaterThan(0);
  });
});
