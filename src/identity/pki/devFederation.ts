import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AgencyRegistry, RegisteredAgency } from '../registry.js';
import type { OfficialRegistry, RegisteredOfficial } from '../officialRegistry.js';
import { agencyCertificateSubject, officialCertificateSubject } from './agencySubject.js';
import { generateAuditKeyFile, readAuditKeys } from './auditKeys.js';
import { caProblem, leafProblem, readCertificateAuthority, readRevocationList, writeCertificate, type LeafExpectation } from './certificateAuthorityFiles.js';
import { federationFiles, GATEWAY_CLIENT_NAME, GATEWAY_SERVER_NAME, writeFileAtomically, type FederationFiles } from './federationFiles.js';
import { generateGatewaySigningKeyFile, readGatewaySigningKey } from './gatewaySigningKey.js';
import { pkcs12Problem, writePkcs12 } from './pkcs12.js';
import {
  commonNameSubject,
  createCertificateAuthority,
  issueCertificate,
  validityFor,
  type CertificateAuthority,
  type CertificateProfile,
  type IssuedCertificate,
  type NameAttribute,
} from './issueCertificate.js';
import { signRevocationList, type ParsedRevocationList, type RevocationEntry } from './revocationList.js';
import { normaliseSerialNumber } from './serialNumbers.js';

/**
 * The development federation: a local root CA standing in for the federation's real one, and
 * everything `npm run certs` derives from it. Idempotent: a file that exists and is still
 * usable is kept, so agencies' keys do not change under running processes.
 */

export const DEV_DAYS = { ca: 3650, leaf: 365, crl: 90 } as const;
/** Certificates and CRLs this close to expiry are renewed rather than kept. */
const RENEW_WITHIN_DAYS = { ca: 30, leaf: 7, crl: 7 } as const;

export const DEV_CA_SUBJECT: readonly NameAttribute[] = commonNameSubject('Agency exchange development root CA', 'Development federation (not for production)');
const LOCAL_SERVER: CertificateProfile = { kind: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] };
const LOCAL_SERVER_ALT_NAMES = ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1'];

/**
 * True for a CA made by `npm run certs`. A production start-up should refuse to trust one: its
 * key sits unprotected on a developer's disk.
 */
export function isDevelopmentCertificateAuthority(certificate: X509Certificate): boolean {
  return certificate.ca && certificate.subject.includes('(not for production)');
}

export interface EnsureStep {
  readonly file: string;
  readonly action: 'created' | 'replaced' | 'kept';
  /** Why a file was replaced. */
  readonly reason?: string;
}

interface LeafPlan {
  readonly paths: { readonly certificate: string; readonly key: string; readonly pkcs12?: string };
  readonly subject: readonly NameAttribute[];
  readonly profile: CertificateProfile;
  readonly expectation: LeafExpectation;
  /** Shown by a browser or keychain for the PKCS#12 copy. */
  readonly friendlyName?: string;
}

/** The witness service's server certificate (`npm run witness` serves HTTPS with it). */
export const WITNESS_SERVER_NAME = 'witness';

/** The servers: the gateway, every data-owning agency's subgraph under its id, and the development witness. */
export function serverNames(registry: AgencyRegistry): string[] {
  return [GATEWAY_SERVER_NAME, ...registry.agencies.filter((agency) => agency.roles.includes('DATA_OWNER')).map((agency) => agency.id), WITNESS_SERVER_NAME];
}

/** An official's personal certificate, for the agency the registry names as employer. */
function officialSubject(registry: AgencyRegistry, official: RegisteredOfficial): NameAttribute[] {
  const agency = registry.byId(official.agency);
  if (!agency) throw new Error(`Official ${official.id}: agency ${official.agency} is not in the agency registry.`);
  return officialCertificateSubject(official, agency);
}

