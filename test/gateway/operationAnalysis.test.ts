import { readFileSync } from 'node:fs';
import { buildSchema, getOperationAST, parse, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SUBJECT_ALIAS, TYPENAME_ALIAS } from '../../src/audit/subjectMarkers.js';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { createOperationAnalyser } from '../../src/pipeline/operationAnalysis.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { makePersonnummer } from '../../src/personnummer/index.js';

const schema = buildSchema(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8'));
const catalogue = readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
const SUBJECT = makePersonnummer('1985-04-12', 238);
const HOUSEHOLD_MEMBER = makePersonnummer('1987-11-02', 114);

function analysisOf(analyse: ReturnType<typeof createOperationAnalyser>, document: DocumentNode) {
  return analyse(schema, document, getOperationAST(document)!);
}

function read(query: string, data: Record<string, unknown>, subjects: readonly string[] = [SUBJECT]) {
  const analysis = analysisOf(createOperationAnalyser({ catalogue }), parse(query));
  const result = analysis.reader().read({ data, errors: undefined, caseSubjects: subjects });
  return { ...result, data, fields: result.accessed.map((a) => `${a.subject}|${a.coordinate}|${a.outcome}`) };
}

/**
 * The access log reads what a response holds, never what the variables say it should hold: a
 * value present has left the gateway. These tests feed the reader responses directly.
 */
describe('operation analysis', () => {
  it('is worked out once per parsed document and operation', () => {
    const analyse = createOperationAnalyser({ catalogue });
    const document = parse('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }');
    const first = analysisOf(analyse, document);
    expect(analysisOf(analyse, document)).toBe(first);
    expect(first.markedDocument()).toBe(first.markedDocument());
    expect(first.reader()).toBe(first.reader());
    expect([...first.coordinates]).toEqual(expect.arrayContaining(['Query.person', 'Person.name', 'PersonName.givenName']));
    expect(analysisOf(analyse, parse('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } } }'))).not.toBe(first);
  });

  it('logs a field under @include or @skip whenever the response holds it, whatever the variables were', () => {
    const query = 'query ($p: Personnummer!, $x: Boolean = false) { person(personnummer: $p) { name @include(if: $x) { givenName } jobSeeker @skip(if: true) { status } } }';
    const present = read(query, { person: { [SUBJECT_ALIAS]: SUBJECT, name: { givenName: 'Anna' }, jobSeeker: { status: 'IN_PROGRAMME' } } });
    expect(present.fields).toEqual([`${SUBJECT}|Person.name|released`, `${SUBJECT}|Person.jobSeeker|released`]);
    const absent = read(query, { person: { [SUBJECT_ALIAS]: SUBJECT } });
    expect(absent.fields).toEqual([]);
  });

  it('reads aliases and fragments merged by response key as graphql-js collects them', () => {
    const query = `query ($p: Personnummer!) { person(personnummer: $p) { a: name { givenName } ...F ... on Person { b: taxedIncome { year } } } }
      fragment F on Person { a: name { familyName } c: studentLoan { balance } }`;
    const result = read(query, { person: { [SUBJECT_ALIAS]: SUBJECT, a: { givenName: 'A', familyName: 'B' }, b: [{ year: 2024 }], c: null } });
    expect(result.fields).toEqual([`${SUBJECT}|Person.name|released`, `${SUBJECT}|Person.taxedIncome|released`, `${SUBJECT}|Person.studentLoan|released`]);
  });

  it('removes the markers and withholds a personal value whose subject the response does not name', () => {
    const result = read('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } sex } }', { person: { [SUBJECT_ALIAS]: null, name: { givenName: 'A' }, sex: null } });
    expect(result.data).toEqual({ person: { name: null, sex: null } });
    // A null went out (nothing of anyone's), logged as released with no subject; the name did not.
    expect(result.accessed.map((a) => [a.subject, a.coordinate, a.outcome, a.code])).toEqual([
      [null, 'Person.name', 'withheld', 'SUBJECT_UNKNOWN'],
      [null, 'Person.sex', 'released', null],
    ]);
    expect(result.errors.map((e) => [e.path, e.extensions?.['code']])).toEqual([[['person', 'name'], 'SUBJECT_UNKNOWN']]);
  });

  it('withholds a key the operation did not select rather than release it unread', () => {
    const result = read('query ($p: Personnummer!) { person(personnummer: $p) { sex } }', { person: { [SUBJECT_ALIAS]: SUBJECT, sex: 'FEMALE', name: { givenName: 'A' } } });
    expect(result.data).toEqual({ person: { sex: 'FEMALE', name: null } });
    expect(result.errors.map((e) => e.path)).toEqual([['person', 'name']]);
  });

  it('withholds an object of an abstract type whose concrete type it cannot tell', () => {
    const result = read('query ($p: Personnummer!) { lookup(personnummer: $p) { ... on Person { sex } } }', { lookup: { sex: 'FEMALE' } });
    expect(result.data).toEqual({ lookup: null });
    expect(result.accessed).toEqual([]);
    expect(result.errors.map((e) => e.extensions?.['code'])).toEqual(['INTERNAL_SERVER_ERROR']);
  });

  it('reads a union member by the marker typename', () => {
    const result = read('query ($p: Personnummer!) { lookup(personnummer: $p) { ... on Person { sex } } }', { lookup: { [TYPENAME_ALIAS]: 'Person', [SUBJECT_ALIAS]: SUBJECT, sex: 'FEMALE' } });
    expect(result.fields).toEqual([`${SUBJECT}|Person.sex|released`]);
    expect(result.data).toEqual({ lookup: { sex: 'FEMALE' } });
  });

  it("logs a household member's personnummer as disclosed to them, with the household as its basis", () => {
    const query = 'query ($p: Personnummer!) { person(personnummer: $p) { household { personnummer sex } } }';
    const result = read(query, { person: { [SUBJECT_ALIAS]: SUBJECT, household: [{ [SUBJECT_ALIAS]: HOUSEHOLD_MEMBER, personnummer: HOUSEHOLD_MEMBER, sex: null }] } });
    expect(result.accessed.map((a) => [a.subject, a.coordinate, a.outcome, a.basis])).toEqual([
      [SUBJECT, 'Person.household', 'released', 'Person.household'],
      [HOUSEHOLD_MEMBER, 'Person.personnummer', 'released', 'Person.household'],
      [HOUSEHOLD_MEMBER, 'Person.sex', 'released', 'Person.sex'],
    ]);
    // A subject of the case: the caller named that number itself.
    const known = read(query, { person: { [SUBJECT_ALIAS]: SUBJECT, household: [{ [SUBJECT_ALIAS]: HOUSEHOLD_MEMBER, personnummer: HOUSEHOLD_MEMBER, sex: null }] } }, [SUBJECT, HOUSEHOLD_MEMBER]);
    expect(known.fields).toEqual([`${SUBJECT}|Person.household|released`, `${HOUSEHOLD_MEMBER}|Person.sex|released`]);
  });

  it('finds the fields that take personnummer in the operation and its fragments, and reserved aliases', () => {
    const analyse = createOperationAnalyser({ catalogue });
    const analysis = analysisOf(analyse, parse(`{ person(personnummer: "${SUBJECT}") { _audit_x: name { givenName } } ...Q } fragment Q on Query { persons(personnummer: []) { sex } }`));
    expect(analysis.usesReservedAlias).toBe(true);
    expect(analysis.personnummerInputs.sites.map((s) => s.coordinate)).toEqual(['Query.person', 'Query.persons']);
  });
});
