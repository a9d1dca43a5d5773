import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository this runs from: every default below is a development file in it. Worked out from
 * this module's own place (src/config/), so config needs no other folder to know it.
 */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, 'data');
export const DEFAULT_SUPERGRAPH_PATH = path.join(REPO_ROOT, 'schema', 'supergraph.graphql');
export const DEFAULT_API_SCHEMA_PATH = path.join(REPO_ROOT, 'schema', 'api.graphql');
export const DEFAULT_CERTS_DIR = path.join(REPO_ROOT, 'certs', 'dev');
/** The development federation's registries (AGENCY_REGISTRY_PATH, OFFICIAL_REGISTRY_PATH). */
export const DEV_AGENCY_REGISTRY_PATH = path.join(REPO_ROOT, 'src', 'config', 'dev', 'agencies.json');
export const DEV_OFFICIAL_REGISTRY_PATH = path.join(REPO_ROOT, 'src', 'config', 'dev', 'officials.json');

export function resolveFromRoot(p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(REPO_ROOT, p);
}
