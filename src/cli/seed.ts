import { existsSync } from 'node:fs';
import path from 'node:path';
import { AgencyModuleError } from '../agencies/agencyModules.js';
import { REFERENCE_AGENCY_IDS, UnknownAgencyError, referenceAgency, type ReferenceAgencyId } from '../agencies/referenceAgencies.js';
import { REPO_ROOT } from '../config/paths.js';
import { readPopulationMeta } from '../population/ensurePopulation.js';
import { GENERATOR_VERSION } from '../population/model.js';
import { agencyDbPath } from '../population/storeSchemas.js';
import { writeStores, type WriteStoresReport } from '../population/writeStores.js';
import { formatBytes, MAX_PERSONS, MAX_SEED, parsePopulationOptions, wholeNumber } from './generateData.js';
import { UsageError } from './commandFailure.js';

const USAGE = `Usage: npm run seed -- --agency <id> [--out DIR] [--persons N --seed S] [--force]

Creates or refills one agency's store (DIR/<id>.db) from the deterministic synthetic population,
through the agency's own seed (resolvers/<id>/seed.ts). The persons are those of the stores
already in DIR, so the new agency's records are about the same people; in an empty DIR
--persons and --seed (defaults 10000 and 1, or POPULATION_SIZE and POPULATION_SEED) choose them.
  --agency ID   a data-owning agency: ${REFERENCE_AGENCY_IDS.join(', ')}
  --out DIR     data directory (default $DATA_DIR, else data/ in the repository)
  --force       rewrite a store that already matches`;

export interface SeedArgs {
  readonly agency: ReferenceAgencyId;
  readonly out: string;
  /** Given on the command line; otherwise taken from the stores in `out`. */
  readonly persons: number | undefined;
  readonly seed: number | undefined;
  readonly force: boolean;
}

export function parseSeedArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SeedArgs | 'help' {
  const values = parsePopulationOptions(argv, env, { withAgency: true });
  if (values.help) return 'help';
  if (values.agency === undefined) throw new UsageError(`--agency <id> is required; one of ${REFERENCE_AGENCY_IDS.join(', ')}.`);
  return {
    agency: referenceAgency(values.agency).id,
    out: values.out,
    persons: values.persons === undefined ? undefined : wholeNumber('--persons', values.persons, 0, 1, MAX_PERSONS),
    seed: values.seed === undefined ? undefined : wholeNumber('--seed', values.seed, 0, 0, MAX_SEED),
    force: values.force ?? false,
  };
}

export interface CommandOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleOutput: CommandOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** `npm run seed`: exit code 0 done, 1 refused (the stores in DIR disagree), 2 a mistake in the call. */
export async function runSeed(argv: readonly string[], output: CommandOutput = consoleOutput, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let args: SeedArgs | 'help';
  try {
    args = parseSeedArgs(argv, env);
  } catch (error) {
    if (error instanceof UsageError || error instanceof UnknownAgencyError) {
      output.err(`seed: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (args === 'help') {
    output.out(USAGE);
    return 0;
  }
  const { agency, out } = args;
  // The other agencies' stores fix which persons exist: a store seeded from another population
  // would describe people the population register does not know.
  const others = REFERENCE_AGENCY_IDS.filter((id) => id !== agency && existsSync(agencyDbPath(out, id)));
  const population = others.length > 0 ? readPopulationMeta(out, others) : null;
  if (others.length > 0 && !population) {
    output.err(`seed: the stores in ${out} (${others.join(', ')}) disagree or cannot be read; regenerate them with npm run generate-data -- --force.`);
    return 1;
  }
  const persons = args.persons ?? population?.persons ?? wholeNumber('POPULATION_SIZE', env['POPULATION_SIZE'], 10_000, 1, MAX_PERSONS);
  const seed = args.seed ?? population?.seed ?? wholeNumber('POPULATION_SEED', env['POPULATION_SEED'], 1, 0, MAX_SEED);
  if (population && (population.persons !== persons || population.seed !== seed || population.generatorVersion !== GENERATOR_VERSION)) {
    output.err(`seed: the stores in ${out} hold ${population.persons} persons with seed ${population.seed}; --persons ${persons} --seed ${seed} would seed ${agency} from another population.`);
    return 1;
  }
  const own = existsSync(agencyDbPath(out, agency)) ? readPopulationMeta(out, [agency]) : null;
  if (!args.force && own && own.persons === persons && own.seed === seed && own.generatorVersion === GENERATOR_VERSION) {
    output.out(`${agency}: ${path.relative(REPO_ROOT, agencyDbPath(out, agency)) || agencyDbPath(out, agency)} already holds ${persons} persons with seed ${seed}; nothing to do (--force rewrites).`);
    return 0;
  }
  let report: WriteStoresReport;
  try {
    report = await writeStores({ dir: out, persons, seed, agencies: [agency] });
  } catch (error) {
    if (error instanceof AgencyModuleError) {
      output.err(`seed: ${error.message}`);
      return 2;
    }
    throw error;
  }
  for (const file of report.files) {
    const rows = Object.entries(file.rows)
      .map(([table, count]) => `${table} ${count}`)
      .join(', ');
    output.out(`${file.agency}: wrote ${file.path} (${formatBytes(file.bytes)}) from ${report.persons} persons, seed ${report.seed}: ${rows}`);
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runSeed(process.argv.slice(2));
}
