import type { DocumentNode } from 'graphql';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import type { CallerContext } from '../identity/callerContext.js';
import type { PersonalDataCategory } from '../policy/purposes.js';

/** What every resolver of an agency subgraph receives. */
export interface SubgraphContext<TLoaders> {
  /** The verified caller, from the gateway's signed context token; null only in explicit development mode. */
  readonly caller: CallerContext | null;
  /** From the agreement: whether address/contact data of persons with protected identity may be released. */
  readonly protectedIdentityAccess: boolean;
  /** From the agreements, as the gateway signed them: the data categories this caller may receive from this agency for its purpose. */
  readonly categories: ReadonlySet<PersonalDataCategory>;
  /** Other owners' personal fields this subgraph provides (`@provides`) that the caller may receive, as the gateway judged them. */
  readonly provided: ReadonlySet<string>;
  /** Created fresh per request, so batching never shares data between requests. */
  readonly loaders: TLoaders;
}

/** An agency's subgraph as the kit serves it: schema, resolvers and its store. */
export interface AgencySubgraph<TLoaders = unknown> {
  readonly name: string;
  readonly typeDefs: DocumentNode;
  readonly resolvers: GraphQLResolverMap<SubgraphContext<TLoaders>>;
  createLoaders(): TLoaders;
  /**
   * Whether the subject has protected identity (sekretessmarkering or skyddad folkbokföring).
   * Needed by subgraphs that own ADDRESS_CONTACT fields; without it such fields are withheld.
   */
  isProtectedIdentity?(subject: string, loaders: TLoaders): Promise<boolean>;
  /** Number of statements run against the store so far: tests count batching with it. */
  queryCount(): number;
  close(): void;
}
