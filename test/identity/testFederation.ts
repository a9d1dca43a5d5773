import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { agencyCertificateSubject } from '../../src/identity/pki/agencySubject.js';
import {
  commonNameSubject,
  createCertificateAuthority,
  issueCertificate,
  validityFor,
  type CertificateAuthority,
  type CertificateProfile,
  type IssuedCertificate,
  type Validity,
} from '../../src/identity/pki/issueCertificate.js';
import { generateRsaKeyPair, type KeyPairPem } from '../../src/identity/pki/keys.js';
import { parseAgencyRegistry, type AgencyRegistry } from '../../src/identity/registry.js';

/**
 * A small federation for tests: two CAs (ours and a stranger's), a registry, and two agency key
 * pairs reused for every certificate, since key generation is what makes PKI tests slow.
 */
export interface TestFederation {
  readonly dir: string;
  readonly ca: CertificateAuthority;
  readonly otherCa: CertificateAuthority;
  readonly registry: AgencyRegistry;
  readonly keys: readonly [KeyPairPem, KeyPairPem];
  issue(
    agency: { id: string; name: string; organisationNumber: string },
    options?: { validity?: Validity; profile?: CertificateProfile; ca?: CertificateAuthority; keyPair?: KeyPairPem },
  ): IssuedCertificate;
  cleanup(): void;
}

export const TEST_AGENCIES = {
  forsakringskassan: { id: 'forsakringskassan', name: 'Försäkringskassan', organisationNumber: '202100-5521' },
  skatteverket: { id: 'skatteverket', name: 'Skatteverket', organisationNumber: '202100-5448' },
  suspended: { id: 'test-suspended', name: 'Avstängda testmyndigheten', organisationNumber: '202999-9998' },
  /** A valid-looking organisation that the registry does not list. */
  unregistered: { id: 'okand-ab', name: 'Okänd AB', organisationNumber: '556000-0001' },
} as const;

export function testRegistry(): AgencyRegistry {
  return parseAgencyRegistry(
    {
      agencies: [
        { ...TEST_AGENCIES.forsakringskassan, roles: ['DATA_OWNER', 'CLIENT'], status: 'ACTIVE' },
        { ...TEST_AGENCIES.skatteverket, roles: ['DATA_OWNER', 'CLIENT'], status: 'ACTIVE' },
        { ...TEST_AGENCIES.suspended, roles: ['CLIENT'], status: 'SUSPENDED' },
      ],
    },
    'test registry',
  );
}

export function createTestFederation(): TestFederation {
  const dir = mkdtempSync(path.join(tmpdir(), 'agency-pki-'));
  const ca = createCertificateAuthority({ subject: commonNameSubject('Test federation root CA'), validity: validityFor(30) });
  const otherCa = createCertificateAuthority({ subject: commonNameSubject('Someone else root CA'), validity: validityFor(30) });
  const keys = [generateRsaKeyPair(), generateRsaKeyPair()] as const;
  return {
    dir,
    ca,
    otherCa,
    registry: testRegistry(),
    keys,
    issue: (agency, options = {}) =>
      issueCertificate(options.ca ?? ca, {
        subject: agencyCertificateSubject(agency),
        profile: options.profile ?? { kind: 'client' },
        validity: options.validity ?? validityFor(10),
        keyPair: options.keyPair ?? keys[0],
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const LOCAL_SERVER: CertificateProfile = { kind: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };
