import path from 'node:path';
import { DEFAULT_TOKEN_AUDIENCE } from './identityDefaults.js';
import { envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, DEV_AGENCY_REGISTRY_PATH, DEV_OFFICIAL_REGISTRY_PATH, resolveFromRoot } from './paths.js';
import type { ConfiguredFile } from './configuredFiles.js';

/** Where the gateway finds its identity material. docs/pki.md explains each file. */
export interface IdentityConfig {
  /** Federation CA bundle + CRL (client certificates) and the gateway's own server certificate: the trust store's files. */
  readonly trust: { readonly caPath: string; readonly crlPath: string; readonly certPath: string; readonly keyPath: string };
  /** The gateway's client certificate for mutual TLS to subgraphs. */
  readonly subgraphClient: { readonly certPath: string; readonly keyPath: string };
  readonly gatewaySigningKeyPath: string;
  readonly auditKeysPath: string;
  readonly agencyRegistryPath: string;
  /** Officials (privacy officers, supervisors, operators) and the HSA-ids of their personal certificates. */
  readonly officialRegistryPath: string;
  readonly tokenAudience: string;
  /** Every path above with the variable it came from: checked at start-up (requireConfiguredFiles). */
  readonly files: readonly ConfiguredFile[];
}

/**
 * Every path defaults to the development federation under CERTS_DIR (certs/dev), so `npm run
 * certs && npm start` works; a deployment sets each variable to its own files.
 */
export function loadIdentityConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  const raw = parseEnv(
    {
      CERTS_DIR: envField.string(DEFAULT_CERTS_DIR),
      FEDERATION_CA_PATH: envField.optionalString(),
      FEDERATION_CRL_PATH: envField.optionalString(),
      GATEWAY_TLS_CERT_PATH: envField.optionalString(),
      GATEWAY_TLS_KEY_PATH: envField.optionalString(),
      GATEWAY_CLIENT_CERT_PATH: envField.optionalString(),
      GATEWAY_CLIENT_KEY_PATH: envField.optionalString(),
      GATEWAY_SIGNING_KEY_PATH: envField.optionalString(),
      AUDIT_KEYS_PATH: envField.optionalString(),
      AGENCY_REGISTRY_PATH: envField.string(DEV_AGENCY_REGISTRY_PATH),
      OFFICIAL_REGISTRY_PATH: envField.string(DEV_OFFICIAL_REGISTRY_PATH),
      REQUEST_TOKEN_AUDIENCE: envField.string(DEFAULT_TOKEN_AUDIENCE),
    },
    env,
  );
  const dir = resolveFromRoot(raw.CERTS_DIR);
  const files: ConfiguredFile[] = [];
  const file = (variable: keyof typeof raw, ...fallback: string[]): string => {
    const value = raw[variable];
    const resolved = value === undefined ? path.join(dir, ...fallback) : resolveFromRoot(value);
    files.push(value === undefined ? { variable, path: resolved, kind: 'file', defaultFrom: `CERTS_DIR=${dir}`, createdBy: 'npm run certs' } : { variable, path: resolved, kind: 'file' });
    return resolved;
  };
  const agencyRegistryPath = resolveFromRoot(raw.AGENCY_REGISTRY_PATH);
  files.push({ variable: 'AGENCY_REGISTRY_PATH', path: agencyRegistryPath, kind: 'file' });
  const officialRegistryPath = resolveFromRoot(raw.OFFICIAL_REGISTRY_PATH);
  files.push({ variable: 'OFFICIAL_REGISTRY_PATH', path: officialRegistryPath, kind: 'file' });
  return {
    trust: {
      caPath: file('FEDERATION_CA_PATH', 'ca.crt'),
      crlPath: file('FEDERATION_CRL_PATH', 'crl.pem'),
      certPath: file('GATEWAY_TLS_CERT_PATH', 'servers', 'gateway.crt'),
      keyPath: file('GATEWAY_TLS_KEY_PATH', 'servers', 'gateway.key'),
    },
    subgraphClient: {
      certPath: file('GATEWAY_CLIENT_CERT_PATH', 'servers', 'gateway-client.crt'),
      keyPath: file('GATEWAY_CLIENT_KEY_PATH', 'servers', 'gateway-client.key'),
    },
    gatewaySigningKeyPath: file('GATEWAY_SIGNING_KEY_PATH', 'gateway-signing.jwk.json'),
    auditKeysPath: file('AUDIT_KEYS_PATH', 'audit-keys.json'),
    agencyRegistryPath,
    officialRegistryPath,
    tokenAudience: raw.REQUEST_TOKEN_AUDIENCE,
    files,
  };
}
