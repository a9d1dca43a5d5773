import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { GENERATOR_VERSION } from './model.js';
import { STORE_AGENCIES, agencyDbPath, type PopulationMeta, type StoreAgency } from './storeSchemas.js';
import { writeStores, type WriteStoresReport } from './writeStores.js';

export interface EnsurePopulationOptions {
  readonly dir: string;
  readonly persons: number;
  readonly seed: number;
  readonly onProgress?: (personsWritten: number) => void;
}

export type EnsurePopulationResult = { readonly status: 'existing'; readonly meta: PopulationMeta } | { readonly status: 'generated'; readonly report: WriteStoresReport };

/**
 * Generates the agency stores unless every data-owning agency's is there with the same seed, size
 * and generator version. Generation is deterministic, so matching metadata means matching data.
 */
export async function ensurePopulation(options: EnsurePopulationOptions): Promise<EnsurePopulationResult> {
  const meta = readPopulationMeta(options.dir);
  if (meta && meta.seed === options.seed && meta.persons === options.persons && meta.generatorVersion === GENERATOR_VERSION) {
    return { status: 'existing', meta };
  }
  return { status: 'generated', report: await writeStores(options) };
}

/** The metadata shared by every agency's store in `dir`; null when a store is missing, unreadable or they disagree. */
export function readPopulationMeta(dir: string, agencies: readonly StoreAgency[] = STORE_AGENCIES): PopulationMeta | null {
  let shared: PopulationMeta | null = null;
  for (const agency of agencies) {
    const file = agencyDbPath(dir, agency);
    if (!existsSync(file)) return null;
    let meta: PopulationMeta | null;
    try {
      meta = readMeta(file);
    } catch {
      return null;
    }
    if (!meta) return null;
    if (shared && (shared.seed !== meta.seed || shared.persons !== meta.persons || shared.generatorVersion !== meta.generatorVersion || shared.referenceDate !== meta.referenceDate)) {
      return null;
    }
    shared = meta;
  }
  return shared;
}

function readMeta(file: string): PopulationMeta | null {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    const values = new Map(rows.map((row) => [row.key, row.value]));
    const generatorVersion = values.get('generator_version');
    const seed = Number(values.get('seed'));
    const persons = Number(values.get('persons'));
    const referenceDate = values.get('reference_date');
    if (generatorVersion === undefined || referenceDate === undefined || !Number.isSafeInteger(seed) || !Number.isSafeInteger(persons)) {
      return null;
    }
    return { generatorVersion, seed, persons, referenceDate };
  } finally {
    db.close();
  }
}
