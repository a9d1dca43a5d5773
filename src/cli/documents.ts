import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/gatewayConfig.js';
import { loadIdentityConfig } from '../config/identityConfig.js';
import { readAgencyRegistry } from '../identity/registry.js';
import { loadAgreements } from '../policy/agreements.js';
import { readPersonalFieldCatalogue } from '../policy/personalFieldCatalogue.js';
import { isPurpose, PURPOSES } from '../policy/purposes.js';
import { apiSchema, loadSupergraphSdl } from '../apollo/supergraph.js';
import { manifestPath, readManifest, writeManifest, type TrustedDocumentManifest } from '../trusted-documents/manifest.js';
import {
  describeProblem,
  documentsFromPersistedDocuments,
  documentsFromSource,
  DocumentRegistrationError,
  registerDocuments,
  type CandidateDocument,
  type RegistrationPolicy,
} from '../trusted-documents/registerDocuments.js';
import { reportCommandFailure, UsageError } from './commandFailure.js';

const USAGE = `Usage:
  npm run documents -- register --agency <agencyId> --purpose <PURPOSE> [--operation <Name> ...] [--date YYYY-MM-DD] <file> ...
  npm run documents -- list [--agency <agencyId>]

register  Adds operations to the agency's manifest of trusted documents after the purpose check:
          every personal field must be declared by its owner for the purpose and covered by an
          agreement in force for the agency. All or nothing: one refused operation registers none.
          <file> is GraphQL (each operation with the fragments it uses) or codegen's
          persisted-documents.json; --operation keeps only the named operations.
list      Prints the registered documents (id, operation, purposes) per agency.

The supergraph, agreements, agency registry and manifest directory are the gateway's:
SUPERGRAPH_PATH, AGREEMENTS_PATH, AGENCY_REGISTRY_PATH, TRUSTED_DOCUMENTS_DIR (default
src/config/dev/trusted-documents). Exit codes: 0 done, 1 refused, 2 called wrongly.
Purposes: ${PURPOSES.join(', ')}.`;

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: CommandIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        agency: { type: 'string' },
        purpose: { type: 'string' },
        operation: { type: 'string', multiple: true },
        date: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function readCandidates(files: readonly string[]): CandidateDocument[] {
  if (files.length === 0) throw new UsageError('Give at least one .graphql file or persisted-documents.json.');
  return files.flatMap((file) => {
    const resolved = path.resolve(file);
    if (!existsSync(resolved)) throw new UsageError(`${file} does not exist.`);
    const text = readFileSync(resolved, 'utf8');
    try {
      return file.endsWith('.json') ? documentsFromPersistedDocuments(JSON.parse(text), file) : documentsFromSource(text, file);
    } catch (error) {
      throw new UsageError(`${file}: ${(error as Error).message}`);
    }
  });
}

/** Returns the exit code: 0 done, 1 refused, 2 called wrongly. */
export async function runDocumentsCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: CommandIo = consoleIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    const { values, positionals } = parse(rest);
    if (command === undefined || command === '--help' || command === '-h' || values.help) {
      io.out(USAGE);
      return 0;
    }
    const config = loadGatewayConfig(env);
    const registry = readAgencyRegistry(loadIdentityConfig(env).agencyRegistryPath);
    const dir = config.trustedDocumentsDir;

    if (command === 'list') {
      const agencies = values.agency ? [values.agency] : registry.agencies.map((a) => a.id);
      for (const agency of agencies) {
        const file = manifestPath(dir, agency);
        if (!existsSync(file)) continue;
        for (const entry of readManifest(file).documents) io.out(`${agency}\t${entry.id}\t${entry.operationName ?? '(anonymous)'}\t${entry.purposes.join(',')}`);
      }
      return 0;
    }
    if (command !== 'register') throw new UsageError(`Unknown command "${command}".`);

    const agency = values.agency;
    if (!agency) throw new UsageError('--agency <agencyId> is required.');
    const registered = registry.byId(agency);
    if (!registered) throw new UsageError(`--agency: unknown agency "${agency}".`);
    if (!registered.roles.includes('CLIENT')) throw new UsageError(`--agency: ${agency} is not registered in role CLIENT, so it sends no documents.`);
    const purpose = values.purpose;
    if (!purpose || !isPurpose(purpose)) throw new UsageError(`--purpose: expected one of ${PURPOSES.join(', ')}.`);
    const today = values.date ?? new Date().toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new UsageError('--date: expected YYYY-MM-DD.');

    let candidates = readCandidates(positionals);
    if (values.operation) {
      const wanted = new Set(values.operation);
      const missing = [...wanted].filter((name) => !candidates.some((c) => c.operationName === name));
      if (missing.length > 0) throw new UsageError(`--operation: no operation named ${missing.join(', ')} in the files.`);
      candidates = candidates.filter((c) => c.operationName !== null && wanted.has(c.operationName));
    }

    const supergraph = loadSupergraphSdl(config.supergraphPath);
    const policy: RegistrationPolicy = {
      schema: apiSchema(supergraph.sdl),
      catalogue: readPersonalFieldCatalogue(supergraph.sdl),
      agreements: loadAgreements(config.agreementsPath, new Set(registry.agencies.map((a) => a.id))),
      today,
    };
    const file = manifestPath(dir, agency);
    const manifest: TrustedDocumentManifest = existsSync(file) ? readManifest(file) : { agency, documents: [] };
    try {
      const result = registerDocuments(policy, manifest, purpose, candidates);
      const written = writeManifest(dir, result.manifest);
      for (const entry of result.registered) io.out(`registered ${entry.operationName ?? '(anonymous)'} ${entry.id} for ${agency}, purposes ${entry.purposes.join(', ')}`);
      io.out(`wrote ${path.relative(process.cwd(), written) || written}`);
      return 0;
    } catch (error) {
      if (!(error instanceof DocumentRegistrationError)) throw error;
      io.err(`documents: nothing registered; ${error.refused.length} operation(s) refused for ${agency}, purpose ${purpose}:`);
      for (const { candidate, problems } of error.refused) {
        io.err(`  ${candidate.operationName ?? '(anonymous)'} (${candidate.source}):`);
        for (const problem of problems) {
          io.err(`    ${describeProblem(problem)}${problem.kind === 'FIELD_DENIED' ? `: ${problem.category} data of ${problem.owner}` : ''}`);
        }
      }
      return 1;
    }
  } catch (error) {
    return reportCommandFailure('documents', USAGE, error, io.err);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runDocumentsCommand(process.argv.slice(2));
}
