import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_CERTS_DIR } from '../config/paths.js';
import { ensureDevFederation, issueAgencyCertificateFiles, issueOfficialCertificateFiles, listFederationCertificates, revokeSerialNumber } from '../identity/pki/devFederation.js';
import { DEV_OFFICIAL_REGISTRY_PATH, OfficialRegistryError, readOfficialRegistry, type OfficialRegistry } from '../identity/officialRegistry.js';
import { DEV_PKCS12_PASSWORD } from '../identity/pki/pkcs12.js';
import { serialNumberOfCertificateFile } from '../identity/pki/certificateAuthorityFiles.js';
import { federationFiles } from '../identity/pki/federationFiles.js';
import { normaliseSerialNumber } from '../identity/pki/serialNumbers.js';
import { AgencyRegistryError, DEV_AGENCY_REGISTRY_PATH, readAgencyRegistry, type AgencyRegistry } from '../identity/registry.js';
import { UsageError } from './commandFailure.js';

const USAGE = `Usage:
  npm run certs                                   create or renew the development federation (idempotent)
  npm run certs -- issue <agencyId|officialId> [--days N] [--not-before ISO-8601] [--out DIR]
  npm run certs -- revoke <agencyId|officialId|serial>  add a certificate to the CRL and re-sign it
  npm run certs -- list                           certificates with their status

Options:
  --dir DIR          federation directory (default certs/dev)
  --registry FILE    agency registry (default src/config/dev/agencies.json)
  --officials FILE   officials registry (default src/config/dev/officials.json)

Officials' personal certificates are in <dir>/officials/, also as .p12 for a browser
(password "${DEV_PKCS12_PASSWORD}").`;

export interface CommandOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleOutput: CommandOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

function relative(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        dir: { type: 'string' },
        registry: { type: 'string' },
        officials: { type: 'string' },
        days: { type: 'string' },
        'not-before': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** An agency, or an official with their agency, by id. */
function holderOf(registry: AgencyRegistry, officials: OfficialRegistry, id: string | undefined) {
  if (!id) throw new UsageError('Name the agency or official: certs issue <agencyId|officialId>.');
  const agency = registry.byId(id);
  if (agency) return { agency };
  const official = officials.byId(id);
  const employer = official ? registry.byId(official.agency) : undefined;
  if (official && employer) return { agency: employer, official };
  throw new UsageError(`Unknown agency or official "${id}". Agencies: ${registry.agencies.map((a) => a.id).join(', ')}. Officials: ${officials.officials.map((o) => o.id).join(', ')}.`);
}

function positiveDays(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const days = Number(raw);
  if (!Number.isFinite(days) || days <= 0) throw new UsageError(`--days: expected a positive number of days, got "${raw}".`);
  return days;
}

function isoDate(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--not-before: expected an ISO-8601 date such as 2025-01-31T00:00:00Z, got "${raw}".`);
  return date;
}

/** Runs the command and returns its exit code: 0 done, 1 failed, 2 called wrongly. */
export async function runCertsCommand(argv: readonly string[], output: CommandOutput = consoleOutput): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      output.out(USAGE);
      return 0;
    }
    const dir = path.resolve(values.dir ?? DEFAULT_CERTS_DIR);
    const registryFile = path.resolve(values.registry ?? DEV_AGENCY_REGISTRY_PATH);
    const officialsFile = path.resolve(values.officials ?? DEV_OFFICIAL_REGISTRY_PATH);
    const registries = () => {
      const registry = readAgencyRegistry(registryFile);
      return { registry, officials: readOfficialRegistry(officialsFile, registry) };
    };
    const [command, ...rest] = positionals;
    const extra = (allowed: number) => {
      if (rest.length > allowed) throw new UsageError(`Unexpected argument "${rest[allowed]}".`);
    };

    switch (command) {
      case undefined: {
        const started = Date.now();
        const steps = await ensureDevFederation({ dir, ...registries() });
        for (const step of steps) {
          if (step.action !== 'kept') output.out(`${step.action.padEnd(8)} ${relative(step.file)}${step.reason ? ` (${step.reason})` : ''}`);
        }
        const kept = steps.filter((step) => step.action === 'kept').length;
        output.out(`${relative(dir)}: ${steps.length - kept} written, ${kept} kept as valid (${Date.now() - started} ms).`);
        return 0;
      }
      case 'issue': {
        extra(1);
        const { registry, officials } = registries();
        const holder = holderOf(registry, officials, rest[0]);
        const issue = {
          dir,
          agency: holder.agency,
          ...optional('days', positiveDays(values.days)),
          ...optional('notBefore', isoDate(values['not-before'])),
          ...optional('outDir', values.out === undefined ? undefined : path.resolve(values.out)),
        };
        const issued = holder.official ? issueOfficialCertificateFiles({ ...issue, official: holder.official }) : issueAgencyCertificateFiles(issue);
        output.out(`issued   ${relative(issued.certificatePath)} (serial ${issued.serialNumber})`);
        return 0;
      }
      case 'revoke': {
        extra(1);
        const target = rest[0];
        if (!target) throw new UsageError('Name what to revoke: certs revoke <agencyId|serial>.');
        const { registry, officials } = registries();
        const serialNumber = resolveSerial(dir, registry, officials, target);
        const result = revokeSerialNumber({ dir, serialNumber });
        output.out(
          result.alreadyRevoked
            ? `${serialNumber} was already revoked; ${relative(federationFiles(dir).crl)} unchanged.`
            : `revoked  ${serialNumber}; ${relative(federationFiles(dir).crl)} re-signed (CRL number ${result.crlNumber}).`,
        );
        return 0;
      }
      case 'list': {
        extra(0);
        for (const certificate of listFederationCertificates({ dir })) {
          output.out([relative(certificate.file).padEnd(44), certificate.status.padEnd(13), certificate.notAfter.toISOString().slice(0, 10), certificate.serialNumber, certificate.subject].join('  '));
        }
        return 0;
      }
      default:
        throw new UsageError(`Unknown subcommand "${command}".`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`certs: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof AgencyRegistryError || error instanceof OfficialRegistryError) {
      output.err(`certs: ${error.message}`);
      return 1;
    }
    output.err(`certs: ${(error as Error).message}`);
    return 1;
  }
}

/** `{}` or `{ key: value }`: exactOptionalPropertyTypes forbids passing an explicit undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

/** An agency or official id names its current certificate in the directory; anything else must be a hex serial. */
function resolveSerial(dir: string, registry: AgencyRegistry, officials: OfficialRegistry, target: string): string {
  const files = federationFiles(dir);
  const file = registry.byId(target) ? files.agencyCertificate(target).certificate : officials.byId(target) ? files.officialCertificate(target).certificate : undefined;
  if (file !== undefined) {
    if (!existsSync(file)) throw new UsageError(`"${target}" has no certificate at ${relative(file)}.`);
    return serialNumberOfCertificateFile(file);
  }
  if (/^[0-9A-Fa-f:]{2,}$/.test(target)) return normaliseSerialNumber(target);
  throw new UsageError(`"${target}" is neither a registered agency or official nor a hexadecimal serial number.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCertsCommand(process.argv.slice(2));
}
