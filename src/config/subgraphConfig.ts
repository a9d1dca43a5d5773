import path from 'node:path';
import { referenceAgency, type ReferenceAgency } from './referenceAgencies.js';
import { envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR, resolveFromRoot } from './paths.js';
import { DEV_AGREEMENTS_PATH } from './gatewayConfig.js';
import type { ConfiguredFile } from './configuredFiles.js';

export interface SubgraphConfig {
  readonly agency: ReferenceAgency;
  readonly host: string;
  readonly port: number;
  readonly dbPath: string;
  readonly tls: { readonly certPath: string; readonly keyPath: string; readonly caPath: string; readonly gatewayClientCertPath: string };
  readonly gatewaySigningKeyPath: string;
  /** The agency's own copy of the disclosure agreements, checked besides the gateway's token. */
  readonly agreementsPath: string;
  /** Benchmarks only (SUBGRAPH_ACCEPT_UNBOUND_CONTEXT_TOKENS): context tokens may be reused and bound to no request. */
  readonly acceptUnboundContextTokens: boolean;
  /** Every path above with the variable it came from: checked at start-up (requireConfiguredFiles). */
  readonly files: readonly ConfiguredFile[];
}

/** Environment of one reference agency subgraph; every path defaults to the development federation. */
export function loadSubgraphConfig(agencyId: string | undefined, env: NodeJS.ProcessEnv = process.env): SubgraphConfig {
  // UnknownAgencyError names the id and the known agencies.
  const agency = referenceAgency(agencyId);
  const raw = parseEnv(
    {
      SUBGRAPH_HOST: envField.string('127.0.0.1'),
      SUBGRAPH_PORT: envField.port(agency.defaultPort),
      DATA_DIR: envField.string(DEFAULT_DATA_DIR),
      CERTS_DIR: envField.string(DEFAULT_CERTS_DIR),
      SUBGRAPH_TLS_CERT_PATH: envField.optionalString(),
      SUBGRAPH_TLS_KEY_PATH: envField.optionalString(),
      FEDERATION_CA_PATH: envField.optionalString(),
      GATEWAY_CLIENT_CERT_PATH: envField.optionalString(),
      GATEWAY_SIGNING_KEY_PATH: envField.optionalString(),
      AGREEMENTS_PATH: envField.string(DEV_AGREEMENTS_PATH),
      SUBGRAPH_ACCEPT_UNBOUND_CONTEXT_TOKENS: envField.boolean(false),
    },
    env,
  );
  const certs = resolveFromRoot(raw.CERTS_DIR);
  const files: ConfiguredFile[] = [];
  const file = (variable: keyof typeof raw, ...fallback: string[]): string => {
    const value = raw[variable];
    const resolved = value === undefined ? path.join(certs, ...fallback) : resolveFromRoot(String(value));
    files.push(value === undefined ? { variable, path: resolved, kind: 'file', defaultFrom: `CERTS_DIR=${certs}`, createdBy: 'npm run certs' } : { variable, path: resolved, kind: 'file' });
    return resolved;
  };
  const dbPath = path.join(resolveFromRoot(raw.DATA_DIR), `${agency.id}.db`);
  files.push({ variable: 'DATA_DIR', path: dbPath, kind: 'file', createdBy: 'npm run generate-data' });
  const agreementsPath = resolveFromRoot(raw.AGREEMENTS_PATH);
  files.push({ variable: 'AGREEMENTS_PATH', path: agreementsPath, kind: 'file' });
  return {
    agency,
    host: raw.SUBGRAPH_HOST,
    port: raw.SUBGRAPH_PORT,
    dbPath,
    tls: {
      certPath: file('SUBGRAPH_TLS_CERT_PATH', 'servers', `${agency.id}.crt`),
      keyPath: file('SUBGRAPH_TLS_KEY_PATH', 'servers', `${agency.id}.key`),
      caPath: file('FEDERATION_CA_PATH', 'ca.crt'),
      gatewayClientCertPath: file('GATEWAY_CLIENT_CERT_PATH', 'servers', 'gateway-client.crt'),
    },
    gatewaySigningKeyPath: file('GATEWAY_SIGNING_KEY_PATH', 'gateway-signing.jwk.json'),
    agreementsPath,
    acceptUnboundContextTokens: raw.SUBGRAPH_ACCEPT_UNBOUND_CONTEXT_TOKENS,
    files,
  };
}
