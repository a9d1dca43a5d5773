import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAgencySubgraphFactory } from '../../src/agencies/agencyModules.js';
import { loadAgencySeed } from '../../src/population/agencySeed.js';
import { REFERENCE_AGENCIES, REFERENCE_AGENCY_IDS, UnknownAgencyError } from '../../src/agencies/referenceAgencies.js';
import { runSeed } from '../../src/cli/seed.js';
import { composeSupergraph } from '../../src/apollo/composeSupergraph.js';
import { referenceSubgraphSources } from '../../src/composition/referenceSubgraphs.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { DEV_AGENCY_REGISTRY_PATH, readAgencyRegistry } from '../../src/identity/registry.js';
import { isValidPersonnummer } from '../../src/personnummer/index.js';
import { readPersonalFieldCatalogue } from '../../src/policy/personalFieldCatalogue.js';
import { agencyDbPath, readPopulationMeta, writeStores } from '../../src/population/index.js';
import { contentDigest } from '../support/population.js';

/** Runs `npm run seed` in-process, collecting what it prints. */
async function seed(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSeed(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Runs a CLI as `npm run` does (tsx), to its exit; never started servers, so it ends by itself. */
function cli(entry: string, ...args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, err }));
  });
}

describe('the data-owning agencies, by convention', () => {
  it("REFERENCE_AGENCIES are exactly the registry's data owners, Kronofogden among them on port 4105", () => {
    const owners = readAgencyRegistry(DEV_AGENCY_REGISTRY_PATH).agencies.filter((a) => a.roles.includes('DATA_OWNER'));
    expect(owners.map((a) => [a.id, a.organisationNumber]).sort()).toEqual(REFERENCE_AGENCIES.map((a) => [a.id, a.organisationNumber]).sort());
    expect(REFERENCE_AGENCIES.find((a) => a.id === 'kronofogden')).toEqual({ id: 'kronofogden', name: 'Kronofogdemyndigheten', organisationNumber: '202100-5802', defaultPort: 4105 });
    expect(new Set(REFERENCE_AGENCIES.map((a) => a.defaultPort)).size).toBe(REFERENCE_AGENCIES.length);
  });

  it.each(REFERENCE_AGENCY_IDS)('%s has a subgraph module and a seed module', async (id) => {
    expect(typeof (await loadAgencySubgraphFactory(id))).toBe('function');
    const agencySeed = await loadAgencySeed(id);
    expect(agencySeed.tables).toMatch(/CREATE TABLE/);
    expect(typeof agencySeed.inserter).toBe('function');
  });

  it('an unknown agency id is refused naming it and every known one', async () => {
    const refused = loadAgencySubgraphFactory('lantmateriet');
    await expect(refused).rejects.toBeInstanceOf(UnknownAgencyError);
    await expect(refused).rejects.toMatchObject({ agencyId: 'lantmateriet' });
  });

  it('compose includes Kronofogden with its personal fields as declared', () => {
    const composed = composeSupergraph(referenceSubgraphSources('https'));
    expect(composed.supergraphSdl).toContain('@join__graph(name: "kronofogden", url: "https://127.0.0.1:4105/graphql")');
    const catalogue = readPersonalFieldCatalogue(composed.supergraphSdl);
    const declared = (coordinate: string) => {
      const field = catalogue.fields.get(coordinate);
      return field && { owner: field.owner, category: field.category, purposes: [...field.purposes].sort() };
    };
    expect(declared('Person.enforcementDebt')).toEqual({ owner: 'kronofogden', category: 'DEBT', purposes: ['CASE_HANDLING', 'DUTY_TO_DISCLOSE', 'PAYMENT_CONTROL', 'STATISTICS'] });
    expect(declared('Person.distraints')).toEqual({ owner: 'kronofogden', category: 'DEBT', purposes: ['CASE_HANDLING', 'DUTY_TO_DISCLOSE', 'PAYMENT_CONTROL'] });
    expect(declared('Person.debtRestructuring')).toEqual({ owner: 'kronofogden', category: 'DEBT', purposes: ['CASE_HANDLING', 'DUTY_TO_DISCLOSE'] });
  });
});

