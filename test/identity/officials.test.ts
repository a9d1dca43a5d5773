import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/parseEnv.js';
import { hsaIdOfCertificate } from '../../src/client/index.js';
import { verifyClientCertificate } from '../../src/identity/clientCertificate.js';
import { parseHsaId } from '../../src/identity/hsaId.js';
import { DEV_OFFICIAL_REGISTRY_PATH, OfficialRegistryError, officialHoldsRole, openOfficialRegistry, parseOfficialRegistry, readOfficialRegistry } from '../../src/identity/officialRegistry.js';
import { readCertificateFields } from '../../src/identity/pki/certificateFields.js';
import { ensureDevFederation } from '../../src/identity/pki/devFederation.js';
import { federationFiles } from '../../src/identity/pki/federationFiles.js';
import { OID } from '../../src/identity/pki/oids.js';
import { DEV_PKCS12_PASSWORD } from '../../src/identity/pki/pkcs12.js';
import { DEV_AGENCY_REGISTRY_PATH, readAgencyRegistry } from '../../src/identity/registry.js';

const agencies = readAgencyRegistry(DEV_AGENCY_REGISTRY_PATH);

const official = (changes: Record<string, unknown> = {}) => ({
  id: 'dso-skv-9',
  agency: 'skatteverket',
  hsaId: 'SE2021005448-DSO9',
  name: 'Test Testsson',
  roles: ['PRIVACY_OFFICER'],
  ...changes,
});

function problemsOf(value: unknown): readonly string[] {
  try {
    parseOfficialRegistry(value, 'officials.json', agencies);
    return [];
  } catch (error) {
    if (error instanceof OfficialRegistryError) return error.problems;
    throw error;
  }
}

