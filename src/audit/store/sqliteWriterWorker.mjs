// @ts-check
/**
 * The SQLite access log's writer thread: it runs every transaction that appends records or
 * checkpoints, so the commit's B-tree work and its fsync never stop the gateway's event loop.
 *
 * Plain JavaScript on purpose: a worker thread starts outside any TypeScript loader (tsx,
 * vitest), and this file needs none of the project's modules. sqliteWriter.ts owns the
 * statements and hands them over in workerData; the checks here mirror the store contract
 * (test/audit/accessLogStoreContract.ts runs against this thread).
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ file: string, busyTimeoutMs: number, sql: Record<'insertRecord' | 'insertSubject' | 'head' | 'upsertHead' | 'recordHash' | 'lastCheckpointSeq' | 'insertCheckpoint' | 'insertTreeNode' | 'insertTreeHead', string>, genesisHash: string, walCheckpointPages: number, walLimitPages: number }} */
const { file, busyTimeoutMs, sql, genesisHash, walCheckpointPages, walLimitPages } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

const db = new Database(file, { timeout: busyTimeoutMs });
db.pragma('journal_mode = WAL');
// FULL fsyncs the WAL on every commit: see sqliteStore.ts.
db.pragma('synchronous = FULL');
// No checkpoint inside a commit: SQLite's default (1000 pages) ran one in nearly every large
// commit, writing its pages a second time and fsyncing the database file before the next commit
// could start. The checkpoint thread does that work beside the commits (afterCommit below).
db.pragma('wal_autocheckpoint = 0');
const statements = Object.fromEntries(Object.entries(sql).map(([name, text]) => [name, db.prepare(text)]));

class Refusal extends Error {
  /** @param {{ kind: 'conflict', chainId: string, expectedSeq: number, actualSeq: number } | { kind: 'state', message: string }} detail */
  constructor(detail) {
    super('refused');
    this.detail = detail;
  }
}

/** @param {string} chainId */
function readHead(chainId) {
  const row = /** @type {{ head_seq: number, head_hash: string, head_records: number } | undefined} */ (statements.head.get(chainId));
  return row ? { seq: row.head_seq, hash: row.head_hash, records: row.head_records } : { seq: 0, hash: genesisHash, records: 0 };
}

/** @param {{ chainId: string, seq: number, headHash: string, count: number, time: string, jws: string }} checkpoint */
function insertCheckpoint(checkpoint) {
  // A checkpoint pins the hash of the record ending at its seq.
  const stored = /** @type {{ hash: string } | undefined} */ (statements.recordHash.get(checkpoint.chainId, checkpoint.seq));
  if (stored?.hash !== checkpoint.headHash) {
    throw new Refusal({ kind: 'state', message: `Checkpoint for ${checkpoint.chainId} at seq ${checkpoint.seq} does not match the stored record.` });
  }
  // The signed count must reach back exactly to the previous checkpoint; a writer that missed one
  // (another process on the same chain) reloads and signs again.
  const previous = /** @type {{ seq: number } | undefined} */ (statements.lastCheckpointSeq.get(checkpoint.chainId))?.seq ?? 0;
  if (checkpoint.count !== checkpoint.seq - previous) {
    throw new Refusal({ kind: 'conflict', chainId: checkpoint.chainId, expectedSeq: checkpoint.seq, actualSeq: checkpoint.seq });
  }
  statements.insertCheckpoint.run(checkpoint.chainId, checkpoint.seq, checkpoint.headHash, checkpoint.count, checkpoint.time, checkpoint.jws);
}

// IMMEDIATE takes the write lock first, so the head read cannot be stale by commit time.
const append = db.transaction((/** @type {any} */ message) => {
  const head = readHead(message.chainId);
  if (head.seq !== message.firstSeq - 1 || head.hash !== message.prevHash || head.records !== message.firstIndex) {
    throw new Refusal({ kind: 'conflict', chainId: message.chainId, expectedSeq: message.firstSeq - 1, actualSeq: head.seq });
  }
  const { rows, width } = message;
  for (let i = 0; i < rows.length; i += width) statements.insertRecord.run(rows.slice(i, i + width));
  const subjects = message.subjects;
  for (let i = 0; i < subjects.length; i += 4) statements.insertSubject.run(subjects[i], subjects[i + 1], subjects[i + 2], subjects[i + 3]);
  statements.upsertHead.run(message.chainId, message.lastSeq, message.lastHash, message.records);
  if (message.checkpoint) insertCheckpoint(message.checkpoint);
  if (message.tree) insertTree(message.chainId, message.tree);
});

