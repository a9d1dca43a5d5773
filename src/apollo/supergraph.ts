import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { printSchema, type GraphQLSchema } from 'graphql';

export class SupergraphLoadError extends Error {
  override name = 'SupergraphLoadError';
}

/**
 * Reads a static supergraph file and validates it before the gateway takes it, so a bad file
 * fails start-up with the file named rather than at the first request.
 */
export function loadSupergraphSdl(path: string): { sdl: string; subgraphs: readonly { name: string; url: string }[] } {
  let sdl: string;
  try {
    sdl = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SupergraphLoadError(`Cannot read the supergraph at ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Run \`npm run compose\`.`);
  }
  try {
    const supergraph = Supergraph.build(sdl);
    return { sdl, subgraphs: supergraph.subgraphsMetadata() };
  } catch (error) {
    throw new SupergraphLoadError(`${path} is not a valid Federation 2 supergraph: ${(error as Error).message}`);
  }
}

/** The public API schema of a supergraph (what partners query, without federation internals). */
export function apiSchema(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/** The API schema as SDL text (schema/api.graphql, the development IDE). */
export function apiSchemaOf(supergraphSdl: string): string {
  return printSchema(apiSchema(supergraphSdl));
}

/**
 * The subgraphs the gateway calls, at the supergraph's URLs or their overrides. Outside
 * development mode a plain-http URL stops start-up: subgraphs are reached over mutual TLS only.
 */
export function subgraphEndpoints(
  subgraphs: readonly { name: string; url: string }[],
  overrides: ReadonlyMap<string, string>,
  options: { readonly allowPlainHttp: boolean },
): readonly { name: string; url: string }[] {
  return subgraphs.map(({ name, url: recorded }) => {
    const url = overrides.get(name) ?? recorded;
    if (url.startsWith('http:') && !options.allowPlainHttp) {
      throw new Error(`Subgraph ${name} has a plain-http URL (${url}); outside GATEWAY_MODE=development subgraphs are reached over mutual TLS only.`);
    }
    return { name, url };
  });
}