function leafPlans(files: FederationFiles, registry: AgencyRegistry, officials: OfficialRegistry | undefined): LeafPlan[] {
  const personal = (officials?.officials ?? []).map((official): LeafPlan => {
    const subject = officialSubject(registry, official);
    return {
      paths: files.officialCertificate(official.id),
      subject,
      profile: { kind: 'client' },
      expectation: { usage: 'client', subject },
      friendlyName: `${official.name} (${official.id})`,
    };
  });
  const agencies = registry.agencies.map((agency): LeafPlan => {
    const subject = agencyCertificateSubject(agency);
    return { paths: files.agencyCertificate(agency.id), subject, profile: { kind: 'client' }, expectation: { usage: 'client', subject } };
  });
  const servers = serverNames(registry).map((name): LeafPlan => {
    const subject = commonNameSubject(name === GATEWAY_SERVER_NAME ? 'Agency exchange gateway' : name === WITNESS_SERVER_NAME ? 'Access-log witness (development)' : `${name} subgraph`);
    return {
      paths: files.serverCertificate(name),
      subject,
      profile: LOCAL_SERVER,
      expectation: { usage: 'server', subject, subjectAltNames: LOCAL_SERVER_ALT_NAMES },
    };
  });
  const gatewayClientSubject = commonNameSubject('Agency exchange gateway (subgraph client)');
  const gatewayClient: LeafPlan = {
    paths: files.serverCertificate(GATEWAY_CLIENT_NAME),
    subject: gatewayClientSubject,
    profile: { kind: 'client' },
    expectation: { usage: 'client', subject: gatewayClientSubject },
  };
  return [...agencies, ...personal, ...servers, gatewayClient];
}

const step = (file: string, problem: string | undefined): EnsureStep =>
  problem === undefined ? { file, action: 'kept' } : problem === 'missing' ? { file, action: 'created' } : { file, action: 'replaced', reason: problem };

