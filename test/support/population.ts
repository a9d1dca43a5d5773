import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { STORE_AGENCIES, agencyDbPath, writeStores, type StoreAgency, type WriteStoresReport } from '../../src/population/index.js';

export interface TestPopulation {
  readonly dir: string;
  readonly report: WriteStoresReport;
  remove(): void;
}

/** A small population in a fresh temporary directory; `remove()` deletes it. */
export async function generateTestPopulation(persons: number, seed: number): Promise<TestPopulation> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'population-test-'));
  const report = await writeStores({ dir, persons, seed });
  return { dir, report, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function fileDigest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** A digest of every row of every table in row order: equal digests mean equal data, whatever the file layout. */
export function contentDigest(dir: string, agency: StoreAgency): string {
  const db = new Database(agencyDbPath(dir, agency), { readonly: true, fileMustExist: true });
  try {
    const hash = createHash('sha256');
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    for (const table of tables) {
      hash.update(`table ${table}\n`);
      for (const row of db.prepare(`SELECT * FROM "${table}" ORDER BY 1, 2`).raw().iterate()) hash.update(`${JSON.stringify(row)}\n`);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

export function allContentDigests(dir: string): Record<StoreAgency, string> {
  return Object.fromEntries(STORE_AGENCIES.map((agency) => [agency, contentDigest(dir, agency)])) as Record<StoreAgency, string>;
}
