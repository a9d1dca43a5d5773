import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Resolver types for each agency subgraph, generated from the same SDL the subgraph serves:
 * the shared schema/common/personal.graphql followed by the agency's own file. Codegen accepts
 * the federation @link/@composeDirective schema extension as is; `federation: true` adds the
 * federation directives and types __resolveReference.
 *
 * Output goes to resolvers/<agency>/__generated__/types.ts (gitignored; `npm run codegen`).
 */

type Agency = 'skatteverket' | 'forsakringskassan' | 'csn' | 'arbetsformedlingen';

/** Paths in mappers and contextType are relative to the generated file. */
const AGENCIES: Record<Agency, { context: string; mappers: Record<string, string> }> = {
  skatteverket: {
    context: '../loaders.js#SkatteverketContext',
    mappers: {},
  },
  forsakringskassan: {
    context: '../loaders.js#ForsakringskassanContext',
    mappers: {
      BenefitDecision: '../store.js#BenefitDecisionModel',
      SicknessBenefitDecision: '../store.js#SicknessDecisionModel',
    },
  },
  csn: {
    context: '../loaders.js#CsnContext',
    mappers: {},
  },
  arbetsformedlingen: {
    context: '../loaders.js#ArbetsformedlingenContext',
    mappers: {},
  },
};

const config: CodegenConfig = {
  overwrite: true,
  generates: Object.fromEntries(
    Object.entries(AGENCIES).map(([agency, { context, mappers }]) => [
      `resolvers/${agency}/__generated__/types.ts`,
      {
        schema: ['schema/common/personal.graphql', `schema/${agency}.graphql`],
        plugins: ['typescript', 'typescript-resolvers'],
        config: {
          federation: true,
          useIndexSignature: true,
          useTypeImports: true,
          enumsAsTypes: true,
          contextType: context,
          // Every subgraph resolves a Person from its key alone; fields load through the loaders.
          mappers: { Person: '../../shared/personRef.js#PersonRef', ...mappers },
          scalars: { Personnummer: 'string', Date: 'string', Ore: 'number' },
        },
      },
    ]),
  ),
};

export default config;
