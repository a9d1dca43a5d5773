import path from 'node:path';
import { REFERENCE_AGENCIES, type ReferenceAgency } from '../agencies/referenceAgencies.js';
import { envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, DEFAULT_DATA_DIR, resolveFromRoot } from './paths.js';
import { DEV_AGREEMENTS_PATH } from './gatewayConfig.js';

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
}

/** Environment of one reference agency subgraph; every path defaults to the development federation. */
export function loadSubgraphConfig(agencyId: string | undefined, env: NodeJS.ProcessEnv = process.env): SubgraphConfig {
  const agency = REFERENCE_AGENCIES.find((a) => a.id === agencyId);
  if (!agency) {
    throw new Error(`Unknown agency subgraph "${agencyId ?? ''}"; expected one of ${REFERENCE_AGENCIES.map((a) => a.id).join(', ')}.`);
  }
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
  const file = (value: string | undefined, ...fallback: string[]) => (value === undefined ? path.join(certs, ...fallback) : resolveFromRoot(value));
  return {
    agency,
    host: raw.SUBGRAPH_HOST,
    port: raw.SUBGRAPH_PORT,
    dbPath: path.join(resolveFromRoot(raw.DATA_DIR), `${agency.id}.db`),
    tls: {
      certPath: file(raw.SUBGRAPH_TLS_CERT_PATH, 'servers', `${agency.id}.crt`),
      keyPath: file(raw.SUBGRAPH_TLS_KEY_PATH, 'servers', `${agency.id}.key`),
      caPath: file(raw.FEDERATION_CA_PATH, 'ca.crt'),
      gatewayClientCertPath: file(raw.GATEWAY_CLIENT_CERT_PATH, 'servers', 'gateway-client.crt'),
    },
    gatewaySigningKeyPath: file(raw.GATEWAY_SIGNING_KEY_PATH, 'gateway-signing.jwk.json'),
    agreementsPath: resolveFromRoot(raw.AGREEMENTS_PATH),
    acceptUnboundContextTokens: raw.SUBGRAPH_ACCEPT_UNBOUND_CONTEXT_TOKENS,
  };
}
