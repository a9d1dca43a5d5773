import { fileURLToPath } from 'node:url';
import { loadSubgraphTypeDefs, sharedScalarResolvers, type AgencySubgraph, type SubgraphContext } from '@agency-exchange/subgraph-kit';

/** One row of the agency's register; a real agency reads its own database here. */
export interface PublicPension {
  readonly monthlyAmount: number;
  readonly since: string;
}

/** A synthetic register: personnummer with valid check digits, none of them a real person's. */
export const SAMPLE_REGISTER: ReadonlyMap<string, PublicPension> = new Map([
  ['195206031279', { monthlyAmount: 1_845_000, since: '2017-07-01' }],
  ['194811213422', { monthlyAmount: 1_512_300, since: '2013-12-01' }],
]);

/** Per request, so nothing read for one caller is served to another. */
export interface Loaders {
  publicPension(personnummer: string): PublicPension | null;
}

type Context = SubgraphContext<Loaders>;

/**
 * Pensionsmyndigheten's subgraph. The kit guards `Person.publicPension` at resolution (subject of
 * the case, declared purpose, an agreement for BENEFITS), so the resolver only fetches.
 */
export function createPensionSubgraph(register: ReadonlyMap<string, PublicPension> = SAMPLE_REGISTER): AgencySubgraph<Loaders> {
  let lookups = 0;
  return {
    // The agency id: the owner the exchange's agreements name, and the audience of its context tokens.
    name: 'pensionsmyndigheten',
    typeDefs: loadSubgraphTypeDefs(fileURLToPath(new URL('../schema/pensionsmyndigheten.graphql', import.meta.url))),
    resolvers: {
      ...sharedScalarResolvers,
      Person: {
        __resolveReference: (reference: { personnummer: string }) => ({ personnummer: reference.personnummer }),
        publicPension: (person: { personnummer: string }, _args: unknown, { loaders }: Context) => loaders.publicPension(person.personnummer),
      },
    },
    createLoaders: () => ({
      publicPension(personnummer) {
        lookups++;
        return register.get(personnummer) ?? null;
      },
    }),
    queryCount: () => lookups,
    close: () => undefined,
  };
}
