import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * graphql-codegen's client preset as the exchange's partners use it: one `TypedDocumentNode` per
 * operation, with its result and variables types. The repository's own examples generate theirs
 * with this same setting (its codegen.ts imports it), so what partners copy is what is tested.
 */
export const CLIENT_PRESET = {
  preset: 'client',
  presetConfig: {
    fragmentMasking: false,
    // Each document's sha256 id, for a gateway in production mode that runs registered documents only.
    persistedDocuments: { hashAlgorithm: 'sha256' },
  },
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    // NodeNext resolution needs the `.js` suffix on the generated relative imports.
    emitLegacyCommonJSImports: false,
    scalars: { Personnummer: 'string', Date: 'string', Ore: 'number' },
  },
} satisfies CodegenConfig['generates'][string];

/**
 * Typed documents for this program's operations, from the gateway's public API schema. A partner
 * outside this repository points `schema` at its copy of schema/api.graphql (the exchange
 * publishes it with each release); here it is the repository's own.
 */
const config: CodegenConfig = {
  overwrite: true,
  generates: {
    'src/__generated__/': { schema: '../../schema/api.graphql', documents: ['src/**/*.graphql'], ...CLIENT_PRESET },
  },
};

export default config;
