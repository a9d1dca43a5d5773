import { readFileSync } from 'node:fs';
import { buildSchema, getOperationAST, Kind, parse, validate, type FragmentDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_API_SCHEMA_PATH, DEFAULT_SUPERGRAPH_PATH } from '../../src/config/paths.js';
import { measureOperation } from '../../src/limits/operationShape.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';

/**
 * Persons reached counts every field that can return a data subject, whatever its declared type
 * says: Person itself, or a union or interface Person belongs to (RegisterLookup = Person |
 * NotInRegister), so the same lookup written either way counts the same.
 */
const schema = buildSchema(readFileSync(DEFAULT_API_SCHEMA_PATH, 'utf8'));
const catalogue = readPersonalFieldCatalogue(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
const P = '197803304117';
const HOUSEHOLD = 8;

function personsReached(query: string): number {
  const document = parse(query);
  expect(validate(schema, document).map((e) => e.message)).toEqual([]);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return measureOperation({
    schema,
    fragments,
    operation: getOperationAST(document)!,
    variables: {},
    subjectTypes: new Set(catalogue.subjectTypes.keys()),
    personnummerScalar: 'Personnummer',
    householdSize: HOUSEHOLD,
    listSize: 10,
  }).persons;
}

describe('persons reached, by how a field returns a person', () => {
  const FORMS: ReadonlyArray<readonly [form: string, query: string, persons: number]> = [
    ['Person', `{ person(personnummer: "${P}") { sex } }`, 1],
    ['a union with Person', `{ lookup(personnummer: "${P}") { ... on Person { sex } } }`, 1],
    ['a union with Person, nothing selected on Person', `{ lookup(personnummer: "${P}") { __typename } }`, 1],
    ['Person, its household', `{ person(personnummer: "${P}") { household { sex } } }`, 1 + HOUSEHOLD],
    ['a union with Person, its household', `{ lookup(personnummer: "${P}") { ... on Person { household { sex } } } }`, 1 + HOUSEHOLD],
    ['three aliased lookups through the union', `{ a: lookup(personnummer: "${P}") { __typename } b: lookup(personnummer: "${P}") { __typename } c: lookup(personnummer: "${P}") { __typename } }`, 3],
    ['a list of Person', `{ persons(personnummer: ["${P}", "${P}"]) { sex } }`, 2],
  ];
  for (const [form, query, persons] of FORMS) {
    it(`${form}: ${persons}`, () => {
      expect(personsReached(query)).toBe(persons);
    });
  }
});
