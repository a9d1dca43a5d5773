import { agencySdlPath, loadSubgraphTypeDefs } from '../../src/subgraph-kit/loadSdl.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';
import { createKronofogdenLoaders, type KronofogdenLoaders } from './loaders.js';
import { kronofogdenResolvers } from './resolvers.js';
import { KronofogdenStore } from './store.js';

export type { KronofogdenLoaders, KronofogdenContext } from './loaders.js';

/** Kronofogden's subgraph over its debt register: debts in enforcement, distraint, debt restructuring. */
export function createKronofogdenSubgraph(options: { dbPath: string }): AgencySubgraph<KronofogdenLoaders> {
  const store = new KronofogdenStore(options.dbPath);
  return {
    name: 'kronofogden',
    typeDefs: loadSubgraphTypeDefs(agencySdlPath('kronofogden')),
    resolvers: kronofogdenResolvers,
    createLoaders: () => createKronofogdenLoaders(store),
    queryCount: () => store.queryCount(),
    close: () => store.close(),
  };
}

/** The convention export src/agencies/agencyModules.ts loads (loadAgencySubgraphFactory). */
export { createKronofogdenSubgraph as createSubgraph };
