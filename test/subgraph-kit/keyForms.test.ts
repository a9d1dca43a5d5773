import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { commonSdl } from '../../src/subgraph-kit/loadSdl.js';
import { guardPersonalFields } from '../../src/subgraph-kit/personalFieldGuard.js';
import type { SubgraphContext } from '../../src/subgraph-kit/types.js';

/**
 * The subgraph kit guards every @personal field of a type keyed by Personnummer. Which types
 * those are is read as Apollo Federation reads the SDL, so every way of writing the @key an
 * agency's SDL may use makes the type guarded: a key on the type, on `extend type`, on an
 * extension of a plain type, under a name imported with `as`, namespaced without an import.
 * A value it serves for another owner (@external, however written) is judged as that owner's.
 */
const SUBJECT = '197803304117';
const OTHER = '191212121212';
const PERSONAL = '@personal(category: IDENTITY, purposes: [CASE_HANDLING])';
const LINK = '@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable", "@composeDirective", "@external", "@requires", "@provides"])';

/** commonSdl() with its federation @link replaced, for the forms that import differently. */
function sdlWithLink(link: string): string {
  const common = commonSdl();
  expect(common).toContain(LINK);
  return common.replace(LINK, link);
}

const KEY_FORMS: ReadonlyArray<readonly [form: string, sdl: string]> = [
  ['@key on the type', `${commonSdl()}\ntype Resident @key(fields: "personnummer") { personnummer: Personnummer! sex: String ${PERSONAL} }`],
  ['@key on extend type', `${commonSdl()}\nextend type Resident @key(fields: "personnummer") { personnummer: Personnummer! sex: String ${PERSONAL} }`],
  ['@key on an extension of a plain type', `${commonSdl()}\ntype Resident { personnummer: Personnummer! sex: String ${PERSONAL} }\nextend type Resident @key(fields: "personnummer")`],
  ['a compound @key', `${commonSdl()}\ntype Resident @key(fields: "municipality personnummer") { municipality: String! personnummer: Personnummer! sex: String ${PERSONAL} }`],
  ['a second @key naming the personnummer', `${commonSdl()}\ntype Resident @key(fields: "id") @key(fields: "personnummer") { id: ID! personnummer: Personnummer! sex: String ${PERSONAL} }`],
  [
    '@key imported under another name',
    `${sdlWithLink(LINK.replace('"@key"', '{ name: "@key", as: "@entityKey" }'))}\ntype Resident @entityKey(fields: "personnummer") { personnummer: Personnummer! sex: String ${PERSONAL} }`,
  ],
  ['@key namespaced, not imported', `${sdlWithLink(LINK.replace('"@key", ', ''))}\ntype Resident @federation__key(fields: "personnummer") { personnummer: Personnummer! sex: String ${PERSONAL} }`],
];

function context(subjects: readonly string[]): SubgraphContext<null> {
  return {
    caller: { agency: { id: 'malmo-stad' }, purpose: 'CASE_HANDLING', caseId: 'C-1', subjects } as never,
    protectedIdentityAccess: false,
    categories: new Set(['IDENTITY']),
    provided: new Set(),
    loaders: null,
  };
}

describe('every way of writing a Personnummer @key makes the type guarded', () => {
  for (const [form, sdl] of KEY_FORMS) {
    it(form, async () => {
      const typeDefs = parse(`${sdl}\ntype Query { resident(personnummer: Personnummer!): Resident }`);
      const schema = buildSubgraphSchema({
        typeDefs,
        resolvers: { Query: { resident: (_: unknown, args: { personnummer: string }) => ({ personnummer: args.personnummer, id: '1', municipality: 'x', sex: 'F' }) } } as never,
      });
      expect(guardPersonalFields(schema, typeDefs, { owner: 'kommunen', allowAnonymous: false })).toBe(1);
      const document = parse('query ($p: Personnummer!) { resident(personnummer: $p) { sex } }');
      const inCase = await execute({ schema, document, variableValues: { p: SUBJECT }, contextValue: context([SUBJECT]) });
      expect(inCase.errors).toBeUndefined();
      expect(inCase.data).toEqual({ resident: { sex: 'F' } });
      const outside = await execute({ schema, document, variableValues: { p: OTHER }, contextValue: context([SUBJECT]) });
      expect(outside.data).toEqual({ resident: { sex: null } });
      expect(outside.errors?.map((e) => e.extensions['code'])).toEqual(['SUBJECT_NOT_IN_CASE']);
    });
  }
});

describe('a value served for another owner is judged as theirs, however @external is written', () => {
  const EXTERNAL_FORMS: ReadonlyArray<readonly [form: string, link: string, external: string]> = [
    ['@external', LINK, '@external'],
    ['@external imported under another name', LINK.replace('"@external"', '{ name: "@external", as: "@elsewhere" }'), '@elsewhere'],
    ['@external namespaced, not imported', LINK.replace('"@external", ', ''), '@federation__external'],
  ];
  for (const [form, link, external] of EXTERNAL_FORMS) {
    it(form, async () => {
      const typeDefs = parse(
        `${sdlWithLink(link)}\ntype Resident @key(fields: "personnummer") { personnummer: Personnummer! sex: String ${external} ${PERSONAL} }\n` +
          'type Query { resident(personnummer: Personnummer!): Resident @provides(fields: "sex") }',
      );
      const schema = buildSubgraphSchema({ typeDefs, resolvers: { Query: { resident: (_: unknown, args: { personnummer: string }) => ({ personnummer: args.personnummer, sex: 'F' }) } } as never });
      expect(guardPersonalFields(schema, typeDefs, { owner: 'kommunen', allowAnonymous: false })).toBe(1);
      const document = parse('query ($p: Personnummer!) { resident(personnummer: $p) { sex } }');
      // The caller may receive IDENTITY from this agency, but the gateway did not judge the owner's field provided: withheld.
      const notProvided = await execute({ schema, document, variableValues: { p: SUBJECT }, contextValue: context([SUBJECT]) });
      expect(notProvided.errors?.map((e) => e.extensions['code'])).toEqual(['NO_AGREEMENT']);
      const provided = await execute({ schema, document, variableValues: { p: SUBJECT }, contextValue: { ...context([SUBJECT]), categories: new Set(), provided: new Set(['Resident.sex']) } });
      expect(provided.errors).toBeUndefined();
      expect(provided.data).toEqual({ resident: { sex: 'F' } });
    });
  }
});
