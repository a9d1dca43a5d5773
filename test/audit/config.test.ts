import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAccessLogConfig } from '../../src/config/accessLogConfig.js';
import { loadSigningKey } from '../../src/audit/openAccessLog.js';
import { readAuditKeys as loadAuditKeys } from '../../src/identity/pki/auditKeys.js';
import { readGatewayPublicJwk as loadSigningPublicKey } from '../../src/identity/pki/gatewaySigningKey.js';
import { ConfigError } from '../../src/config/parseEnv.js';
import { REPO_ROOT } from '../../src/config/paths.js';
import { generateTestKeys, type TestKeys } from './helpers.js';
import { problemsOf } from '../support/configProblems.js';
import { writeKeyFiles } from './keyFiles.js';

async function asyncProblemsOf(fn: () => Promise<unknown>): Promise<readonly string[]> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('access log configuration', () => {
  let keys: TestKeys;
  let files: ReturnType<typeof writeKeyFiles>;
  beforeAll(async () => {
    keys = await generateTestKeys();
    files = writeKeyFiles(keys);
  });
  afterAll(() => rmSync(files.dir, { recursive: true, force: true }));

  it('defaults to SQLite under data/ and the dev key files under certs/dev/', () => {
    const config = loadAccessLogConfig({ AUDIT_CHAIN_ID: 'replica-1' });
    expect(config).toMatchObject({
      dataDir: path.join(REPO_ROOT, 'data'),
      sqliteFile: path.join(REPO_ROOT, 'data', 'access-log.db'),
      databaseUrl: null,
      auditKeysPath: path.join(REPO_ROOT, 'certs', 'dev', 'audit-keys.json'),
      signingKeyPath: path.join(REPO_ROOT, 'certs', 'dev', 'gateway-signing.jwk.json'),
      chainId: 'replica-1',
      commitTimeoutMs: 2000,
      checkpointEvery: 1000,
    });
    expect(config.retention.defaultDays).toBe(1825);
  });

  it('uses PostgreSQL when DATABASE_URL is set, and reads retention per purpose', () => {
    const config = loadAccessLogConfig({ DATABASE_URL: 'postgres://gw@db/audit', AUDIT_RETENTION_DAYS: '*=730, STATISTICS=90', DATA_DIR: '/var/lib/gw' });
    expect(config.databaseUrl).toBe('postgres://gw@db/audit');
    expect(config.sqliteFile).toBe('/var/lib/gw/access-log.db');
    expect(config.retention).toEqual({ defaultDays: 730, byPurpose: new Map([['STATISTICS', 90]]) });
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: /],
    [{ AUDIT_CHAIN_ID: 'has space' }, /^AUDIT_CHAIN_ID: /],
    [{ AUDIT_COMMIT_TIMEOUT_MS: '0' }, /^AUDIT_COMMIT_TIMEOUT_MS: /],
    [{ AUDIT_PG_SCHEMA: 'Bad-Name' }, /^AUDIT_PG_SCHEMA: /],
    [{ AUDIT_RETENTION_DAYS: 'STATISTICS=90' }, /^AUDIT_RETENTION_DAYS: .*default/],
    [{ AUDIT_RETENTION_DAYS: '*=90,MARKETING=5' }, /^AUDIT_RETENTION_DAYS: "MARKETING" is not a purpose/],
    [{ AUDIT_RETENTION_DAYS: '*=-1' }, /^AUDIT_RETENTION_DAYS: /],
  ])('names the variable when %o is invalid', (env, message) => {
    expect(problemsOf(() => loadAccessLogConfig(env))[0]).toMatch(message);
  });

  it('loads the subject keys, and names the file and key when one is wrong', () => {
    expect(loadAuditKeys(files.auditKeysPath).encryptionKey).toHaveLength(32);
    const bad = path.join(files.dir, 'bad-audit-keys.json');
    writeFileSync(bad, JSON.stringify({ ...keys.rawSubjectKeys, subjectHmacKey: Buffer.alloc(16, 1).toString('base64') }));
    expect(problemsOf(() => loadAuditKeys(bad))).toEqual([`AUDIT_KEYS_PATH: ${bad}: subjectHmacKey: expected 32 bytes (256 bits) after base64 decoding, got 16`]);
    writeFileSync(bad, JSON.stringify({ subjectEncryptionKey: keys.rawSubjectKeys.subjectEncryptionKey }));
    expect(problemsOf(() => loadAuditKeys(bad))[0]).toMatch(/^AUDIT_KEYS_PATH: .*: subjectHmacKey: /);
    expect(problemsOf(() => loadAuditKeys(path.join(files.dir, 'missing.json')))[0]).toMatch(/^AUDIT_KEYS_PATH: cannot read .*ENOENT.*npm run certs/);
    writeFileSync(bad, '{');
    expect(problemsOf(() => loadAuditKeys(bad))[0]).toMatch(/not valid JSON/);
  });

  it('loads the signing key pair, and refuses a mismatched or wrong-curve pair', async () => {
    const loaded = await loadSigningKey(files.signingKeyPath);
    expect(loaded.signer.kid).toBe(keys.publicJwk.kid);
    expect(await loadSigningPublicKey(files.signingKeyPath)).toEqual(loaded.publicJwk);
    const other = await generateTestKeys();
    const bad = path.join(files.dir, 'bad-signing.json');
    writeFileSync(bad, JSON.stringify({ privateJwk: keys.privateJwk, publicJwk: other.publicJwk }));
    expect((await asyncProblemsOf(() => loadSigningKey(bad)))[0]).toMatch(/not the same key pair/);
    writeFileSync(bad, JSON.stringify({ privateJwk: { ...keys.privateJwk, crv: 'P-384' }, publicJwk: keys.publicJwk }));
    expect((await asyncProblemsOf(() => loadSigningKey(bad)))[0]).toMatch(/^GATEWAY_SIGNING_KEY_PATH: .*: privateJwk\.crv: expected crv "P-256"/);
    writeFileSync(bad, JSON.stringify({ privateJwk: keys.privateJwk, publicJwk: keys.privateJwk }));
    expect((await asyncProblemsOf(() => loadSigningKey(bad)))[0]).toMatch(/publicJwk\.d: the public JWK must not contain the private member d/);
  });
});
