import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ChainHead, chainRecords, genesisHead } from '../../src/audit/hashChain.js';
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

function chained(head: ChainHead, count: number) {
  const entries = Array.from({ length: count }, () => makeEntry());
  return chainRecords(head, draftRecords(entries.map((entry) => toUnchainedEntry(entry, protectSubject(keys.subjectKeys, entry.subject!)))));
}

function rows(chainId: string, count: number) {
  return chained(genesisHead(chainId), count).records;
}

/** What SQLite says of the WAL without checkpointing: frames in it, frames already copied into the database. */
function walState(db: Database.Database): { log: number; checkpointed: number } {
  return (db.pragma('wal_checkpoint(NOOP)') as Array<{ log: number; checkpointed: number }>)[0]!;
}

/** Appends `commits` batches of two records each on one chain, awaiting each; returns the frames each commit left in the WAL. */
async function appendBatches(store: SqliteAccessLogStore, raw: Database.Database, chainId: string, commits: number): Promise<number[]> {
  let head = genesisHead(chainId);
  const logs: number[] = [];
  for (let i = 0; i < commits; i++) {
    const batch = chained(head, 2);
    await store.append(batch.records);
    head = batch.head;
    logs.push(walState(raw).log);
  }
  return logs;
}

function tempFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'writer-thread-'));
  dirs.push(dir);
  return path.join(dir, 'access-log.db');
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

  it('bounds the WAL: past the limit the writer thread checkpoints, the WAL starts over, and nothing committed is lost', async () => {
    const file = tempFile();
    // A tiny limit that a few commits reach, and no checkpoint thread (its threshold is never
    // reached): only the writer thread's own checkpoint at the limit can let the WAL start over.
    const store = await SqliteAccessLogStore.open({ file, walCheckpointPages: Number.MAX_SAFE_INTEGER, walLimitPages: 40 });
    const raw = new Database(file);
    try {
      const emptyDatabase = statSync(file).size;
      const logs = await appendBatches(store, raw, 'replica-c', 120);
      // Without checkpoints the WAL would only grow; it has started over (a commit left it
      // shorter than the one before), never got past the limit by more than one commit, and the
      // database file itself has taken pages meanwhile.
      expect(logs.some((log, i) => i > 0 && log < logs[i - 1]!)).toBe(true);
      const largestCommit = Math.max(...logs.slice(1).map((log, i) => log - logs[i]!));
      expect(Math.max(...logs)).toBeLessThan(40 + largestCommit);
      expect(statSync(file).size).toBeGreaterThan(emptyDatabase);
      const records = await store.readRecords('replica-c', 1, 1000);
      expect(records.map((record) => record.index)).toEqual(Array.from({ length: 240 }, (_, i) => i));
      expect(await store.firstUnindexedRecord(records)).toBeNull();
      expect((await store.lastHead('replica-c')).records).toBe(240);
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('checkpoints on its own thread once enough frames wait, below the WAL limit', async () => {
    const file = tempFile();
    // A limit never reached: only the checkpoint thread can copy frames into the database.
    const store = await SqliteAccessLogStore.open({ file, walCheckpointPages: 4, walLimitPages: Number.MAX_SAFE_INTEGER });
    const raw = new Database(file);
    try {
      const logs = await appendBatches(store, raw, 'replica-d', 10);
      expect(logs.at(-1)).toBeGreaterThanOrEqual(4);
      // It runs beside the commits, so it is waited for rather than expected at once.
      await vi.waitFor(() => expect(walState(raw).checkpointed).toBeGreaterThan(0), { timeout: 20_000, interval: 20 });
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('bounds the WAL when only the main connection writes (a purge while no requests come)', async () => {
    const file = tempFile();
    const store = await SqliteAccessLogStore.open({ file, walCheckpointPages: Number.MAX_SAFE_INTEGER, walLimitPages: 40 });
    const raw = new Database(file);
    try {
      // Tree nodes are written on the main connection when a tree is rebuilt: 200 writes, none through the writer thread.
      const logs: number[] = [];
      for (let write = 0; write < 200; write++) {
        await store.writeTreeNodes(
          'replica-e',
          Array.from({ length: 20 }, (_, i) => ({ level: 0, index: write * 20 + i, hash: randomBytes(32) })),
        );
        logs.push(walState(raw).log);
      }
      expect(logs.some((log, i) => i > 0 && log < logs[i - 1]!)).toBe(true);
      const largestCommit = Math.max(...logs.slice(1).map((log, i) => log - logs[i]!));
      expect(Math.max(...logs)).toBeLessThan(40 + largestCommit);
      expect((await store.readTreeNodes('replica-e', [{ level: 0, index: 3999 }])).size).toBe(1);
    } finally {
      raw.close();
      await store.close();
    }
  });
});
