import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresAccessLogStore } from '../../../src/audit/store/postgresStore.js';
import type { AccessLogStore } from '../../../src/audit/store/AccessLogStore.js';
import type { StoreHarness } from './types.js';
import { DEFAULT_TEST_DATABASE_URL } from '../../../src/cli/testPrerequisites.js';

/** The PostgreSQL every test uses: TEST_DATABASE_URL, or the one npm test's pretest step checks. */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL;

/** Each harness gets its own schema (dropped in cleanup) and an application_name to find its connections by. */
export async function createPostgresHarness(options: { statementTimeoutMs?: number; poolSize?: number } = {}): Promise<StoreHarness & { applicationName: string; admin: pg.Client }> {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const schema = `access_log_test_${suffix}`;
  const applicationName = `access-log-test-${suffix}`;
  const open = (name = applicationName) =>
    PostgresAccessLogStore.open({
      connectionString: TEST_DATABASE_URL,
      schema,
      applicationName: name,
      statementTimeoutMs: options.statementTimeoutMs ?? 5000,
      ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
      onPoolError: () => undefined,
    });
  const store = await open();
  const others: AccessLogStore[] = [];
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  const q = `"${schema}"`;
  return {
    name: 'postgres',
    store,
    applicationName,
    admin,
    async openAnother() {
      const other = await open(`${applicationName}-other`);
      others.push(other);
      return other;
    },
    async exec(sql) {
      await admin.query(sql);
    },
    tables: {
      records: `${q}.log_records`,
      subjects: `${q}.log_subjects`,
      checkpoints: `${q}.log_checkpoints`,
      chains: `${q}.log_chains`,
      purges: `${q}.log_purges`,
      treeNodes: `${q}.log_tree_nodes`,
      treeHeads: `${q}.log_tree_heads`,
    },
    async blockWrites() {
      // Locks every chain row, the way a long-running transaction (or a stuck purge) would.
      const blocker = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE ${q}.log_chains IN EXCLUSIVE MODE`);
      return {
        async release() {
          await blocker.query('ROLLBACK');
          await blocker.end();
        },
      };
    },
    childEnv: { ACCESS_LOG_TEST_BACKEND: 'postgres', ACCESS_LOG_TEST_DATABASE_URL: TEST_DATABASE_URL, ACCESS_LOG_TEST_PG_SCHEMA: schema },
    async cleanup() {
      for (const other of others) await other.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      await admin.query(`DROP SCHEMA IF EXISTS ${q} CASCADE`);
      await admin.end();
    },
  };
}
