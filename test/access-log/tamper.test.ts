import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config/paths.js';
import { verifyAccessLog } from '../../src/audit/verify.js';
import { startStack, type Stack } from '../support/stack.js';

const run = promisify(execFile);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ persons: 300 });
  const subject = stack.sample.withBenefits;
  const client = stack.client('malmo-stad', { official: 'tjm-9', purpose: 'CASE_HANDLING', caseId: 'TAMPER-1', subjects: [subject] });
  for (let i = 0; i < 5; i++) {
    await client.query('query ($p: Personnummer!) { person(personnummer: $p) { name { givenName } taxedIncome { year } benefits { benefit } } }', { p: subject });
  }
  await stack.deps.openedAccessLog.accessLog.flush();
});
afterAll(async () => {
  await stack?.close();
});

const verifyCli = async (): Promise<{ code: number; output: string }> => {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/audit.ts', 'verify'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATA_DIR: stack.dataDir, AUDIT_KEYS_PATH: `${stack.certsDir}/audit-keys.json`, GATEWAY_SIGNING_KEY_PATH: `${stack.certsDir}/gateway-signing.jwk.json` },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr };
  }
};

it('verifies the log the gateway wrote, and names the entry an editor changed', async () => {
  const { store, publicJwk } = stack.deps.openedAccessLog;
  expect((await verifyAccessLog(store, [publicJwk])).ok).toBe(true);
  expect((await verifyCli()).code).toBe(0);

  // Entry 4 sits in its request's record; the break is named at the record's first entry.
  const record = (await store.readRecords('test-gateway', 4, 1))[0]!;
  const db = new Database(stack.deps.openedAccessLog.config.sqliteFile);
  try {
    // An insider rewrites who read the data in entry 4.
    db.prepare(`UPDATE log_records SET body = replace(body, '"${record.header.clientAgencyId}"', '"skatteverket"') WHERE chain_id = 'test-gateway' AND last_seq = ?`).run(record.lastSeq);
  } finally {
    db.close();
  }
  const report = await verifyAccessLog(store, [publicJwk]);
  expect(report.ok).toBe(false);
  expect(report.firstBreak).toMatchObject({ chainId: 'test-gateway', seq: record.firstSeq, kind: 'hash-mismatch' });
  const cli = await verifyCli();
  expect(cli.code).toBe(1);
  expect(cli.output).toMatch(new RegExp(`test-gateway.*\\b${record.firstSeq}\\b`));
});
