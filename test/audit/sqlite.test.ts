import { describeAccessLogStoreContract } from './accessLogStoreContract.js';
import { createSqliteHarness } from './harness/sqliteHarness.js';

describeAccessLogStoreContract('SQLite', createSqliteHarness);
