import { agencySdlPath, loadSubgraphTypeDefs } from '../../src/subgraph-kit/loadSdl.js';
import type { AgencySubgraph } from '../../src/subgraph-kit/types.js';
import { hasProtectedIdentity } from '../../src/policy/protectedIdentity.js';
import { createSkatteverketLoaders, type SkatteverketLoaders } from './loaders.js';
import { skatteverketResolvers } from './resolvers.js';
import { SkatteverketStore } from './store.js';

export type { SkatteverketLoaders, SkatteverketContext } from './loaders.js';

/** Skatteverket's subgraph over its population register and taxed income store. */
export function createSkatteverketSubgraph(options: { dbPath: string }): AgencySubgraph<SkatteverketLoaders> {
  const store = new SkatteverketStore(options.dbPath);
  return {
    name: 'skatteverket',
    typeDefs: loadSubgraphTypeDefs(agencySdlPath('skatteverket')),
    resolvers: skatteverketResolvers,
    createLoaders: () => createSkatteverketLoaders(store),
    // Skatteverket owns the address fields, so it answers whether a person's identity is protected.
    isProtectedIdentity: async (subject, loaders) => {
      const person = await loaders.person.load(subject);
      return person !== null && hasProtectedIdentity(person.protectedIdentity);
    },
    queryCount: () => store.queryCount(),
    close: () => store.close(),
  };
}

/** The convention export src/agencies/agencyModules.ts loads (loadAgencySubgraphFactory). */
export { createSkatteverketSubgraph as createSubgraph };
