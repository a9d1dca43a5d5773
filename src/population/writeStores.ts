import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { loadAgencySeed, type AgencySeed } from './agencySeed.js';
import { generatePopulation } from './generatePopulation.js';
import { GENERATOR_VERSION, REFERENCE_DATE, type GeneratedHousehold } from './model.js';
import { META_TABLE, STORE_AGENCIES, agencyDbPath, type PopulationMeta, type StoreAgency } from './storeSchemas.js';

export interface WriteStoresOptions {
  readonly dir: string;
  readonly persons: number;
  readonly seed: number;
  /** The stores to write (default: every data-owning agency). `npm run seed` writes one. */
  readonly agencies?: readonly StoreAgency[];
  /** Called now and then with the number of persons written so far. */
  readonly onProgress?: (personsWritten: number) => void;
}

export interface StoreFileReport {
  readonly agency: StoreAgency;
  readonly path: string;
  readonly bytes: number;
  /** Rows per table. */
  readonly rows: Readonly<Record<string, number>>;
}

export interface WriteStoresReport {
  readonly persons: number;
  readonly households: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly files: readonly StoreFileReport[];
}

/** Households per transaction: large enough that commits cost nothing, small enough to stay a few MB. */
const HOUSEHOLDS_PER_TRANSACTION = 5_000;

/**
 * Generates the population and writes one SQLite file per agency into `dir`, replacing any files
 * there, each through the agency's own seed (resolvers/<id>/seed.ts). Each file is built under a
 * temporary name and renamed only when complete, so an interrupted run never leaves a store that
 * looks valid.
 */
export async function writeStores(options: WriteStoresOptions): Promise<WriteStoresReport> {
  const agencies = options.agencies ?? STORE_AGENCIES;
  // Every seed is loaded before any file is touched: a missing seed module fails the run cleanly.
  const seeds = await Promise.all(agencies.map(async (agency) => [agency, await loadAgencySeed(agency)] as const));
  const started = performance.now();
  mkdirSync(options.dir, { recursive: true });
  const writers: StoreWriter[] = [];
  try {
    for (const [agency, seed] of seeds) writers.push(new StoreWriter(agency, seed, options.seed, `${agencyDbPath(options.dir, agency)}.partial`));
  } catch (error) {
    for (const writer of writers) writer.abandon();
    throw error;
  }
  try {
    let households = 0;
    let persons = 0;
    let batch: GeneratedHousehold[] = [];
    const flush = (): void => {
      for (const writer of writers) writer.write(batch);
      batch = [];
      options.onProgress?.(persons);
    };
    for (const household of generatePopulation(options)) {
      batch.push(household);
      households += 1;
      persons += household.persons.length;
      if (batch.length >= HOUSEHOLDS_PER_TRANSACTION) flush();
    }
    flush();

    const meta: PopulationMeta = { generatorVersion: GENERATOR_VERSION, seed: options.seed, persons, referenceDate: REFERENCE_DATE };
    const files = writers.map((writer) => writer.finish(meta, agencyDbPath(options.dir, writer.agency)));
    return { persons, households, seed: options.seed, durationMs: performance.now() - started, files };
  } catch (error) {
    for (const writer of writers) writer.abandon();
    throw error;
  }
}

export function removeStoreFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

class StoreWriter {
  readonly #db: Database.Database;
  readonly #write: (batch: readonly GeneratedHousehold[]) => void;

  constructor(
    readonly agency: StoreAgency,
    readonly seed: AgencySeed,
    populationSeed: number,
    readonly partialPath: string,
  ) {
    removeStoreFiles(partialPath);
    this.#db = new Database(partialPath);
    // The file is renamed into place only when complete, so the load needs no rollback journal
    // and no fsync; WAL is switched on at the end for the readers.
    this.#db.pragma('journal_mode = OFF');
    this.#db.pragma('synchronous = OFF');
    this.#db.pragma('cache_size = -65536');
    this.#db.exec(META_TABLE);
    this.#db.exec(seed.tables);
    const insert = seed.inserter(this.#db, { seed: populationSeed, agency });
    this.#write = this.#db.transaction((batch: readonly GeneratedHousehold[]) => {
      for (const household of batch) insert(household);
    });
  }

  write(batch: readonly GeneratedHousehold[]): void {
    this.#write(batch);
  }

  finish(meta: PopulationMeta, finalPath: string): StoreFileReport {
    const db = this.#db;
    db.exec(this.seed.indexes);
    const putMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      putMeta.run('agency', this.agency);
      putMeta.run('generator_version', meta.generatorVersion);
      putMeta.run('seed', String(meta.seed));
      putMeta.run('persons', String(meta.persons));
      putMeta.run('reference_date', meta.referenceDate);
    })();
    // Statistics let the planner pick the personnummer indexes for the json_each batches.
    db.exec('ANALYZE');
    const rows: Record<string, number> = {};
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'meta' ORDER BY name").pluck().all() as string[];
    for (const table of tables) rows[table] = db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get() as number;
    db.pragma('journal_mode = WAL');
    db.close();
    removeStoreFiles(finalPath);
    renameSync(this.partialPath, finalPath);
    return { agency: this.agency, path: finalPath, bytes: statSync(finalPath).size, rows };
  }

  abandon(): void {
    if (this.#db.open) this.#db.close();
    removeStoreFiles(this.partialPath);
  }
}
