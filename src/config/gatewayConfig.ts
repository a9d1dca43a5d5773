import path from 'node:path';
import { parseEnv, envField } from './parseEnv.js';
import { DEFAULT_SUPERGRAPH_PATH, REPO_ROOT, resolveFromRoot } from './paths.js';
import { loadLimitsConfig, type LimitsConfig } from './limitsConfig.js';
import type { ConfiguredFile } from './configuredFiles.js';

export type GatewayMode = 'production' | 'development';

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly mode: GatewayMode;
  readonly supergraphPath: string;
  readonly agreementsPath: string;
  /** Subgraph name → URL, replacing the URL recorded in the supergraph. */
  readonly subgraphUrlOverrides: ReadonlyMap<string, string>;
  readonly maxBodyBytes: number;
  readonly subgraphTimeoutMs: number;
  /** Per-agency manifests of trusted documents (`<agencyId>.json`); production mode runs only those. */
  readonly trustedDocumentsDir: string;
  /**
   * Registered documents run compiled (parsed, validated, analysed and planned once, answered
   * without Apollo Server); off, every request takes Apollo Server and @apollo/gateway.
   */
  readonly compiledOperations: boolean;
  /** Request limits, rate limits, subgraph fault handling, the listener and operability. */
  readonly limits: LimitsConfig;
  /** Every path above with the variable it came from: checked at start-up (requireConfiguredFiles). */
  readonly files: readonly ConfiguredFile[];
}

export const DEV_AGREEMENTS_PATH = path.join(REPO_ROOT, 'src', 'config', 'dev', 'agreements.json');
export const DEV_TRUSTED_DOCUMENTS_DIR = path.join(REPO_ROOT, 'src', 'config', 'dev', 'trusted-documents');

function parseOverrides(raw: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (!raw) return map;
  for (const pair of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const url = pair.slice(eq + 1);
    if (eq <= 0 || !/^https?:\/\//.test(url)) {
      throw new Error(`SUBGRAPH_URLS: expected name=https://host:port/path pairs separated by commas; "${pair}" is not one.`);
    }
    map.set(name, url);
  }
  return map;
}

/** Reads and validates the gateway's environment. A bad value fails start-up naming the variable. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const raw = parseEnv(
    {
      GATEWAY_HOST: envField.string('127.0.0.1'),
      GATEWAY_PORT: envField.port(4000),
      GATEWAY_MODE: envField.enumOf(['production', 'development'] as const, 'production'),
      SUPERGRAPH_PATH: envField.string(DEFAULT_SUPERGRAPH_PATH),
      AGREEMENTS_PATH: envField.string(DEV_AGREEMENTS_PATH),
      SUBGRAPH_URLS: envField.optionalString(),
      MAX_BODY_BYTES: envField.positiveInt(256 * 1024),
      SUBGRAPH_TIMEOUT_MS: envField.positiveInt(5000),
      TRUSTED_DOCUMENTS_DIR: envField.string(DEV_TRUSTED_DOCUMENTS_DIR),
      COMPILED_OPERATIONS: envField.boolean(true),
    },
    env,
  );
  return {
    host: raw.GATEWAY_HOST,
    port: raw.GATEWAY_PORT,
    mode: raw.GATEWAY_MODE,
    supergraphPath: resolveFromRoot(raw.SUPERGRAPH_PATH),
    agreementsPath: resolveFromRoot(raw.AGREEMENTS_PATH),
    subgraphUrlOverrides: parseOverrides(raw.SUBGRAPH_URLS),
    maxBodyBytes: raw.MAX_BODY_BYTES,
    subgraphTimeoutMs: raw.SUBGRAPH_TIMEOUT_MS,
    trustedDocumentsDir: resolveFromRoot(raw.TRUSTED_DOCUMENTS_DIR),
    compiledOperations: raw.COMPILED_OPERATIONS,
    limits: loadLimitsConfig(env),
    files: [
      { variable: 'SUPERGRAPH_PATH', path: resolveFromRoot(raw.SUPERGRAPH_PATH), kind: 'file' },
      { variable: 'AGREEMENTS_PATH', path: resolveFromRoot(raw.AGREEMENTS_PATH), kind: 'file' },
      { variable: 'TRUSTED_DOCUMENTS_DIR', path: resolveFromRoot(raw.TRUSTED_DOCUMENTS_DIR), kind: 'directory' },
    ],
  };
}
