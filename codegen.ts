import type { CodegenConfig } from '@graphql-codegen/cli';
import { CLIENT_PRESET } from './examples/partner-sample/codegen.js';
import { REFERENCE_AGENCIES, type ReferenceAgencyId } from './src/agencies/referenceAgencies.js';

/**
 * Resolver types for each agency subgraph, generated from the same SDL the subgraph serves:
 * the shared schema/common/personal.graphql followed by the agency's own file. Codegen accepts
 * the federation @link/@composeDirective schema extension as is; `federation: true` adds the
 * federation directives and types __resolveReference.
 *
 * Output goes to resolvers/<agency>/__generated__/types.ts (gitignored; `npm run codegen`).
 */

/**
 * Every data-owning agency in REFERENCE_AGENCIES, by convention: the context type is
 * `<Agency>Context` from resolvers/<agency>/loaders.ts; mappers only where an agency's resolvers
 * return a model shaped unlike the GraphQL type. Paths are relative to the generated file.
 */
const MAPPERS: Partial<Record<ReferenceAgencyId, Record<string, string>>> = {
  forsakringskassan: {
    BenefitDecision: '../store.js#BenefitDecisionModel',
    SicknessBenefitDecision: '../store.js#SicknessDecisionModel',
  },
};

function contextTypeOf(agency: ReferenceAgencyId): string {
  return `../loaders.js#${agency.charAt(0).toUpperCase()}${agency.slice(1)}Context`;
}

/**
 * The typed client for partner developers: the client preset over the public API schema
 * (schema/api.graphql, written by `npm run compose`) and the operations in examples/**\/*.graphql.
 * Each operation becomes a `TypedDocumentNode`, so a field an example reads but the operation no
 * longer asks for fails `tsc`. `persistedDocuments` writes persisted-documents.json (sha256 hash →
 * normalised document text): what `npm run documents -- register` records in an agency's manifest
 * of trusted documents.
 */
export const PARTNER_CLIENT_OUTPUT: CodegenConfig['generates'][string] = {
  schema: 'schema/api.graphql',
  // The partner sample generates its own, as a project outside this repository would.
  documents: ['examples/**/*.graphql', '!examples/partner-sample/**'],
  // The setting partners copy (the sample's), so the examples test it too.
  ...CLIENT_PRESET,
};

/** Resolver types for one subgraph SDL (after the shared part); paths are relative to the generated file. */
function subgraphResolverTypes(sdlPath: string, context: string, mappers: Record<string, string>, personRef: string): CodegenConfig['generates'][string] {
  return {
    schema: ['schema/common/personal.graphql', sdlPath],
    plugins: ['typescript', 'typescript-resolvers'],
    config: {
      federation: true,
      useIndexSignature: true,
      useTypeImports: true,
      enumsAsTypes: true,
      contextType: context,
      // Every subgraph resolves a Person from its key alone; fields load through the loaders.
      mappers: { Person: `${personRef}#PersonRef`, ...mappers },
      scalars: { Personnummer: 'string', Date: 'string', Ore: 'number' },
    },
  };
}

const config: CodegenConfig = {
  overwrite: true,
  generates: {
    'examples/__generated__/': PARTNER_CLIENT_OUTPUT,
    ...Object.fromEntries(
      REFERENCE_AGENCIES.map(({ id }) => [`resolvers/${id}/__generated__/types.ts`, subgraphResolverTypes(`schema/${id}.graphql`, contextTypeOf(id), MAPPERS[id] ?? {}, '../../shared/personRef.js')]),
    ),
    // The subgraph kit's worked example (docs/subgraph-kit.md), type-checked with everything else.
    'test/fixtures/kronofogden/__generated__/types.ts': subgraphResolverTypes(
      'test/fixtures/kronofogden/kronofogden.graphql',
      '../loaders.js#KronofogdenContext',
      {},
      '../../../../resolvers/shared/personRef.js',
    ),
  },
};

export default config;
