import { readFileSync } from 'node:fs';
import { buildSchema, getOperationAST, parse, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { collectAccessedFields } from '../../src/audit/collectAccessedFields.js';
import { SUBJECT_ALIAS } from '../../src/audit/subjectMarkers.js';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { createOperationAnalyser } from '../../src/gateway/operationAnalysis.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';

const schema = buildSchema(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8'));
const catalogue = readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
const SUBJECT = '198504122385';

function analysisOf(analyse: ReturnType<typeof createOperationAnalyser>, document: DocumentNode) {
  return analyse(schema, document, getOperationAST(document)!);
}

/**
 * The facts cached per document must be the facts of that document and, where the request's
 * variables decide (@skip/@include), of that request: a stale plan would log the wrong fields.
 */
describe('operation analysis', () => {
  it('is worked out once per parsed document and operation', () => {
    const analyse = createOperationAnalyser({ catalogue });
    const document = parse('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }');
    const first = analysisOf(analyse, document);
    expect(analysisOf(analyse, document)).toBe(first);
    expect(first.markedDocument()).toBe(first.markedDocument());
    expect(first.accessPlan({ p: SUBJECT })).toBe(first.accessPlan({ p: 'another' }));
    expect([...first.coordinates]).toEqual(expect.arrayContaining(['Query.person', 'Person.name', 'PersonName.givenName']));
    expect(analysisOf(analyse, parse('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }'))).not.toBe(first);
  });

  it('reads each response with the variables of its own request when @include decides what was selected', () => {
    const analyse = createOperationAnalyser({ catalogue });
    const analysis = analysisOf(analyse, parse('query ($p: Personnummer!, $x: Boolean!) { person(personnummer: $p) { name @include(if: $x) { givenName } jobSeeker { status } } }'));
    const data = { person: { [SUBJECT_ALIAS]: SUBJECT, name: { givenName: 'Anna' }, jobSeeker: { status: 'ACTIVE' } } };
    const fields = (x: boolean) => collectAccessedFields({ plan: analysis.accessPlan({ p: SUBJECT, x }), data, errors: undefined }).map((a) => a.field.coordinate);
    expect(fields(true)).toEqual(['Person.name', 'Person.jobSeeker']);
    expect(fields(false)).toEqual(['Person.jobSeeker']);
    expect(fields(true)).toEqual(['Person.name', 'Person.jobSeeker']);
  });

  it('finds literal personnummer arguments and reserved aliases in the document', () => {
    const analyse = createOperationAnalyser({ catalogue });
    const analysis = analysisOf(analyse, parse(`{ person(personnummer: "${SUBJECT}") { _audit_x: name { givenName } } }`));
    expect(analysis.usesReservedAlias).toBe(true);
    expect(analysis.personnummerInputs.literals.map((l) => l.where)).toEqual(['Query.person(personnummer)']);
  });
});
