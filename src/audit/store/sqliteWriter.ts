import { Worker } from 'node:worker_threads';
import { GENESIS_HASH } from '../hashChain.js';
import { recordSubjects, type StoredRecord } from '../record.js';
import type { StoredCheckpoint } from '../checkpoint.js';
import { ChainConflictError, ChainStateError, type StoredTreeHead, type TreeAppend } from './AccessLogStore.js';
import { RECORD_COLUMN_COUNT, RECORD_COLUMN_LIST, recordRow } from './sql.js';

/** What the writer thread runs (and bench/accessLogFloor.ts, to time SQLite alone); the schema itself is created by the store's own connection first. */
export const WRITER_SQL = {
  insertRecord: `INSERT INTO log_records (${RECORD_COLUMN_LIST}) VALUES (${Array.from({ length: RECORD_COLUMN_COUNT }, () => '?').join(', ')})`,
  insertSubject: 'INSERT INTO log_subjects (subject_hmac, time, chain_id, last_seq) VALUES (?, ?, ?, ?)',
  head: 'SELECT head_seq, head_hash, head_records FROM log_chains WHERE chain_id = ?',
  upsertHead:
    'INSERT INTO log_chains (chain_id, head_seq, head_hash, head_records) VALUES (?, ?, ?, ?) ON CONFLICT (chain_id) DO UPDATE SET head_seq = excluded.head_seq, head_hash = excluded.head_hash, head_records = excluded.head_records',
  recordHash: 'SELECT hash FROM log_records WHERE chain_id = ? AND last_seq = ?',
  lastCheckpointSeq: 'SELECT max(seq) AS seq FROM log_checkpoints WHERE chain_id = ?',
  insertCheckpoint: 'INSERT INTO log_checkpoints (chain_id, seq, head_hash, count, time, jws) VALUES (?, ?, ?, ?, ?, ?)',
  insertTreeNode: 'INSERT INTO log_tree_nodes (chain_id, level, idx, hash) VALUES (?, ?, ?, ?)',
  insertTreeHead: 'INSERT INTO log_tree_heads (chain_id, tree_size, root_hash, time, note) VALUES (?, ?, ?, ?, ?)',
};

/**
 * Frames (pages) waiting in the WAL before the checkpoint thread copies them (~16 MB at 4 KiB
 * pages): a page dirtied by several commits in between is copied once (replaying a bench run's
 * commits, 4000 wrote ~15% fewer bytes than 1000).
 */
export const WAL_CHECKPOINT_PAGES = 4000;
/** The WAL's bound (~64 MB at 4 KiB pages): past it the writer itself finishes a checkpoint so the next commit restarts the WAL. */
export const WAL_LIMIT_PAGES = 16_000;

export interface SqliteWriterOptions {
  readonly file: string;
  readonly busyTimeoutMs: number;
  /** Default WAL_CHECKPOINT_PAGES. */
  readonly walCheckpointPages?: number;
  /** Default WAL_LIMIT_PAGES. */
  readonly walLimitPages?: number;
}

type Failure =
  | { readonly kind: 'conflict'; readonly chainId: string; readonly expectedSeq: number; readonly actualSeq: number }
  | { readonly kind: 'state'; readonly message: string }
  | { readonly kind: 'store'; readonly message: string; readonly code: string | null };

type Reply = { readonly id: number; readonly failure?: Failure };

/** A SQLite error from the writer thread, with SQLite's code (SQLITE_BUSY, SQLITE_FULL, ...). */
export class SqliteWriterError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
    this.name = 'SqliteWriterError';
  }
}

function toError(failure: Failure): Error {
  switch (failure.kind) {
    case 'conflict':
      return new ChainConflictError(failure.chainId, failure.expectedSeq, failure.actualSeq);
    case 'state':
      return new ChainStateError(failure.message);
    case 'store':
      return new SqliteWriterError(failure.message, failure.code);
  }
}

/**
 * The main-thread handle on the writer thread (sqliteWriterWorker.mjs). Requests are answered in
 * order, one transaction at a time. A thread that dies fails what it had in hand and is started
 * again by the next request, so one crash costs one batch, not the log.
 */
export class SqliteWriterThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: SqliteWriterOptions) {}

  append(records: readonly StoredRecord[], checkpoint: StoredCheckpoint | undefined, tree?: TreeAppend): Promise<void> {
    const first = records[0]!;
    const last = records[records.length - 1]!;
    // Subject index rows flat, four values each: one array clones far cheaper than an object per row.
    const subjects: Array<string | number> = [];
    for (const record of records) for (const subject of recordSubjects(record.items)) subjects.push(subject, record.header.time, record.chainId, record.lastSeq);
    return this.request({
      op: 'append',
      chainId: first.chainId,
      firstSeq: first.firstSeq,
      firstIndex: first.index,
      prevHash: first.prevHash,
      lastSeq: last.lastSeq,
      lastHash: last.hash,
      records: last.index + 1,
      // One flat array in column order (RECORD_COLUMN_COUNT values per record): it clones far
      // cheaper than an object, or an array, per record, and binds as positional parameters.
      rows: records.flatMap(recordRow),
      width: RECORD_COLUMN_COUNT,
      subjects,
      checkpoint: checkpoint ?? null,
      // One buffer of hashes and two number arrays clone far cheaper than an object per node.
      tree: tree
        ? {
            levels: tree.nodes.map((node) => node.level),
            indices: tree.nodes.map((node) => node.index),
            hashes: Buffer.concat(tree.nodes.map((node) => node.hash)),
            head: tree.head ?? null,
          }
        : null,
    });
  }

  appendTreeHead(head: StoredTreeHead): Promise<void> {
    return this.request({ op: 'treeHead', head });
  }

  appendCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    return this.request({ op: 'checkpoint', checkpoint });
  }

  probe(): Promise<void> {
    return this.request({ op: 'probe' });
  }

  /** Starts the thread and waits until it has opened the file, without taking the write lock. */
  ready(): Promise<void> {
    return this.request({ op: 'ready' });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // An idle thread is unreferenced; without this the process could end before it has closed the file.
    worker.ref();
    worker.postMessage({ op: 'close' });
    await exited;
  }

  private request(message: Record<string, unknown>): Promise<void> {
    if (this.closed) return Promise.reject(new SqliteWriterError('The access-log store is closed.', null));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      // Referenced only while a commit is in hand: an idle store never keeps the process alive.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL('./sqliteWriterWorker.mjs', import.meta.url), {
      workerData: {
        file: this.options.file,
        busyTimeoutMs: this.options.busyTimeoutMs,
        sql: WRITER_SQL,
        genesisHash: GENESIS_HASH,
        walCheckpointPages: this.options.walCheckpointPages ?? WAL_CHECKPOINT_PAGES,
        walLimitPages: this.options.walLimitPages ?? WAL_LIMIT_PAGES,
      },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.failure) waiter.reject(toError(reply.failure));
      else waiter.resolve();
    });
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', (code) => this.fail(worker, new SqliteWriterError(`The access-log writer thread exited (code ${code}).`, null)));
    this.worker = worker;
    return worker;
  }

  private fail(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
