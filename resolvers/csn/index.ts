import { agencySdlPath, loadSubgraphTypeDefs } from '../../src/subgraph-kit/loadSdl.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';
import { createCsnLoaders, type CsnLoaders } from './loaders.js';
import { csnResolvers } from './resolvers.js';
import { CsnStore } from './store.js';

export type { CsnLoaders, CsnContext } from './loaders.js';

/** CSN's subgraph over its student aid and student loan store. */
export function createCsnSubgraph(options: { dbPath: string }): AgencySubgraph<CsnLoaders> {
  const store = new CsnStore(options.dbPath);
  return {
    name: 'csn',
    typeDefs: loadSubgraphTypeDefs(agencySdlPath('csn')),
    resolvers: csnResolvers,
    createLoaders: () => createCsnLoaders(store),
    queryCount: () => store.queryCount(),
    close: () => store.close(),
  };
}

/** The convention export src/agencies/agencyModules.ts loads (loadAgencySubgraphFactory). */
export { createCsnSubgraph as createSubgraph };
