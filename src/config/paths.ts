import path from 'node:path';
import { REPO_ROOT } from '../subgraph-kit/loadSdl.js';

export { REPO_ROOT };
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, 'data');
export const DEFAULT_SUPERGRAPH_PATH = path.join(REPO_ROOT, 'schema', 'supergraph.graphql');
export const DEFAULT_API_SCHEMA_PATH = path.join(REPO_ROOT, 'schema', 'api.graphql');
export const DEFAULT_CERTS_DIR = path.join(REPO_ROOT, 'certs', 'dev');

export function resolveFromRoot(p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(REPO_ROOT, p);
}
