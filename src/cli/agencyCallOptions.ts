import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_CERTS_DIR } from '../config/paths.js';
import { federationFiles } from '../identity/pki/federationFiles.js';
import { DEV_AGENCY_REGISTRY_PATH, readAgencyRegistry, type RegisteredAgency } from '../identity/registry.js';
import { parsePersonnummer, InvalidPersonnummerError } from '../personnummer/index.js';
import { isPurpose, PURPOSES, type Purpose } from '../policy/purposes.js';
import { UsageError } from './commandFailure.js';

/**
 * What `npm run query` and `npm run token` share: who calls (an agency with its development
 * certificate), for which purpose, in which case, about whom. A mistake in how a command was
 * called is a UsageError (exit code 2, with the usage), naming the option.
 */

export const AGENCY_CALL_OPTIONS = {
  as: { type: 'string' },
  purpose: { type: 'string' },
  case: { type: 'string' },
  subject: { type: 'string', multiple: true },
  official: { type: 'string' },
  certs: { type: 'string' },
  registry: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const AGENCY_CALL_USAGE = `--as <agencyId> --purpose <PURPOSE> --case <id> --subject <personnummer> [--subject ...]
                   [--official <pseudonymous id>] [--certs DIR] [--registry FILE]`;

/** parseArgs with the shared options and the command's own; its errors become usage errors. */
export function parseCommandLine<const O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { ...AGENCY_CALL_OPTIONS, ...options } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${option} is required.`);
  return value;
}

export interface AgencyCall {
  readonly agency: RegisteredAgency;
  readonly official: string;
  readonly purpose: Purpose;
  readonly caseId: string;
  readonly subjects: readonly string[];
  /** The federation directory the agency's certificate is read from. */
  readonly certsDir: string;
}

/** Validates the shared options in the order a person reads them, naming the first problem. */
export function agencyCall(values: { as?: string; purpose?: string; case?: string; subject?: string[]; official?: string; certs?: string; registry?: string }): AgencyCall {
  const agencyId = required(values.as, '--as <agencyId>');
  const agency = readAgencyRegistry(path.resolve(values.registry ?? DEV_AGENCY_REGISTRY_PATH)).byId(agencyId);
  if (!agency) throw new UsageError(`--as: unknown agency "${agencyId}".`);
  const purpose = required(values.purpose, '--purpose');
  if (!isPurpose(purpose)) throw new UsageError(`--purpose: "${purpose}" is not one of ${PURPOSES.join(', ')}.`);
  const caseId = required(values.case, '--case');
  const subjects = (values.subject ?? []).map((subject, index) => {
    try {
      return parsePersonnummer(subject).canonical;
    } catch (error) {
      if (error instanceof InvalidPersonnummerError) throw new UsageError(`--subject number ${index + 1}: ${error.message}`);
      throw error;
    }
  });
  if (subjects.length === 0) throw new UsageError('--subject <personnummer> is required at least once.');
  return { agency, official: values.official ?? `dev-official-${agency.id}`, purpose, caseId, subjects, certsDir: path.resolve(values.certs ?? DEFAULT_CERTS_DIR) };
}

/** The agency's certificate, key and the federation CA, each of which must exist. */
export function agencyCertificateFiles(call: AgencyCall): { readonly certificate: string; readonly key: string; readonly caCertificate: string } {
  const files = federationFiles(call.certsDir);
  const { certificate, key } = files.agencyCertificate(call.agency.id);
  for (const file of [certificate, key, files.caCertificate]) {
    if (!existsSync(file)) throw new UsageError(`${file} does not exist; run \`npm run certs\` first.`);
  }
  return { certificate, key, caCertificate: files.caCertificate };
}