describe('the command line names an unknown agency and the known ones', () => {
  const known = REFERENCE_AGENCY_IDS.join(', ');
  it.each([
    ['serve-subgraph --agency', 'src/cli/serveSubgraph.ts', ['--agency', 'lantmateriet']],
    ['serve-subgraph, positional', 'src/cli/serveSubgraph.ts', ['lantmateriet']],
    ['seed --agency', 'src/cli/seed.ts', ['--agency', 'lantmateriet']],
  ])('%s: exit 2', async (_name, entry, args) => {
    const { code, err } = await cli(entry, ...args);
    expect(code).toBe(2);
    expect(err).toContain('Unknown agency "lantmateriet"');
    expect(err).toContain(known);
  });
});

describe('npm run seed', () => {
  let dir: string;
  let full: string;
  const PERSONS = 600;
  const SEED = 5;
  const others = REFERENCE_AGENCY_IDS.filter((id) => id !== 'kronofogden');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'seed-test-'));
    full = path.join(dir, 'full');
    // The existing four stores, as a deployment had them before Kronofogden joined.
    await writeStores({ dir: path.join(dir, 'data'), persons: PERSONS, seed: SEED, agencies: others });
    await writeStores({ dir: full, persons: PERSONS, seed: SEED });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("adds a new agency's store for the persons of the stores already there", async () => {
    const data = path.join(dir, 'data');
    expect(existsSync(agencyDbPath(data, 'kronofogden'))).toBe(false);
    const first = await seed('--agency', 'kronofogden', '--out', data);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/kronofogden: wrote .*kronofogden\.db .* from 600 persons, seed 5: debt_restructuring \d+, distraint \d+, enforcement_debt \d+/);
    expect(readPopulationMeta(data)).toEqual(expect.objectContaining({ persons: PERSONS, seed: SEED }));
    // The same rows as a full generation: the seed draws from its own stream, in household order.
    expect(contentDigest(data, 'kronofogden')).toBe(contentDigest(full, 'kronofogden'));
    // ...and the other agencies' data is what it was without Kronofogden.
    for (const id of others) expect(contentDigest(data, id), id).toBe(contentDigest(full, id));
  });

  it('writes records only about registered persons, with valid personnummer, and some of each kind', () => {
    const db = new Database(agencyDbPath(path.join(dir, 'data'), 'kronofogden'), { readonly: true });
    try {
      db.prepare('ATTACH DATABASE ? AS skv').run(agencyDbPath(path.join(dir, 'data'), 'skatteverket'));
      for (const table of ['enforcement_debt', 'distraint', 'debt_restructuring']) {
        expect(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), table).toBeGreaterThan(0);
        expect(db.prepare(`SELECT count(*) FROM ${table} WHERE personnummer NOT IN (SELECT personnummer FROM skv.person)`).pluck().get(), table).toBe(0);
        const numbers = db.prepare(`SELECT DISTINCT personnummer FROM ${table}`).pluck().all() as string[];
        expect(
          numbers.filter((p) => !isValidPersonnummer(p)),
          table,
        ).toEqual([]);
      }
      // Debts are owed by adults only.
      expect(db.prepare("SELECT count(*) FROM enforcement_debt d JOIN skv.person p USING (personnummer) WHERE p.date_of_birth > '2006-12-31'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('leaves a matching store alone and refuses to seed from another population', async () => {
    const data = path.join(dir, 'data');
    const before = contentDigest(data, 'kronofogden');
    expect(await seed('--agency', 'kronofogden', '--out', data)).toMatchObject({ code: 0, out: expect.stringContaining('nothing to do') });
    const other = await seed('--agency', 'kronofogden', '--out', data, '--persons', '700', '--seed', '5');
    expect(other.code).toBe(1);
    expect(other.err).toContain('hold 600 persons with seed 5');
    expect(contentDigest(data, 'kronofogden')).toBe(before);
  });

  it('chooses the population with --persons and --seed in an empty directory', async () => {
    const empty = path.join(dir, 'empty');
    expect(await seed('--agency', 'kronofogden', '--out', empty, '--persons', String(PERSONS), '--seed', String(SEED))).toMatchObject({ code: 0 });
    expect(contentDigest(empty, 'kronofogden')).toBe(contentDigest(full, 'kronofogden'));
  });

  it.each([
    [['--out', 'x'], '--agency <id> is required'],
    [['--agency', 'kronofogden', '--persons', 'many'], '--persons must be a whole number'],
    [['--agency', 'kronofogden', '--bogus'], "Unknown option '--bogus'"],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const result = await seed(...argv);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});