/** Keeps a CRL that this CA signed and that is not yet due; otherwise writes a fresh one. */
function ensureRevocationList(files: FederationFiles, ca: CertificateAuthority, caIsNew: boolean, now: Date): { step: EnsureStep; entries: readonly RevocationEntry[] } {
  let existing: ParsedRevocationList | undefined;
  let problem: string | undefined = 'missing';
  if (caIsNew) {
    if (existsSync(files.crl)) problem = 'the CA was replaced';
  } else if (existsSync(files.crl)) {
    try {
      existing = readRevocationList(files, new X509Certificate(ca.certificatePem));
      const nextUpdate = existing?.nextUpdate?.getTime() ?? 0;
      problem = nextUpdate - now.getTime() < RENEW_WITHIN_DAYS.crl * 86_400_000 ? 'next update is due' : undefined;
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  // A list that is merely due keeps its entries: renewing it must not un-revoke anything.
  const entries = existing?.entries ?? [];
  if (problem !== undefined) writeRevocationList(files, ca, entries, (existing?.crlNumber ?? 0n) + 1n, now);
  return { step: step(files.crl, problem), entries };
}

export function writeRevocationList(files: FederationFiles, ca: CertificateAuthority, entries: readonly RevocationEntry[], crlNumber: bigint, now: Date): void {
  const pem = signRevocationList(ca, {
    crlNumber,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + DEV_DAYS.crl * 86_400_000),
    entries,
  });
  writeFileAtomically(files.crl, pem);
}

/**
 * Creates or renews what is missing or unusable in `dir`; returns what it did per file. With
 * `officials`, each registered official also gets a personal certificate (and a .p12 for browsers).
 */
export async function ensureDevFederation(options: { readonly dir: string; readonly registry: AgencyRegistry; readonly officials?: OfficialRegistry; readonly now?: Date }): Promise<EnsureStep[]> {
  const files = federationFiles(options.dir);
  const now = options.now ?? new Date();
  const steps: EnsureStep[] = [];

  const caStatus = caProblem(files, now, RENEW_WITHIN_DAYS.ca);
  let ca: CertificateAuthority;
  if (caStatus === undefined) ca = readCertificateAuthority(files);
  else {
    ca = createCertificateAuthority({ subject: DEV_CA_SUBJECT, validity: validityFor(DEV_DAYS.ca, new Date(now.getTime() - 60_000)) });
    writeCertificate({ certificate: files.caCertificate, key: files.caKey }, ca);
  }
  steps.push(step(files.caCertificate, caStatus));
  const caCertificate = new X509Certificate(ca.certificatePem);

  const crl = ensureRevocationList(files, ca, caStatus !== undefined, now);
  steps.push(crl.step);
  const revoked = new Set(crl.entries.map((entry) => entry.serialNumber));

  for (const plan of leafPlans(files, options.registry, options.officials)) {
    const problem = leafProblem(plan.paths, { ca: caCertificate, revoked, now, renewWithinDays: RENEW_WITHIN_DAYS.leaf }, plan.expectation);
    if (problem !== undefined) {
      writeCertificate(plan.paths, issueCertificate(ca, { subject: plan.subject, profile: plan.profile, validity: validityFor(DEV_DAYS.leaf, new Date(now.getTime() - 60_000)) }));
    }
    steps.push(step(plan.paths.certificate, problem));
    const { pkcs12 } = plan.paths;
    if (pkcs12 !== undefined) {
      // The .p12 is a copy of the pair beside it: rewritten whenever the pair is.
      const copyProblem = pkcs12Problem(pkcs12, plan.paths);
      if (copyProblem !== undefined) writePkcs12Of(plan.paths as Required<LeafPlan['paths']>, ca.certificatePem, plan.friendlyName ?? '');
      steps.push(step(pkcs12, copyProblem));
    }
  }

  // Browsers import agency certificates as PKCS#12 (the IDE and the audit console); kept while they hold the current certificate.
  for (const agency of options.registry.agencies) {
    const p12 = files.agencyPkcs12(agency.id);
    const problem = pkcs12Problem(p12, files.agencyCertificate(agency.id));
    if (problem !== undefined) writeAgencyPkcs12(files, agency.id, ca.certificatePem);
    steps.push(step(p12, problem));
  }

  steps.push(
    await ensureSecretFile(
      files.gatewaySigningKey,
      async () => void (await readGatewaySigningKey(files.gatewaySigningKey)),
      async () => JSON.stringify(await generateGatewaySigningKeyFile(), null, 2),
    ),
  );
  steps.push(
    await ensureSecretFile(
      files.auditKeys,
      async () => void readAuditKeys(files.auditKeys),
      async () => JSON.stringify(generateAuditKeyFile(), null, 2),
    ),
  );
  return steps;
}

async function ensureSecretFile(file: string, check: () => Promise<void>, generate: () => Promise<string>): Promise<EnsureStep> {
  let problem: string | undefined = 'missing';
  if (existsSync(file)) {
    try {
      await check();
      problem = undefined;
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  if (problem !== undefined) writeFileAtomically(file, `${await generate()}\n`, { secret: true });
  return step(file, problem);
}

function writeAgencyPkcs12(files: FederationFiles, agencyId: string, caCertificatePem: string): void {
  writePkcs12Of({ ...files.agencyCertificate(agencyId), pkcs12: files.agencyPkcs12(agencyId) }, caCertificatePem, `${agencyId} (development federation)`);
}

function writePkcs12Of(paths: { readonly certificate: string; readonly key: string; readonly pkcs12: string }, caCertificatePem: string, friendlyName: string): void {
  writePkcs12(paths.pkcs12, { certificate: readFileSync(paths.certificate, 'utf8'), key: readFileSync(paths.key, 'utf8'), caCertificate: caCertificatePem }, friendlyName);
}

interface IssueOptions {
  readonly dir: string;
  readonly days?: number;
  readonly notBefore?: Date;
  readonly outDir?: string;
}

type IssuedFiles = IssuedCertificate & { readonly certificatePath: string; readonly keyPath: string };

/** Issues one client certificate from the directory's CA into `paths`, or `outDir/<name>.*`. */
function issueClientCertificateFiles(options: IssueOptions, subject: readonly NameAttribute[], name: string, paths: { readonly certificate: string; readonly key: string }): IssuedFiles {
  const ca = readCertificateAuthority(federationFiles(options.dir));
  const issued = issueCertificate(ca, { subject, profile: { kind: 'client' }, validity: validityFor(options.days ?? DEV_DAYS.leaf, options.notBefore) });
  const outPaths = options.outDir ? { certificate: path.join(options.outDir, `${name}.crt`), key: path.join(options.outDir, `${name}.key`) } : paths;
  writeCertificate(outPaths, issued);
  return { ...issued, certificatePath: outPaths.certificate, keyPath: outPaths.key };
}

/**
 * Issues one agency certificate from the directory's CA, replacing any at the destination.
 * `notBefore` in the past or future makes expired and not-yet-valid certificates for tests.
 */
export function issueAgencyCertificateFiles(options: IssueOptions & { readonly agency: RegisteredAgency }): IssuedFiles {
  const files = federationFiles(options.dir);
  const issued = issueClientCertificateFiles(options, agencyCertificateSubject(options.agency), options.agency.id, files.agencyCertificate(options.agency.id));
  if (!options.outDir) writeAgencyPkcs12(files, options.agency.id, readCertificateAuthority(files).certificatePem);
  return issued;
}

/**
 * Issues one official's personal certificate (and its .p12 when written into the federation
 * directory). The official need not be registered: tests use that for an unknown holder.
 */
export function issueOfficialCertificateFiles(options: IssueOptions & { readonly official: Pick<RegisteredOfficial, 'id' | 'hsaId' | 'name'>; readonly agency: RegisteredAgency }): IssuedFiles {
  const paths = federationFiles(options.dir).officialCertificate(options.official.id);
  const issued = issueClientCertificateFiles(options, officialCertificateSubject(options.official, options.agency), options.official.id, paths);
  if (!options.outDir) writePkcs12Of(paths, readCertificateAuthority(federationFiles(options.dir)).certificatePem, `${options.official.name} (${options.official.id})`);
  return issued;
}

/** Adds a serial to the CRL and re-signs it. Revoking an already revoked serial changes nothing. */
export function revokeSerialNumber(options: { readonly dir: string; readonly serialNumber: string; readonly now?: Date }): { readonly alreadyRevoked: boolean; readonly crlNumber: bigint } {
  const files = federationFiles(options.dir);
  const ca = readCertificateAuthority(files);
  const now = options.now ?? new Date();
  const existing = readRevocationList(files, new X509Certificate(ca.certificatePem));
  const entries = existing?.entries ?? [];
  if (entries.some((entry) => entry.serialNumber === options.serialNumber)) {
    return { alreadyRevoked: true, crlNumber: existing?.crlNumber ?? 0n };
  }
  const crlNumber = (existing?.crlNumber ?? 0n) + 1n;
  writeRevocationList(files, ca, [...entries, { serialNumber: options.serialNumber, revokedAt: now }], crlNumber, now);
  return { alreadyRevoked: false, crlNumber };
}

export interface ListedCertificate {
  readonly file: string;
  readonly subject: string;
  readonly serialNumber: string;
  readonly notAfter: Date;
  readonly status: 'valid' | 'expired' | 'not yet valid' | 'revoked' | 'not issued by the CA';
}

/** Every certificate in the directory with its status against the CA, the CRL and the clock. */
export function listFederationCertificates(options: { readonly dir: string; readonly now?: Date }): ListedCertificate[] {
  const files = federationFiles(options.dir);
  const now = options.now ?? new Date();
  const ca = new X509Certificate(readFileSync(files.caCertificate));
  const revoked = new Set(readRevocationList(files, ca)?.entries.map((entry) => entry.serialNumber) ?? []);
  const paths = [files.caCertificate, ...certificateFilesIn(files.agencyDir), ...certificateFilesIn(files.officialDir), ...certificateFilesIn(files.serverDir)];
  return paths.map((file) => {
    const certificate = new X509Certificate(readFileSync(file));
    const serialNumber = normaliseSerialNumber(certificate.serialNumber);
    const status: ListedCertificate['status'] = !certificate.verify(ca.publicKey)
      ? 'not issued by the CA'
      : revoked.has(serialNumber)
        ? 'revoked'
        : new Date(certificate.validFrom) > now
          ? 'not yet valid'
          : new Date(certificate.validTo) <= now
            ? 'expired'
            : 'valid';
    return { file, subject: certificate.subject.replace(/\n/g, ', '), serialNumber, notAfter: new Date(certificate.validTo), status };
  });
}

function certificateFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.crt'))
    .sort()
    .map((name) => path.join(dir, name));
}
