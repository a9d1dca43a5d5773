import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireConfiguredFiles } from '../../src/config/configuredFiles.js';
import { loadGatewayConfig } from '../../src/config/gatewayConfig.js';
import { loadIdentityConfig } from '../../src/config/identityConfig.js';
import { ConfigError } from '../../src/config/parseEnv.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { loadSubgraphConfig } from '../../src/config/subgraphConfig.js';

/** Start-up with a path that is not there: the error names the variable and the path, for every path variable. */

let dir: string;
/** A CERTS_DIR and DATA_DIR whose files exist: the check is for existence, before anything is read. */
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'configured-files-'));
  for (const file of [
    'ca.crt',
    'crl.pem',
    'servers/gateway.crt',
    'servers/gateway.key',
    'servers/gateway-client.crt',
    'servers/gateway-client.key',
    'servers/csn.crt',
    'servers/csn.key',
    'gateway-signing.jwk.json',
    'audit-keys.json',
    'data/csn.db',
  ]) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), '');
  }
  env = { CERTS_DIR: dir, DATA_DIR: path.join(dir, 'data') };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problems requireConfiguredFiles reports for the gateway's and a subgraph's configuration. */
function problems(overrides: Record<string, string>): readonly string[] {
  const all = { ...env, ...overrides };
  try {
    requireConfiguredFiles(loadGatewayConfig(all).files, loadIdentityConfig(all).files, loadSubgraphConfig('csn', all).files);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('configured files', () => {
  it('accepts a configuration whose files all exist', () => {
    expect(problems({})).toEqual([]);
  });

  it.each([
    'SUPERGRAPH_PATH',
    'AGREEMENTS_PATH',
    'TRUSTED_DOCUMENTS_DIR',
    'AGENCY_REGISTRY_PATH',
    'FEDERATION_CA_PATH',
    'FEDERATION_CRL_PATH',
    'GATEWAY_TLS_CERT_PATH',
    'GATEWAY_TLS_KEY_PATH',
    'GATEWAY_CLIENT_CERT_PATH',
    'GATEWAY_CLIENT_KEY_PATH',
    'GATEWAY_SIGNING_KEY_PATH',
    'AUDIT_KEYS_PATH',
    'SUBGRAPH_TLS_CERT_PATH',
    'SUBGRAPH_TLS_KEY_PATH',
  ])('%s=/nope names the variable and the path', (variable) => {
    const reported = problems({ [variable]: '/nope' });
    // FEDERATION_CA_PATH and the others shared by gateway and subgraph are reported once per service.
    expect(reported.length).toBeGreaterThan(0);
    for (const problem of reported) expect(problem.startsWith(`${variable}: /nope `)).toBe(true);
  });

  it('names the variable behind a default under CERTS_DIR, and the command that makes it', () => {
    const reported = problems({ CERTS_DIR: path.join(dir, 'nowhere') });
    expect(reported.some((p) => p.startsWith(`GATEWAY_TLS_CERT_PATH: ${path.join(dir, 'nowhere', 'servers', 'gateway.crt')} `) && p.includes('npm run certs'))).toBe(true);
  });

  it('names DATA_DIR when an agency store is missing', () => {
    expect(problems({ DATA_DIR: path.join(dir, 'empty') }).some((p) => p.startsWith('DATA_DIR: ') && p.includes('npm run generate-data'))).toBe(true);
  });

  it('refuses a directory where a file belongs, and a file where a directory belongs', () => {
    // The gateway and each subgraph read the agreements: every report names the variable.
    const agreements = problems({ AGREEMENTS_PATH: dir });
    expect(agreements.length).toBeGreaterThan(0);
    for (const problem of agreements) expect(problem).toMatch(/^AGREEMENTS_PATH: /);
    expect(problems({ TRUSTED_DOCUMENTS_DIR: path.join(dir, 'ca.crt') })).toEqual([expect.stringMatching(/^TRUSTED_DOCUMENTS_DIR: /)]);
  });

  it.each([
    ['the gateway', 'src/cli/serveGateway.ts', [], { AGREEMENTS_PATH: '/nope' }, 'AGREEMENTS_PATH: /nope'],
    ['a subgraph', 'src/cli/serveSubgraph.ts', ['csn'], { SUBGRAPH_TLS_KEY_PATH: '/nope/csn.key' }, 'SUBGRAPH_TLS_KEY_PATH: /nope/csn.key'],
  ])('%s stops at start-up naming the variable and the path', (_service, entry, args, overrides, named) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, GATEWAY_PORT: '0', SUBGRAPH_PORT: '0', ...overrides },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(named);
  });
});
