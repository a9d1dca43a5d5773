import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { readPersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { apiSchemaOf } from './supergraph.js';

export interface SubgraphSource {
  readonly name: string;
  /** Full SDL text of the subgraph (shared part included). */
  readonly sdl: string;
  readonly url: string;
}

export interface ComposedSupergraph {
  readonly supergraphSdl: string;
  /** The public API schema: what partners query, without federation internals. */
  readonly apiSchemaSdl: string;
  readonly hints: readonly string[];
}

export class CompositionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Composition failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'CompositionError';
  }
}

/** Offline Federation 2 composition, the same algorithm rover runs, without network access. */
export function composeSupergraph(subgraphs: readonly SubgraphSource[]): ComposedSupergraph {
  const problems: string[] = [];
  const services = subgraphs.flatMap((subgraph) => {
    try {
      return [{ name: subgraph.name, url: subgraph.url, typeDefs: parse(subgraph.sdl) }];
    } catch (error) {
      problems.push(`${subgraph.name}: ${(error as Error).message}`);
      return [];
    }
  });
  if (problems.length > 0) throw new CompositionError(problems);
  const result = composeServices(services);
  if (result.errors) throw new CompositionError(result.errors.map((e) => e.message));
  const supergraphSdl = result.supergraphSdl;
  // Personal by default: a field of a data subject without @personal fails composition here,
  // and again at gateway start-up, so it can never be served undeclared.
  try {
    readPersonalFieldCatalogue(supergraphSdl);
  } catch (error) {
    throw new CompositionError([(error as Error).message]);
  }
  return {
    supergraphSdl,
    apiSchemaSdl: apiSchemaOf(supergraphSdl),
    hints: result.hints.map((h) => h.toString()),
  };
}
