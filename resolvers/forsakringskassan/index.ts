import { agencySdlPath, loadSubgraphTypeDefs } from '../../src/subgraph-kit/loadSdl.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';
import { createForsakringskassanLoaders, type ForsakringskassanLoaders } from './loaders.js';
import { forsakringskassanResolvers } from './resolvers.js';
import { ForsakringskassanStore } from './store.js';

export type { ForsakringskassanLoaders, ForsakringskassanContext } from './loaders.js';

/** Försäkringskassan's subgraph over its benefit decisions and payments. */
export function createForsakringskassanSubgraph(options: { dbPath: string }): AgencySubgraph<ForsakringskassanLoaders> {
  const store = new ForsakringskassanStore(options.dbPath);
  return {
    name: 'forsakringskassan',
    typeDefs: loadSubgraphTypeDefs(agencySdlPath('forsakringskassan')),
    resolvers: forsakringskassanResolvers,
    createLoaders: () => createForsakringskassanLoaders(store),
    queryCount: () => store.queryCount(),
    close: () => store.close(),
  };
}

/** The convention export src/agencies/agencyModules.ts loads (loadAgencySubgraphFactory). */
export { createForsakringskassanSubgraph as createSubgraph };
