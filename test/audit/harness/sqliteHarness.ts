import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAccessLogStore } from '../../../src/audit/store/sqliteStore.js';
import type { AccessLogStore } from '../../../src/audit/store/AccessLogStore.js';
import type { StoreHarness } from './types.js';

export async function createSqliteHarness(): Promise<StoreHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'access-log-test-'));
  const file = path.join(dir, 'data', 'access-log.db');
  // The main store has a short busy timeout: the outage tests hold the write lock and expect a
  // prompt failure. A second writer (the fork test) waits longer, so two writers contending on a
  // busy machine take turns instead of failing.
  const open = (busyTimeoutMs: number) => new SqliteAccessLogStore({ file, busyTimeoutMs });
  const store = open(200);
  const others: AccessLogStore[] = [];
  const raw = new Database(file);
  return {
    name: 'sqlite',
    store,
    async openAnother() {
      const other = open(2000);
      others.push(other);
      return other;
    },
    async exec(sql) {
      raw.exec(sql);
    },
    tables: {
      records: 'log_records',
      subjects: 'log_subjects',
      checkpoints: 'log_checkpoints',
      chains: 'log_chains',
      purges: 'log_purges',
      treeNodes: 'log_tree_nodes',
      treeHeads: 'log_tree_heads',
    },
    async blockWrites() {
      const blocker = new Database(file);
      blocker.exec('BEGIN IMMEDIATE');
      return {
        async release() {
          blocker.exec('ROLLBACK');
          blocker.close();
        },
      };
    },
    childEnv: { ACCESS_LOG_TEST_BACKEND: 'sqlite', ACCESS_LOG_TEST_SQLITE_FILE: file },
    async cleanup() {
      for (const other of others) await other.close();
      await store.close();
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