/** @param {string} chainId @param {{ levels: number[], indices: number[], hashes: Uint8Array, head: any }} tree */
function insertTree(chainId, tree) {
  if (tree.head && tree.head.size !== readHead(chainId).records) throw new Refusal({ kind: 'state', message: `Tree head for ${chainId} at size ${tree.head.size} is not at the chain head.` });
  const hashes = Buffer.from(tree.hashes.buffer, tree.hashes.byteOffset, tree.hashes.byteLength);
  for (let i = 0; i < tree.levels.length; i++) statements.insertTreeNode.run(chainId, tree.levels[i], tree.indices[i], hashes.subarray(i * 32, i * 32 + 32));
  if (tree.head) statements.insertTreeHead.run(tree.head.chainId, tree.head.size, tree.head.rootHash, tree.head.time, tree.head.note);
}

const appendTreeHead = db.transaction((/** @type {any} */ head) => {
  const current = readHead(head.chainId);
  if (current.records !== head.size) throw new Refusal({ kind: 'conflict', chainId: head.chainId, expectedSeq: head.size, actualSeq: current.records });
  statements.insertTreeHead.run(head.chainId, head.size, head.rootHash, head.time, head.note);
});

const appendCheckpoint = db.transaction((/** @type {any} */ checkpoint) => {
  const head = readHead(checkpoint.chainId);
  if (head.seq !== checkpoint.seq) throw new Refusal({ kind: 'conflict', chainId: checkpoint.chainId, expectedSeq: checkpoint.seq, actualSeq: head.seq });
  insertCheckpoint(checkpoint);
});

/** @type {Worker | null} */
let checkpointer = null;
// NOOP only reads the WAL's state: frames in it, frames already copied into the database.
const walState = db.prepare('PRAGMA wal_checkpoint(NOOP)');
const checkpointPassive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

function startCheckpointer() {
  const worker = new Worker(new URL('./sqliteCheckpointWorker.mjs', import.meta.url), { workerData: { file, busyTimeoutMs } });
  // A checkpointer that fails ends; the next one starts when the WAL has grown again, and the limit below holds meanwhile.
  worker.on('error', () => undefined);
  worker.on('exit', () => {
    if (checkpointer === worker) checkpointer = null;
  });
  return worker;
}

/**
 * Keeps checkpoints out of the commits: once `walCheckpointPages` frames wait in the WAL, the
 * checkpoint thread copies them into the database beside the next commits (PASSIVE never blocks
 * a writer). The WAL file only starts over when a commit begins with every frame copied, which a
 * checkpointer racing the commits seldom sees; so past `walLimitPages` this thread copies what
 * the checkpointer has not yet, between two commits, and the next commit restarts the WAL.
 * Runs after the commit is answered, and never fails it: a failed checkpoint loses nothing (the
 * frames stay in the WAL) and is tried again after the next commit.
 */
function afterCommit() {
  try {
    const { log, checkpointed } = /** @type {{ log: number, checkpointed: number }} */ (walState.get());
    if (log >= walLimitPages) checkpointPassive.get();
    else if (log - checkpointed >= walCheckpointPages) {
      checkpointer ??= startCheckpointer();
      checkpointer.postMessage('checkpoint');
    }
  } catch (error) {
    // See above: nothing to undo, and a disk that refuses writes fails the next commit itself.
    // Anything but SQLite's own error is a bug here, and ends the thread where tests see it.
    if (!(error instanceof Database.SqliteError)) throw error;
  }
}

port.on('message', (/** @type {any} */ message) => {
  if (message.op === 'close') {
    checkpointer?.postMessage('close');
    db.close();
    port.close();
    return;
  }
  try {
    if (message.op === 'append') append.immediate(message);
    else if (message.op === 'checkpoint') appendCheckpoint.immediate(message.checkpoint);
    else if (message.op === 'treeHead') appendTreeHead.immediate(message.head);
    // Taking and releasing the write lock is the honest probe: reads succeed while writes are blocked.
    else if (message.op === 'probe') db.exec('BEGIN IMMEDIATE; ROLLBACK');
    // Answered once the connection is open and the statements prepared: start-up is then done.
    else if (message.op === 'ready') undefined;
    else throw new Error(`unknown operation ${String(message.op)}`);
    port.postMessage({ id: message.id });
  } catch (error) {
    const failure =
      error instanceof Refusal ? error.detail : { kind: 'store', message: error instanceof Error ? error.message : String(error), code: /** @type {{ code?: unknown }} */ (error)?.code ?? null };
    port.postMessage({ id: message.id, failure });
    return;
  }
  if (message.op === 'append' || message.op === 'checkpoint' || message.op === 'treeHead') afterCommit();
});
