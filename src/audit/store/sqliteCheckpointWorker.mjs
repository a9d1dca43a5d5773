// @ts-check
/**
 * The SQLite access log's checkpoint thread: it copies committed WAL frames into the database
 * file on its own connection, so the writer thread's commits are a WAL append and one fsync.
 * Started by the writer thread (sqliteWriterWorker.mjs), which asks for a checkpoint once enough
 * frames wait; plain JavaScript for the same reason as the writer.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ file: string, busyTimeoutMs: number }} */
const { file, busyTimeoutMs } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

const db = new Database(file, { timeout: busyTimeoutMs });
// The checkpoint fsyncs the database file before the WAL may be reused; FULL as everywhere else.
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');

function close() {
  db.close();
  port.close();
}

port.on('message', (/** @type {string} */ message) => {
  if (message === 'close') return close();
  // Requests that queued during the last checkpoint are all answered by the next one.
  for (let queued = receiveMessageOnPort(port); queued !== undefined; queued = receiveMessageOnPort(port)) {
    if (queued.message === 'close') return close();
  }
  // PASSIVE copies what no reader still needs and never waits for the writer.
  db.pragma('wal_checkpoint(PASSIVE)');
});
