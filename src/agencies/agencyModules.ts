import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { agencyFiles, referenceAgency, type ReferenceAgencyId } from './referenceAgencies.js';
import { REPO_ROOT } from '../subgraph-kit/loadSdl.js';
import type { AgencySubgraph } from '../subgraph-kit/types.js';

/** What resolvers/<agency>/index.ts exports as `createSubgraph`. */
export type AgencySubgraphFactory = (options: { dbPath: string }) => AgencySubgraph<never>;

/**
 * An agency's module by convention is missing or does not export what the convention asks; the
 * message names the file and the export, so whoever adds an agency knows what to write.
 */
export class AgencyModuleError extends Error {
  override readonly name = 'AgencyModuleError';
}

/**
 * Imports a convention module of an agency and returns its named export. Loaded by file (not by a
 * static import list) so that a new agency needs its own files and an entry in
 * REFERENCE_AGENCIES, and no edit here; and so that src/ depends on resolvers/ only at run time
 * (a partner's copy of src/ and examples/ type-checks without resolvers/). The population loads
 * each agency's store seed through it too (population/agencySeed.ts): the seed's type is the
 * population's, which stands on this folder, not under it.
 */
export async function loadAgencyExport<T>(agencyId: ReferenceAgencyId, file: string, exportName: string, what: string): Promise<T> {
  const shown = path.relative(REPO_ROOT, file);
  if (!existsSync(file)) {
    throw new AgencyModuleError(`Agency "${agencyId}" has no ${what}: ${shown} does not exist (it must export ${exportName}).`);
  }
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const value = module[exportName];
  if (value === undefined) throw new AgencyModuleError(`Agency "${agencyId}": ${shown} does not export ${exportName}.`);
  return value as T;
}

/** The subgraph factory of a reference agency: `createSubgraph` from resolvers/<id>/index.ts. */
export async function loadAgencySubgraphFactory(agencyId: string): Promise<AgencySubgraphFactory> {
  const agency = referenceAgency(agencyId);
  const factory = await loadAgencyExport<unknown>(agency.id, agencyFiles(agency.id).subgraphModule, 'createSubgraph', 'subgraph module');
  if (typeof factory !== 'function') throw new AgencyModuleError(`Agency "${agency.id}": createSubgraph in resolvers/${agency.id}/index.ts is not a function.`);
  return factory as AgencySubgraphFactory;
}
