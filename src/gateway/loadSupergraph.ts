import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';

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
