import { agencySdlPath, loadSubgraphTypeDefs } from '../../src/subgraph-kit/loadSdl.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';
import { createArbetsformedlingenLoaders, type ArbetsformedlingenLoaders } from './loaders.js';
import { arbetsformedlingenResolvers } from './resolvers.js';
import { ArbetsformedlingenStore } from './store.js';

export type { ArbetsformedlingenLoaders, ArbetsformedlingenContext } from './loaders.js';

/** Arbetsförmedlingen's subgraph over its job-seeker and activity support store. */
export function createArbetsformedlingenSubgraph(options: { dbPath: string }): AgencySubgraph<ArbetsformedlingenLoaders> {
  const store = new ArbetsformedlingenStore(options.dbPath);
  return {
    name: 'arbetsformedlingen',
    typeDefs: loadSubgraphTypeDefs(agencySdlPath('arbetsformedlingen')),
    resolvers: arbetsformedlingenResolvers,
    createLoaders: () => createArbetsformedlingenLoaders(store),
    queryCount: () => store.queryCount(),
    close: () => store.close(),
  };
}

/** The convention export src/agencies/agencyModules.ts loads (loadAgencySubgraphFactory). */
export { createArbetsformedlingenSubgraph as createSubgraph };
