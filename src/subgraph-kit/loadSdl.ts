import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse, type DocumentNode } from 'graphql';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCHEMA_DIR = path.join(REPO_ROOT, 'schema');
/** The SDL every subgraph shares: the federation link, @personal, the purpose and category enums, scalars. */
export const COMMON_SDL_PATH = path.join(SCHEMA_DIR, 'common', 'personal.graphql');

export function commonSdl(): string {
  return readFileSync(COMMON_SDL_PATH, 'utf8');
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
