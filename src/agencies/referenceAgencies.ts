import path from 'node:path';
import { agencySdlPath, REPO_ROOT } from '../subgraph-kit/loadSdl.js';
import type { ReferenceAgencyId } from '../config/referenceAgencies.js';

export { REFERENCE_AGENCIES, REFERENCE_AGENCY_IDS, UnknownAgencyError, isReferenceAgencyId, referenceAgency, type ReferenceAgency, type ReferenceAgencyId } from '../config/referenceAgencies.js';

/**
 * Where an agency's files are, by convention (absolute paths): its subgraph SDL
 * (schema/<id>.graphql), the module exporting `createSubgraph` (resolvers/<id>/index.ts) and the
 * module exporting `seed` (resolvers/<id>/seed.ts).
 */
export function agencyFiles(id: ReferenceAgencyId): { readonly sdl: string; readonly subgraphModule: string; readonly seedModule: string } {
  return {
    sdl: agencySdlPath(id),
    subgraphModule: path.join(REPO_ROOT, 'resolvers', id, 'index.ts'),
    seedModule: path.join(REPO_ROOT, 'resolvers', id, 'seed.ts'),
  };
}
