import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { GraphQLFormattedError } from 'graphql';
import { createAgencyClient, type AgencyClient, type RequestTokenClaims } from '../src/client/index.js';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR } from '../src/config/paths.js';
import { federationFiles } from '../src/identity/pki/federationFiles.js';

/** What every example takes; the defaults fit `npm start` in this repository. */
export interface ExampleOptions {
  /** Default https://localhost:4000/graphql. */
  readonly gatewayUrl?: string;
  /** The development federation (`npm run certs`, or what `npm start` made): default certs/dev. */
  readonly certsDir?: string;
  /** The synthetic population, only to pick a person to ask about: default data/. */
  readonly dataDir?: string;
  /** Send codegen's document id instead of the text (trusted documents; see docs/partner-quickstart.md). */
  readonly send?: 'text' | 'documentId';
  /** Where the report goes; console.log by default. */
  readonly log?: (line: string) => void;
}

/** A denied field as the gateway reports it: the coordinate and the code, never a value. */
export interface Denial {
  readonly field: string;
  readonly code: string;
}

/** The agency's client with its development certificate and a bound token per request. */
export function agencyClient(agencyId: string, claims: RequestTokenClaims, options: ExampleOptions): AgencyClient {
  const files = federationFiles(path.resolve(options.certsDir ?? DEFAULT_CERTS_DIR));
  const { certificate, key } = files.agencyCertificate(agencyId);
  for (const file of [certificate, key, files.caCertificate]) {
    if (!existsSync(file)) throw new Error(`${file} does not exist; run \`npm run certs\` (or \`npm start\`) first.`);
  }
  return createAgencyClient({
    certPath: certificate,
    keyPath: key,
    caPath: files.caCertificate,
    gatewayUrl: options.gatewayUrl ?? 'https://localhost:4000/graphql',
    ...claims,
  });
}

export function dataDirOf(options: ExampleOptions): string {
  return path.resolve(options.dataDir ?? DEFAULT_DATA_DIR);
}

export function denialsOf(errors: readonly GraphQLFormattedError[] | undefined): Denial[] {
  return (errors ?? []).map((error) => ({
    field: typeof error.extensions?.['field'] === 'string' ? error.extensions['field'] : '(operation)',
    code: String(error.extensions?.['code'] ?? 'UNKNOWN'),
  }));
}

/** Öre as Swedish kronor, e.g. 1 234 567 öre → "12 345,67 kr". */
export function kronor(ore: number): string {
  return `${(ore / 100).toLocaleString('sv-SE', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} kr`;
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/**
 * Runs the example when its file is the entry point (`npm run example:…`), with `--url`, `--certs`,
 * `--data` and `--send-document-id` on the command line. Exit code 1 when it fails.
 */
export function runWhenMain(moduleUrl: string, run: (options: ExampleOptions, args: Record<string, string | boolean | undefined>) => Promise<unknown>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(path.resolve(process.argv[1])).href) return;
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      url: { type: 'string' },
      certs: { type: 'string' },
      data: { type: 'string' },
      subject: { type: 'string' },
      'send-document-id': { type: 'boolean' },
    },
  });
  const options: ExampleOptions = {
    ...(values.url === undefined ? {} : { gatewayUrl: values.url }),
    ...(values.certs === undefined ? {} : { certsDir: values.certs }),
    ...(values.data === undefined ? {} : { dataDir: values.data }),
    ...(values['send-document-id'] ? { send: 'documentId' as const } : {}),
  };
  run(options, values).catch((error: unknown) => {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    console.error(`example failed: ${(error as Error).message}${cause ? ` (${cause}; is \`npm start\` running?)` : ''}`);
    process.exitCode = 1;
  });
}
