import { getOperationAST, getVariableValues, parse, validate, type DocumentNode, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { maskUnexpectedError } from '../../src/errors/maskErrors.js';
import { schema } from '../support/pipelineChecks.js';

/**
 * Request errors reach partners (and the operator's log) as graphql-js words them, and graphql-js
 * quotes what the request carried. Every form a value can take in a document or its variables,
 * in every place graphql-js quotes it from, comes out without the value and with the message's
 * point kept. The values are synthetic: a personnummer with valid check digit, and a name.
 */
const PNR = '199801017790';
const NAME = 'Magnus Viklöf';

function messagesOf(query: string, variables?: Record<string, unknown>): string[] {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (error) {
    return [(error as GraphQLError).message];
  }
  const errors = validate(schema, document);
  if (errors.length > 0) return errors.map((e) => e.message);
  const operation = getOperationAST(document)!;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  return (coerced.errors ?? []).map((e) => e.message);
}

const CASES: ReadonlyArray<readonly [where: string, query: string, variables?: Record<string, unknown>]> = [
  ['a syntax error at an Int', `{ person(personnummer: "x") { name ${PNR} } }`],
  ['a syntax error at a String', `{ person(personnummer: "x") { name "${NAME}" } }`],
  ['a syntax error at a Float', `{ person(personnummer: "x") { name 1998.0101 } }`],
  ['a syntax error at a block string', `{ person(personnummer: "x") { name """${NAME}""" } }`],
  ['a String where an Int belongs', `{ person(personnummer: "x") { taxedIncome(year: "${PNR}") { year } } }`],
  ['a Float where an Int belongs', `{ person(personnummer: "x") { taxedIncome(year: 1998.0101) { year } } }`],
  ['a String where an enum belongs', `{ myPermissions(purpose: "${PNR}") { __typename } }`],
  ['a name where an enum belongs', `{ person(personnummer: "x") { benefits(types: [Magnus]) { id } } }`],
  ['a list where an Int belongs', `{ person(personnummer: "x") { taxedIncome(year: ["${NAME}"]) { year } } }`],
  ['an object where a scalar belongs', `{ person(personnummer: "x") { taxedIncome(year: {n: "${NAME}"}) { year } } }`],
  ['a variable of the wrong type', 'query ($p: Personnummer!, $y: Int) { person(personnummer: $p) { taxedIncome(year: $y) { year } } }', { p: PNR, y: NAME }],
  ['a variable list item of the wrong type', 'query ($t: [BenefitType!]) { person(personnummer: "x") { benefits(types: $t) { id } } }', { t: ['SICKNESS_BENEFIT', NAME] }],
  ['an enum variable with a value not in it', 'query ($u: Purpose) { myPermissions(purpose: $u) { __typename } }', { u: PNR }],
];

describe('request errors name what was wrong, never the value', () => {
  for (const [where, query, variables] of CASES) {
    it(where, () => {
      const messages = messagesOf(query, variables);
      // The case's premise: graphql-js quotes the value (or part of it) there.
      expect(messages.join('\n')).toMatch(/199801017790|Magnus|1998\.0101/);
      for (const message of messages) {
        const masked = maskUnexpectedError({ message, extensions: { code: message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED' } }).message;
        for (const value of [PNR, NAME, 'Magnus', '1998.0101', '19980101']) expect(masked).not.toContain(value);
        expect(masked.length).toBeGreaterThan(20);
      }
    });
  }

  it.each([
    [`{ person(personnummer: "x") { taxedIncome(year: "${PNR}") { year } } }`, undefined, 'Int cannot represent non-integer value (not shown).'],
    [`{ person(personnummer: "x") { benefits(types: [Magnus]) { id } } }`, undefined, 'A value given does not exist in "BenefitType" enum.'],
    ['query ($y: Int) { person(personnummer: "x") { taxedIncome(year: $y) { year } } }', { y: NAME }, 'Variable "$y" got invalid value (not shown).'],
    [`{ person(personnummer: "x") { name ${PNR} } }`, undefined, 'Syntax Error: Expected Name, found Int (value not shown).'],
  ])('keeps what was wrong and the names of types and variables: %s', (query, variables, expected) => {
    const [message] = messagesOf(query, variables);
    expect(maskUnexpectedError({ message: message!, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }).message).toBe(expected);
  });
});