describe('the officials registry', () => {
  it('registers, in development, privacy officers of four agencies, the supervisor and an operator, each backed by the agency registry', () => {
    const registry = readOfficialRegistry(DEV_OFFICIAL_REGISTRY_PATH, agencies);
    expect(registry.officials.map((o) => [o.id, o.roles.join()])).toEqual(
      expect.arrayContaining([
        ['dso-skv-1', 'PRIVACY_OFFICER'],
        ['imy-insp-1', 'SUPERVISOR'],
        ['ops-fk-1', 'OPERATOR'],
      ]),
    );
    for (const entry of registry.officials) {
      const agency = agencies.byId(entry.agency)!;
      for (const role of entry.roles) expect(officialHoldsRole(entry, agency, role), `${entry.id} ${role}`).toBe(true);
      expect(parseHsaId(entry.hsaId)?.organisationNumber).toBe(agency.organisationNumber);
    }
  });

  it.each([
    ['an unknown agency', official({ agency: 'lantmateriet' }), 'officials.json: officials[0].agency: "lantmateriet" is not in the agency registry'],
    ["another employer's HSA-id", official({ hsaId: 'SE2021005521-DSO9' }), 'officials.json: officials[0].hsaId: names another organisation than skatteverket (202100-5448)'],
    ['a role the agency does not hold', official({ roles: ['SUPERVISOR'] }), 'officials.json: officials[0].roles[0]: agency skatteverket does not hold the role SUPERVISOR in the agency registry'],
    ['an unknown role', official({ roles: ['ADMIN'] }), 'officials.json: officials[0].roles[0]: expected one of PRIVACY_OFFICER, SUPERVISOR, OPERATOR'],
    ['an id that could be a personnummer', official({ id: '198503140000' }), 'officials.json: officials[0].id: expected a pseudonymous lower-case id'],
    ['no HSA-id form', official({ hsaId: '202100-5448' }), 'officials.json: officials[0].hsaId: expected an HSA-id'],
    ['no roles', official({ roles: [] }), 'officials.json: officials[0].roles: an official needs at least one role'],
  ])('refuses %s, naming the entry and the field', (_name, entry, expected) => {
    const problems = problemsOf({ officials: [entry] });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toContain(expected);
  });

  it('refuses a repeated id or HSA-id', () => {
    expect(problemsOf({ officials: [official(), official({ hsaId: 'SE2021005448-OTHER' })] })).toEqual(['officials.json: officials[1].id: duplicate of officials[0].id "dso-skv-9"']);
    expect(problemsOf({ officials: [official(), official({ id: 'dso-skv-10' })] })).toEqual(['officials.json: officials[1].hsaId: duplicate of officials[0].hsaId "SE2021005448-DSO9"']);
  });

  it('fails start-up naming OFFICIAL_REGISTRY_PATH, and keeps the last good registry when an edit is invalid', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'officials-'));
    const file = path.join(dir, 'officials.json');
    try {
      writeFileSync(file, JSON.stringify({ officials: [official({ agency: 'nobody' })] }));
      expect(() => openOfficialRegistry(file, agencies)).toThrow(ConfigError);
      try {
        openOfficialRegistry(file, agencies);
      } catch (error) {
        expect((error as ConfigError).problems[0]).toMatch(/^OFFICIAL_REGISTRY_PATH: .*officials\.json: officials\[0\]\.agency/);
      }
      writeFileSync(file, JSON.stringify({ officials: [official()] }));
      const holder = openOfficialRegistry(file, agencies);
      writeFileSync(file, '{"officials": [');
      const reload = holder.reload();
      expect(reload.ok).toBe(false);
      expect(holder.byHsaId('SE2021005448-DSO9')?.id).toBe('dso-skv-9');
      holder.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('personal certificates of the development federation', () => {
  let dir: string;
  const officials = readOfficialRegistry(DEV_OFFICIAL_REGISTRY_PATH, agencies);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'personal-certs-'));
    await ensureDevFederation({ dir, registry: agencies, officials });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names the employer like an agency certificate and the holder's HSA-id in serialNumber, for clientAuth only", () => {
    const certificate = new X509Certificate(readFileSync(federationFiles(dir).officialCertificate('dso-skv-1').certificate));
    const fields = readCertificateFields(certificate.raw);
    expect(fields.subject.get(OID.organizationIdentifier)).toEqual(['NTRSE-2021005448']);
    expect(fields.subject.get(OID.serialNumber)).toEqual(['SE2021005448-DSO1']);
    expect(fields.subject.get(OID.commonName)).toEqual(['Anna Berglund']);
    expect(fields.extendedKeyUsage).toEqual([OID.clientAuth]);
    expect(hsaIdOfCertificate(certificate)).toBe('SE2021005448-DSO1');
    const trust = { authorities: [new X509Certificate(readFileSync(federationFiles(dir).caCertificate))], isRevoked: () => false };
    const verified = verifyClientCertificate({ certificate, authorizationError: null, registry: agencies, trust });
    expect([verified.agency.id, verified.hsaId]).toEqual(['skatteverket', 'SE2021005448-DSO1']);
    // An agency's system certificate names no HSA-id.
    const system = new X509Certificate(readFileSync(federationFiles(dir).agencyCertificate('skatteverket').certificate));
    expect(verifyClientCertificate({ certificate: system, authorizationError: null, registry: agencies, trust }).hsaId).toBeUndefined();
  });

  it('writes a PKCS#12 copy for the browser that TLS opens with the documented password', () => {
    for (const entry of officials.officials) {
      const files = federationFiles(dir).officialCertificate(entry.id);
      expect(existsSync(files.pkcs12), entry.id).toBe(true);
      expect(() => tls.createSecureContext({ pfx: readFileSync(files.pkcs12), passphrase: DEV_PKCS12_PASSWORD })).not.toThrow();
    }
    expect(() => tls.createSecureContext({ pfx: readFileSync(federationFiles(dir).officialCertificate('dso-skv-1').pkcs12), passphrase: 'wrong' })).toThrow();
  });

  it('keeps every personal certificate and .p12 on a second run, and recreates a missing .p12', async () => {
    expect((await ensureDevFederation({ dir, registry: agencies, officials })).filter((step) => step.action !== 'kept')).toEqual([]);
    rmSync(federationFiles(dir).officialCertificate('imy-insp-1').pkcs12);
    const steps = await ensureDevFederation({ dir, registry: agencies, officials });
    expect(steps.filter((step) => step.action !== 'kept').map((step) => path.basename(step.file))).toEqual(['imy-insp-1.p12']);
  });
});
