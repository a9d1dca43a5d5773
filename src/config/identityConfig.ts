import path from 'node:path';
import { DEFAULT_TOKEN_AUDIENCE } from '../identity/requestToken.js';
import { DEV_AGENCY_REGISTRY_PATH } from '../identity/registry.js';
import { DEV_OFFICIAL_REGISTRY_PATH } from '../identity/officialRegistry.js';
import type { TrustStoreFiles } from '../identity/trustStore.js';
import { envField, parseEnv } from './parseEnv.js';
import { DEFAULT_CERTS_DIR, resolveFromRoot } from './paths.js';

/** Where the gateway finds its identity material. docs/pki.md explains each file. */
export interface IdentityConfig {
  /** Federation CA bundle + CRL (client certificates) and the gateway's own server certificate. */
  readonly trust: TrustStoreFiles & { readonly crlPath: string };
  /** The gateway's client certificate for mutual TLS to subgraphs. */
  readonly subgraphClient: { readonly certPath: string; readonly keyPath: string };
  readonly gatewaySigningKeyPath: string;
  readonly auditKeysPath: string;
  readonly agencyRegistryPath: string;
  /** Officials (privacy officers, supervisors, operators) and the HSA-ids of their personal certificates. */
  readonly officialRegistryPath: string;
  readonly tokenAudience: string;
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
  const file = (value: string | undefined, ...fallback: string[]) => (value === undefined ? path.join(dir, ...fallback) : resolveFromRoot(value));
  return {
    trust: {
      caPath: file(raw.FEDERATION_CA_PATH, 'ca.crt'),
      crlPath: file(raw.FEDERATION_CRL_PATH, 'crl.pem'),
      certPath: file(raw.GATEWAY_TLS_CERT_PATH, 'servers', 'gateway.crt'),
      keyPath: file(raw.GATEWAY_TLS_KEY_PATH, 'servers', 'gateway.key'),
    },
    subgraphClient: {
      certPath: file(raw.GATEWAY_CLIENT_CERT_PATH, 'servers', 'gateway-client.crt'),
      keyPath: file(raw.GATEWAY_CLIENT_KEY_PATH, 'servers', 'gateway-client.key'),
    },
    gatewaySigningKeyPath: file(raw.GATEWAY_SIGNING_KEY_PATH, 'gateway-signing.jwk.json'),
    auditKeysPath: file(raw.AUDIT_KEYS_PATH, 'audit-keys.json'),
    agencyRegistryPath: resolveFromRoot(raw.AGENCY_REGISTRY_PATH),
    officialRegistryPath: resolveFromRoot(raw.OFFICIAL_REGISTRY_PATH),
    tokenAudience: raw.REQUEST_TOKEN_AUDIENCE,
  };
}
