import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse, type DocumentNode } from 'graphql';
import { REPO_ROOT } from '../config/paths.js';

export { REPO_ROOT };

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const SCHEMA_DIR = path.join(REPO_ROOT, 'schema');

/**
 * The file of the SDL every subgraph shares: the federation link, @personal, the purpose and
 * category enums, scalars. In this repository it is schema/common/personal.graphql; the built
 * @agency-exchange/subgraph-kit has no repository around it, so its build copies the file next to
 * the bundle (dist/personal.graphql), which is looked for first. Looked up when asked, not at
 * import, as the partner client's bundle carries this module without ever reading the SDL.
 */
export function commonSdlPath(): string {
  const packaged = path.join(HERE, 'personal.graphql');
  return existsSync(packaged) ? packaged : path.join(SCHEMA_DIR, 'common', 'personal.graphql');
}

export function commonSdl(): string {
  return readFileSync(commonSdlPath(), 'utf8');
}

/** An agency's full subgraph SDL as source text: the shared part followed by the agency's own file. */
export function subgraphSdlSource(sdlPath: string): string {
  return `${commonSdl()}\n${readFileSync(sdlPath, 'utf8')}`;
}

export function loadSubgraphTypeDefs(sdlPath: string): DocumentNode {
  return parse(subgraphSdlSource(sdlPath));
}

export function agencySdlPath(agency: string): string {
  return path.join(SCHEMA_DIR, `${agency}.graphql`);
}
