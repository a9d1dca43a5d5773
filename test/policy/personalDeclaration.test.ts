import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type ConstDirectiveNode, type ObjectTypeDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { MalformedPersonalDeclarationError, readPersonalDeclaration } from '../../src/policy/personalDeclaration.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { commonSdl } from '../../src/subgraph-kit/loadSdl.js';
import { guardPersonalFields } from '../../src/subgraph-kit/personalFieldGuard.js';

/**
 * One reader of `@personal(category:, purposes:)` for the gateway's catalogue and the subgraph
 * kit's guard: a declaration is read the same on both sides, and one nothing downstream could
 * honour (a category or purpose the exchange does not know, as when an agency's copy of
 * personal.graphql has values this release lacks) stops both with the same typed error.
 */
function directivesOf(field: string): readonly ConstDirectiveNode[] | undefined {
  const type = parse(`type Resident { ${field} }`).definitions[0] as ObjectTypeDefinitionNode;
  return type.fields?.[0]?.directives;
}

describe('reading a @personal declaration', () => {
  it('reads the category and the purposes', () => {
    const declaration = readPersonalDeclaration('Resident.aid', directivesOf('aid: Int @personal(category: BENEFITS, purposes: [CASE_HANDLING, PAYMENT_CONTROL])'));
    expect(declaration?.category).toBe('BENEFITS');
    expect([...(declaration?.purposes ?? [])]).toEqual(['CASE_HANDLING', 'PAYMENT_CONTROL']);
  });

  it('reads a single purpose without brackets as a list of one', () => {
    expect([...(readPersonalDeclaration('Resident.aid', directivesOf('aid: Int @personal(category: BENEFITS, purposes: STATISTICS)'))?.purposes ?? [])]).toEqual(['STATISTICS']);
  });

  it('is undefined for a field without @personal', () => {
    expect(readPersonalDeclaration('Resident.aid', directivesOf('aid: Int @deprecated'))).toBeUndefined();
  });
});

// Valid SDL for composition and for buildSubgraphSchema: the enums know the extra values, this release does not.
const SDL_WITH_NEWER_ENUMS = commonSdl()
  .replace(/enum PersonalDataCategory \{/, 'enum PersonalDataCategory {\n  GENETIC')
  .replace(/enum Purpose \{/, 'enum Purpose {\n  MARKETING');

const MALFORMED: ReadonlyArray<readonly [what: string, declaration: string, problem: MalformedPersonalDeclarationError['problem']]> = [
  ['an unknown category', '@personal(category: GENETIC, purposes: [CASE_HANDLING])', 'UNKNOWN_CATEGORY'],
  ['an unknown purpose', '@personal(category: BENEFITS, purposes: [CASE_HANDLING, MARKETING])', 'UNKNOWN_PURPOSE'],
  ['an unknown purpose without brackets', '@personal(category: BENEFITS, purposes: MARKETING)', 'UNKNOWN_PURPOSE'],
];

describe('a malformed declaration is refused on both sides with the same error', () => {
  for (const [what, declaration, problem] of MALFORMED) {
    const typeDefs = parse(`${SDL_WITH_NEWER_ENUMS}\ntype Resident @key(fields: "personnummer") { personnummer: Personnummer! aid: Int ${declaration} }\ntype Query { resident: Resident }`);

    it(`${what}: the gateway's catalogue refuses the supergraph`, () => {
      const composed = composeServices([{ name: 'kommunen', url: 'https://127.0.0.1:1/graphql', typeDefs }]);
      expect(composed.errors).toBeUndefined();
      const read = () => readPersonalFieldCatalogue(composed.supergraphSdl!);
      expect(read).toThrow(MalformedPersonalDeclarationError);
      expect(read).toThrow(expect.objectContaining({ coordinate: 'Resident.aid', problem }));
    });

    it(`${what}: the subgraph kit's guard refuses the subgraph`, () => {
      const schema = buildSubgraphSchema({ typeDefs });
      const guard = () => guardPersonalFields(schema, typeDefs, { owner: 'kommunen', allowAnonymous: false });
      expect(guard).toThrow(MalformedPersonalDeclarationError);
      expect(guard).toThrow(expect.objectContaining({ coordinate: 'Resident.aid', problem }));
    });
  }
});
