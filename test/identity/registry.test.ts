import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFERENCE_AGENCIES } from '../../src/agencies/referenceAgencies.js';
import { AgencyRegistryError, AgencyRegistryHolder, DEV_AGENCY_REGISTRY_PATH, parseAgencyRegistry, readAgencyRegistry } from '../../src/identity/registry.js';

const entry = (changes: Record<string, unknown> = {}) => ({
  id: 'malmo-stad',
  organisationNumber: '212000-1124',
  name: 'Malmö stad',
  roles: ['CLIENT', 'PRIVACY_OFFICER'],
  status: 'ACTIVE',
  ...changes,
});

function problemsOf(value: unknown): readonly string[] {
  try {
    parseAgencyRegistry(value, 'agencies.json');
    return [];
  } catch (error) {
    if (error instanceof AgencyRegistryError) return error.problems;
    throw error;
  }
}

describe('the development agency registry', () => {
  const registry = readAgencyRegistry(DEV_AGENCY_REGISTRY_PATH);

  it('lists the reference agencies as data owners, clients and privacy officers, under their public organisation numbers', () => {
    for (const reference of REFERENCE_AGENCIES) {
      expect(registry.byOrganisationNumber(reference.organisationNumber)).toMatchObject({
        id: reference.id,
        name: reference.name,
        roles: expect.arrayContaining(['DATA_OWNER', 'CLIENT', 'PRIVACY_OFFICER']),
        status: 'ACTIVE',
      });
    }
  });

  it('has a municipality client, the supervisory authority and a suspended agency', () => {
    expect(registry.byId('malmo-stad')).toMatchObject({ organisationNumber: '212000-1124', roles: ['CLIENT', 'PRIVACY_OFFICER'] });
    expect(registry.byId('imy')?.roles).toEqual(['SUPERVISOR']);
    expect(registry.byId('test-suspended')?.status).toBe('SUSPENDED');
  });
});

describe('parseAgencyRegistry', () => {
  it.each<[string, unknown, string]>([
    ['organisation number without hyphen', { agencies: [entry(), entry({ id: 'a2', organisationNumber: '2120001124' })] }, 'agencies.json: agencies[1].organisationNumber: expected NNNNNN-NNNN'],
    ['wrong check digit', { agencies: [entry({ organisationNumber: '212000-1125' })] }, 'agencies.json: agencies[0].organisationNumber: the check digit'],
    ['unknown role', { agencies: [entry({ roles: ['CLIENT', 'ADMIN'] })] }, 'agencies.json: agencies[0].roles[1]: expected one of CLIENT, DATA_OWNER, PRIVACY_OFFICER, SUPERVISOR, OPERATOR'],
    ['no roles', { agencies: [entry({ roles: [] })] }, 'agencies.json: agencies[0].roles: an agency needs at least one role'],
    ['unknown status', { agencies: [entry({ status: 'PAUSED' })] }, 'agencies.json: agencies[0].status: expected ACTIVE or SUSPENDED'],
    ['missing name', { agencies: [entry({ name: undefined })] }, 'agencies.json: agencies[0].name: is required'],
    ['misspelt field', { agencies: [{ ...entry(), organizationNumber: '212000-1124' }] }, 'agencies.json: agencies[0]'],
    ['bad id', { agencies: [entry({ id: 'Malmö Stad' })] }, 'agencies.json: agencies[0].id: expected a lower-case id'],
    ['duplicate id', { agencies: [entry(), entry({ organisationNumber: '202100-5448' })] }, 'agencies.json: agencies[1].id: duplicate of agencies[0].id'],
    ['duplicate organisation number', { agencies: [entry(), entry({ id: 'malmo' })] }, 'agencies.json: agencies[1].organisationNumber: duplicate of agencies[0].organisationNumber'],
    ['not an object', [], 'agencies.json: expected an object with an "agencies" array'],
  ])('names the file, entry and field: %s', (_name, value, expected) => {
    expect(problemsOf(value).some((problem) => problem.startsWith(expected))).toBe(true);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ agencies: [entry({ status: 'X' }), entry({ id: 'bb', organisationNumber: 'x' })] })).toHaveLength(2);
  });
});

describe('AgencyRegistryHolder', () => {
  let dir: string;
  let file: string;
  const write = (agencies: unknown[]) => writeFileSync(file, JSON.stringify({ agencies }));

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'agency-registry-'));
    file = path.join(dir, 'agencies.json');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start on an invalid file', () => {
    writeFileSync(file, '{ not json');
    expect(() => new AgencyRegistryHolder(file)).toThrow(AgencyRegistryError);
  });

  it('reloads explicitly, and keeps the last good registry when the new file is invalid', () => {
    write([entry()]);
    const errors: AgencyRegistryError[] = [];
    const holder = new AgencyRegistryHolder(file, { onError: (error) => errors.push(error) });
    write([entry(), entry({ id: 'imy', organisationNumber: '202100-6420', name: 'IMY', roles: ['SUPERVISOR'] })]);
    expect(holder.reload().ok).toBe(true);
    expect(holder.byId('imy')?.roles).toEqual(['SUPERVISOR']);

    write([entry({ status: 'MAYBE' })]);
    const result = holder.reload();
    expect(result.ok).toBe(false);
    expect(errors[0]?.problems[0]).toContain('agencies[0].status');
    expect(holder.byId('imy')).toBeDefined();
    expect(holder.byOrganisationNumber('212000-1124')?.status).toBe('ACTIVE');
  });

  it('reloads by itself when the file changes and it is watching', async () => {
    write([entry()]);
    let holder: AgencyRegistryHolder | undefined;
    const reloaded = new Promise<void>((resolve) => {
      holder = new AgencyRegistryHolder(file, { watch: true, onReload: () => resolve() });
    });
    // Replace the file the way editors do: a new file renamed over the old one.
    writeFileSync(`${file}.new`, JSON.stringify({ agencies: [entry({ status: 'SUSPENDED' })] }));
    renameSync(`${file}.new`, file);
    await reloaded;
    expect(holder?.byId('malmo-stad')?.status).toBe('SUSPENDED');
    holder?.close();
    expect(readFileSync(file, 'utf8')).toContain('SUSPENDED');
  });
});
