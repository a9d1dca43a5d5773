import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAgencyClient } from '../client/index.js';
import { PURPOSES } from '../policy/purposes.js';
import { AGENCY_CALL_USAGE, agencyCall, agencyCertificateFiles, parseCommandLine } from './agencyCallOptions.js';
import { reportCommandFailure, UsageError } from './commandFailure.js';

const USAGE = `Usage:
  npm run query -- ${AGENCY_CALL_USAGE}
                   [--variables JSON] [--url https://localhost:4000/graphql] '<document>' | @file.graphql

Sends one GraphQL operation as the agency, with its development certificate from certs/dev and
a freshly minted request token. Prints the JSON response; exits 1 when it has errors, 2 on usage errors.
Purposes: ${PURPOSES.join(', ')}.`;

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
    const { values, positionals } = parseCommandLine(argv, { variables: { type: 'string' }, url: { type: 'string' } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`Expected one document, got ${positionals.length} arguments.`);
    const call = agencyCall(values);
    const document = readDocument(positionals[0]);
    const variables = readVariables(values.variables);
    const files = agencyCertificateFiles(call);
    client = createAgencyClient({
      certPath: files.certificate,
      keyPath: files.key,
      caPath: files.caCertificate,
      gatewayUrl: values.url ?? 'https://localhost:4000/graphql',
      official: call.official,
      purpose: call.purpose,
      caseId: call.caseId,
      subjects: call.subjects,
    });
    const { status, ...response } = await client.query(document, variables);
    console.log(JSON.stringify(response, null, 2));
    if (status >= 400 && !response.errors) console.error(`HTTP ${status}`);
    return response.errors?.length || status >= 400 ? 1 : 0;
  } catch (error) {
    return reportCommandFailure('query', USAGE, error, (line) => console.error(line));
  } finally {
    await client?.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runQueryCommand(process.argv.slice(2));
}
