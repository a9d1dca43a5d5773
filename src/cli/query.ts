import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createAgencyClient } from '../client/index.js';
import { DEFAULT_CERTS_DIR } from '../config/paths.js';
import { federationFiles } from '../identity/pki/federationFiles.js';
import { DEV_AGENCY_REGISTRY_PATH, readAgencyRegistry } from '../identity/registry.js';
import { parsePersonnummer, InvalidPersonnummerError } from '../personnummer/index.js';
import { isPurpose, PURPOSES } from '../policy/purposes.js';

const USAGE = `Usage:
  npm run query -- --as <agencyId> --purpose <PURPOSE> --case <id> --subject <personnummer> [--subject ...]
                   [--official <pseudonymous id>] [--variables JSON] [--url https://localhost:4000/graphql]
                   [--certs DIR] [--registry FILE] '<document>' | @file.graphql

Sends one GraphQL operation as the agency, with its development certificate from certs/dev and
a freshly minted request token. Prints the JSON response; exits 1 when it has errors, 2 on usage errors.
Purposes: ${PURPOSES.join(', ')}.`;

class UsageError extends Error {}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        as: { type: 'string' },
        purpose: { type: 'string' },
        case: { type: 'string' },
        subject: { type: 'string', multiple: true },
        official: { type: 'string' },
        variables: { type: 'string' },
        url: { type: 'string' },
        certs: { type: 'string' },
        registry: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${option} is required.`);
  return value;
}

function readDocument(argument: string | undefined): string {
  if (argument === undefined) throw new UsageError('Give the GraphQL document, or @file.graphql, as the last argument.');
  if (!argument.startsWith('@')) return argument;
  const file = path.resolve(argument.slice(1));
  if (!existsSync(file)) throw new UsageError(`Document file ${argument.slice(1)} does not exist.`);
  return readFileSync(file, 'utf8');
}

function readVariables(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`--variables is not JSON (${(error as Error).message}).`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('--variables must be a JSON object.');
  return value as Record<string, unknown>;
}

/** Returns the exit code: 0 answered without errors, 1 errors in the answer or no answer, 2 called wrongly. */
export async function runQueryCommand(argv: readonly string[]): Promise<number> {
  let client: ReturnType<typeof createAgencyClient> | undefined;
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`Expected one document, got ${positionals.length} arguments.`);
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
    const document = readDocument(positionals[0]);
    const variables = readVariables(values.variables);

    const files = federationFiles(path.resolve(values.certs ?? DEFAULT_CERTS_DIR));
    const { certificate, key } = files.agencyCertificate(agency.id);
    for (const file of [certificate, key, files.caCertificate]) {
      if (!existsSync(file)) throw new UsageError(`${file} does not exist; run \`npm run certs\` first.`);
    }
    client = createAgencyClient({
      certPath: certificate,
      keyPath: key,
      caPath: files.caCertificate,
      gatewayUrl: values.url ?? 'https://localhost:4000/graphql',
      official: values.official ?? `dev-official-${agency.id}`,
      purpose,
      caseId,
      subjects,
    });
    const { status, ...response } = await client.query(document, variables);
    console.log(JSON.stringify(response, null, 2));
    if (status >= 400 && !response.errors) console.error(`HTTP ${status}`);
    return response.errors?.length || status >= 400 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`query: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    console.error(`query: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
    return 1;
  } finally {
    await client?.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runQueryCommand(process.argv.slice(2));
}
