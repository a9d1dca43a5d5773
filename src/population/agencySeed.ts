import type Database from 'better-sqlite3';
import { loadAgencyExport } from '../agencies/agencyModules.js';
import { agencyFiles, referenceAgency } from '../agencies/referenceAgencies.js';
import type { GeneratedHousehold } from './model.js';
import { Random } from './random.js';

/**
 * How an agency's store is filled from the synthetic population: its tables, its indexes, and
 * what writes one household's rows. Each data-owning agency exports one as `seed` from
 * resolvers/<id>/seed.ts; `writeStores` and `npm run seed` find it there, so a new agency adds
 * its own file and edits no shared population code.
 */
export interface AgencySeed {
  /** CREATE TABLE statements, run before loading (the writer adds the meta table). */
  readonly tables: string;
  /** CREATE INDEX statements, run after loading: one index build over all rows is far faster than maintaining it per insert. */
  readonly indexes: string;
  /** Prepares statements on `db` and returns what inserts one household's rows; called once per store, households in generation order. */
  inserter(db: Database.Database, population: SeedPopulation): (household: GeneratedHousehold) => void;
}

export interface SeedPopulation {
  readonly seed: number;
  /** The agency whose store is written; the key of agencyRandom. */
  readonly agency: string;
}

/**
 * A random stream of an agency's own, derived from the population seed and the agency id. An
 * agency added after the four built-in ones draws from it instead of the shared stream in
 * generatePopulation, so adding it changes no other agency's data; households arrive in the same
 * order for the same seed, so its data is as deterministic as theirs.
 */
export function agencyRandom(population: SeedPopulation): Random {
  // FNV-1a over "seed:agency": a stable 32-bit seed, different per agency.
  let hash = 0x811c9dc5;
  for (const char of `${population.seed}:${population.agency}`) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return new Random(hash);
}

/** The store seed of a reference agency: `seed` from resolvers/<id>/seed.ts. */
export async function loadAgencySeed(agencyId: string): Promise<AgencySeed> {
  const agency = referenceAgency(agencyId);
  return loadAgencyExport<AgencySeed>(agency.id, agencyFiles(agency.id).seedModule, 'seed', 'store seed');
}
