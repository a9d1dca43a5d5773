import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, resolveFromRoot } from '../config/paths.js';
import { readPopulationMeta } from '../population/ensurePopulation.js';
import { GENERATOR_VERSION } from '../population/model.js';
import { STORE_AGENCIES, agencyDbPath } from '../population/storeSchemas.js';
import { writeStores, type WriteStoresReport } from '../population/writeStores.js';
import { UsageError } from './commandFailure.js';

// Start-up and tests reach the generator through these, without running the CLI.
export { ensurePopulation, samplePersons } from '../population/index.js';

const USAGE = `Usage: npm run generate-data -- [--persons N] [--seed S] [--out DIR] [--force]

Generates a synthetic population and writes one SQLite store per agency into DIR.
  --persons N   number of persons, a whole number of at least 1 (default 10000)
  --seed S      seed, a whole number 0..4294967295 (default 1); the same seed and size give identical data
  --out DIR     data directory (default $DATA_DIR, else data/ in the repository)
  --force       replace stores generated with other settings`;

/** The largest population the personnummer allocator and a laptop's disk are comfortable with. */
export const MAX_PERSONS = 20_000_000;
export const MAX_SEED = 0xffff_ffff;

export interface GenerateDataArgs {
  readonly persons: number;
  readonly seed: number;
  readonly out: string;
  readonly force: boolean;
}

/** The options of the population commands (generate-data, seed), plus `--agency` for seed. */
export interface PopulationCommandValues {
  readonly persons?: string;
  readonly seed?: string;
  readonly agency?: string;
  readonly force?: boolean;
  readonly help?: boolean;
  /** --out, else DATA_DIR, else data/ in the repository; resolved. */
  readonly out: string;
}

/** Reads the population commands' options; a mistake is a UsageError naming it. */
export function parsePopulationOptions(argv: readonly string[], env: NodeJS.ProcessEnv, options: { withAgency: boolean }): PopulationCommandValues {
  let values: { persons?: string; seed?: string; agency?: string; out?: string; force?: boolean; help?: boolean };
  try {
    // --agency exists for seed only; generate-data refuses it as an unknown option.
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        persons: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...(options.withAgency ? { agency: { type: 'string' } } : {}),
      },
      strict: true,
      allowPositionals: false,
    }) as { values: typeof values });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const outDir = values.out ?? env['DATA_DIR'];
  if (outDir !== undefined && outDir.trim() === '') throw new UsageError('--out must not be empty.');
  return { ...values, out: outDir === undefined ? DEFAULT_DATA_DIR : resolveFromRoot(outDir) };
}

export function parseGenerateDataArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): GenerateDataArgs | 'help' {
  const values = parsePopulationOptions(argv, env, { withAgency: false });
  if (values.help) return 'help';
  return {
    persons: wholeNumber('--persons', values.persons, 10_000, 1, MAX_PERSONS),
    seed: wholeNumber('--seed', values.seed, 1, 0, MAX_SEED),
    out: values.out,
    force: values.force ?? false,
  };
}

export function wholeNumber(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new UsageError(`${flag} must be a whole number; got ${JSON.stringify(raw)}.`);
  if (value < min || value > max) throw new UsageError(`${flag} must be between ${min} and ${max}; got ${value}.`);
  return value;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Counts and sizes only: the report never prints a person's data. */
function printReport(report: WriteStoresReport): void {
  console.log(`Generated ${report.persons} persons in ${report.households} households (seed ${report.seed}) in ${(report.durationMs / 1000).toFixed(1)} s.`);
  let total = 0;
  for (const file of report.files) {
    total += file.bytes;
    const rows = Object.entries(file.rows)
      .map(([table, count]) => `${table} ${count}`)
      .join(', ');
    console.log(`  ${path.basename(file.path).padEnd(24)} ${formatBytes(file.bytes).padStart(10)}  (${rows})`);
  }
  console.log(`  ${'total'.padEnd(24)} ${formatBytes(total).padStart(10)}`);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: GenerateDataArgs | 'help';
  try {
    args = parseGenerateDataArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`generate-data: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }

  const existing = readPopulationMeta(args.out);
  if (!args.force) {
    if (existing && existing.seed === args.seed && existing.persons === args.persons && existing.generatorVersion === GENERATOR_VERSION) {
      console.log(`Stores in ${args.out} already hold ${args.persons} persons with seed ${args.seed}; nothing to do (--force regenerates).`);
      return 0;
    }
    if (STORE_AGENCIES.some((agency) => existsSync(agencyDbPath(args.out, agency)))) {
      console.error(`generate-data: ${args.out} holds stores generated with other settings; pass --force to replace them.`);
      return 1;
    }
  }

  console.log(`Generating ${args.persons} persons (seed ${args.seed}) into ${args.out} ...`);
  const step = Math.max(100_000, Math.ceil(args.persons / 10));
  let nextReport = step;
  const report = await writeStores({
    dir: args.out,
    persons: args.persons,
    seed: args.seed,
    onProgress: (written) => {
      if (written >= nextReport && written < args.persons) {
        console.log(`  ${written} persons written`);
        nextReport += step;
      }
    },
  });
  printReport(report);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
