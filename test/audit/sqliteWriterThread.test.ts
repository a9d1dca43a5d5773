import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chainRecords, genesisHead } from '../../src/audit/hashChain.js';
import { draftRecords } from '../../src/audit/record.js';
import { protectSubject } from '../../src/audit/subjectProtection.js';
import { ChainConflictError } from '../../src/audit/store/AccessLogStore.js';
import { SqliteAccessLogStore } from '../../src/audit/store/sqliteStore.js';
import { SqliteWriterThread } from '../../src/audit/store/sqliteWriter.js';
import { generateTestKeys, makeEntry, toUnchainedEntry } from './helpers.js';

const keys = await generateTestKeys();
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function rows(chainId: string, count: number) {
  const entries = Array.from({ length: count }, () => makeEntry());
  return chainRecords(genesisHead(chainId), draftRecords(entries.map((entry) => toUnchainedEntry(entry, protectSubject(keys.subjectKeys, entry.subject!))))).records;
}

describe('SQLite writer thread', () => {
  it('fails the batch in hand when its thread dies, and starts a new thread for the next', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'writer-thread-'));
    dirs.push(dir);
    const schemaFile = path.join(dir, 'schema.db');
    const store = new SqliteAccessLogStore({ file: schemaFile });
    await store.close();
    // The thread opens its own connection; a file in a directory that does not exist yet makes
    // that fail inside the thread, which ends it with an error.
    const file = path.join(dir, 'later', 'access-log.db');
    const writer = new SqliteWriterThread({ file, busyTimeoutMs: 1000 });
    const batch = rows('replica-a', 3);
    await expect(writer.append(batch, undefined)).rejects.toThrow(/directory does not exist/);

    mkdirSync(path.dirname(file));
    copyFileSync(schemaFile, file);
    await writer.append(batch, undefined);
    // The chain check runs in the new thread too: the same rows again are refused.
    await expect(writer.append(batch, undefined)).rejects.toBeInstanceOf(ChainConflictError);
    await writer.close();

    const reopened = new SqliteAccessLogStore({ file });
    try {
      expect(await reopened.lastHead('replica-a')).toEqual({ chainId: 'replica-a', seq: 3, hash: batch[2]!.hash, records: 3 });
      expect((await reopened.readChain('replica-a', 1, 10)).map((row) => row.seq)).toEqual([1, 2, 3]);
    } finally {
      await reopened.close();
    }
  });

  it('refuses requests once closed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'writer-thread-'));
    dirs.push(dir);
    const store = new SqliteAccessLogStore({ file: path.join(dir, 'access-log.db') });
    await store.append(rows('replica-b', 1));
    await store.close();
    await expect(store.append(rows('replica-b', 1))).rejects.toThrow(/closed/);
  });
});
