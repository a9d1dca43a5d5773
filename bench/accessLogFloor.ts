/**
 * The access log's own floor: what the rows and the cryptography of its format cost by
 * themselves, with nothing in front of them.
 *
 * Storage: the rows the writer thread inserts per record (the record with its three secondary
 * indexes, its subject index rows, its Merkle tree nodes, the chain head), into the store's own
 * schema with the writer thread's own statements, committed in batches with synchronous=FULL,
 * and nothing else: no drafting, hashing, encryption, thread hand-off or callers. Cryptography:
 * per record, each distinct subject's encryption and keyed hash (protectSubject), the record's
 * chain hash and its leaf with one commitment per entry (chainRecords, recordLeafHash), with the
 * code's own functions. What these cost per record is a lower bound of what the log can cost
 * with this format and schema on this machine, whatever the code around them does (issue 15's
 * and 16's targets are weighed against it in docs/performance.md).
 *
 *   taskset -c 1 npx tsx bench/accessLogFloor.ts [--seconds 6] [--batch 253] [--persons 4000,1000000] [--entries 5] [--json]
 *
 * Each storage variant leaves out one part of the schema's work (or, once, puts the narrowest
 * possible subject index row in place of the present one), so the parts' costs can be told apart.
 * Records are drafted (untimed) from bench/syntheticEntries.ts's requests of `--entries` entries
 * (5: about 1 or 2 persons, a ~700-byte body; 300: a list of 50's record, about 50 persons, ~14 kB)
 * and stored with their own bodies and as many subject index rows as they have distinct subjects;
 * `--batch` is records per commit (253: what 256 callers put into one commit in
 * bench/accessLogAppend.ts). The WAL is not checkpointed during a run (the store's checkpoint
 * thread does that beside the writer).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { chainRecords, genesisHead } from '../src/audit/hashChain.js';
import { recordLeafHash } from '../src/audit/logTree.js';
import { draftEntries, recordSubjects } from '../src/audit/record.js';
import { SqliteAccessLogStore } from '../src/audit/store/sqliteStore.js';
import { WRITER_SQL } from '../src/audit/store/sqliteWriter.js';
import { parseSubjectKeys, protectSubject } from '../src/audit/subjectProtection.js';
import { requestEntries } from './syntheticEntries.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '6' },
    batch: { type: 'string', default: '253' },
    persons: { type: 'string', default: '4000,1000000' },
    entries: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const batch = Number(values.batch);
const ENTRIES_PER_RECORD = Number(values.entries);
for (const [flag, n] of [
  ['--batch', batch],
  ['--entries', ENTRIES_PER_RECORD],
] as const)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive whole number`);
if (!(seconds > 0)) throw new Error('--seconds must be a positive number');
const CHAIN = 'floor';

const keys = parseSubjectKeys({ subjectEncryptionKey: randomBytes(32).toString('base64'), subjectHmacKey: randomBytes(32).toString('base64') });
/** Requests' entries and their drafted records: the shapes and bodies both parts of the floor use. */
const SAMPLE = Array.from({ length: 64 }, (_, i) => {
  const entries = requestEntries(`floor-${i}`, ENTRIES_PER_RECORD, i);
  const drafts = draftEntries(entries, (subject) => protectSubject(keys, subject));
  if (drafts.length !== 1) throw new Error('a synthetic request must draft into one record');
  const draft = drafts[0]!;
  return { subjects: [...new Set(entries.map((entry) => entry.subject!))], draft, subjectRows: recordSubjects(draft.items).length };
});

const VARIANTS = {
  everything: { subjects: 'present', tree: true, indexes: true },
  // The narrowest subject index row there could be (16 bytes of the HMAC → the record's sequence
  // number), in place of the present one: what a smaller index could save at most.
  'narrowest subject index rows instead': { subjects: 'narrowest', tree: true, indexes: true },
  'no subject index rows': { subjects: 'none', tree: true, indexes: true },
  'no subject index or tree rows': { subjects: 'none', tree: false, indexes: true },
  'record rows alone (primary key only)': { subjects: 'none', tree: false, indexes: false },
} as const;

export interface FloorResult {
  readonly variant: keyof typeof VARIANTS;
  readonly persons: number;
  readonly batch: number;
  readonly entriesPerRecord: number;
  readonly bodyBytes: number;
  readonly recordsPerSecond: number;
  readonly entriesPerSecond: number;
  readonly cpuUsPerRecord: number;
  readonly systemCpuUsPerRecord: number;
  readonly msPerCommit: number;
}

async function run(variant: keyof typeof VARIANTS, persons: number): Promise<FloorResult> {
  const parts = VARIANTS[variant];
  const dir = mkdtempSync(path.join(tmpdir(), 'access-log-floor-'));
  const file = path.join(dir, 'access-log.db');
  try {
    // The store creates its schema; its writer thread is never started (no append).
    await (await SqliteAccessLogStore.open({ file })).close();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0');
    if (!parts.indexes)
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'log_records' AND sql IS NOT NULL").all() as Array<{ name: string }>)
        db.exec(`DROP INDEX "${name}"`);
    const insertRecord = db.prepare(WRITER_SQL.insertRecord);
    const insertSubject = db.prepare(WRITER_SQL.insertSubject);
    db.exec('CREATE TABLE floor_narrow_subjects (subject_key BLOB NOT NULL, last_seq INTEGER NOT NULL, PRIMARY KEY (subject_key, last_seq)) WITHOUT ROWID');
    const insertNarrowSubject = db.prepare('INSERT INTO floor_narrow_subjects (subject_key, last_seq) VALUES (?, ?)');
    const insertTreeNode = db.prepare(WRITER_SQL.insertTreeNode);
    const upsertHead = db.prepare(WRITER_SQL.upsertHead);
    const hmacs = Array.from({ length: persons }, (_, i) => createHash('sha256').update(`person ${i}`).digest('hex'));
    const narrowKeys = hmacs.map((hmac) => Buffer.from(hmac.slice(0, 32), 'hex'));
    const hash = randomBytes(32).toString('hex');
    const node = randomBytes(32);
    let records = 0;
    let subject = 0;
    let treeNodes = 0;
    let bodyBytes = 0;
    const commit = db.transaction(() => {
      const time = new Date().toISOString();
      for (let r = 0; r < batch; r++) {
        const sample = SAMPLE[records % SAMPLE.length]!;
        const lastSeq = (records + 1) * ENTRIES_PER_RECORD;
        insertRecord.run(
          CHAIN,
          lastSeq,
          lastSeq - ENTRIES_PER_RECORD + 1,
          records,
          hash,
          hash,
          'access',
          time,
          'forsakringskassan',
          'official-1',
          'CASE_HANDLING',
          `case-${records % 97}`,
          sample.draft.body,
        );
        bodyBytes += sample.draft.body.length;
        for (let k = parts.subjects === 'none' ? 0 : sample.subjectRows; k > 0; k--) {
          const person = subject++ % persons;
          if (parts.subjects === 'present') insertSubject.run(hmacs[person], time, CHAIN, lastSeq);
          else insertNarrowSubject.run(narrowKeys[person], lastSeq);
        }
        // A leaf and every complete subtree it closes (RFC 9162's tree, as logTree.ts stores it).
        if (parts.tree)
          for (let index = records, level = 0; ; index >>= 1, level++) {
            insertTreeNode.run(CHAIN, level, index, node);
            treeNodes++;
            if ((index & 1) === 0) break;
          }
        records++;
      }
      upsertHead.run(CHAIN, records * ENTRIES_PER_RECORD, hash, records);
    });
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    let commits = 0;
    while (Number(process.hrtime.bigint() - started) / 1e9 < seconds) {
      commit();
      commits++;
    }
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    // What was timed must be what is stored: a statement that stopped inserting would flatter the floor.
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const subjectTable = parts.subjects === 'narrowest' ? 'floor_narrow_subjects' : 'log_subjects';
    const stored = { records: count('log_records'), subjects: count(subjectTable), treeNodes: count('log_tree_nodes') };
    const expected = { records, subjects: parts.subjects === 'none' ? 0 : subject, treeNodes };
    if (JSON.stringify(stored) !== JSON.stringify(expected)) throw new Error(`stored ${JSON.stringify(stored)}, inserted ${JSON.stringify(expected)}`);
    db.close();
    return {
      variant,
      persons,
      batch,
      entriesPerRecord: ENTRIES_PER_RECORD,
      bodyBytes: bodyBytes / records,
      recordsPerSecond: records / wall,
      entriesPerSecond: (records * ENTRIES_PER_RECORD) / wall,
      cpuUsPerRecord: (used.user + used.system) / records,
      systemCpuUsPerRecord: used.system / records,
      msPerCommit: (1000 * wall) / commits,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CryptographyResult {
  readonly part: 'cryptography';
  readonly entriesPerRecord: number;
  readonly subjectsPerRecord: number;
  readonly recordsPerSecond: number;
  readonly cpuUsPerRecord: number;
}

/**
 * The format's cryptography per record, as the gateway and the writer compute it: each distinct
 * subject encrypted and keyed, the record's chain hash, its leaf over one commitment per entry.
 * The drafts' item texts already hold the subjects' ciphertexts (SAMPLE); the subjects are
 * protected again here for what that costs, which every request pays once per person.
 */
function cryptography(): CryptographyResult {
  let head = genesisHead(CHAIN);
  let records = 0;
  let subjects = 0;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  while (Number(process.hrtime.bigint() - started) / 1e9 < seconds) {
    const sample = SAMPLE[records % SAMPLE.length]!;
    for (const subject of sample.subjects) protectSubject(keys, subject);
    subjects += sample.subjects.length;
    const chained = chainRecords(head, [sample.draft]);
    head = chained.head;
    if (recordLeafHash(chained.records[0]!).length !== 32) throw new Error('a leaf hash is 32 bytes');
    records++;
  }
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  if (head.records !== records) throw new Error(`chained ${head.records} records, timed ${records}`);
  return { part: 'cryptography', entriesPerRecord: ENTRIES_PER_RECORD, subjectsPerRecord: subjects / records, recordsPerSecond: records / wall, cpuUsPerRecord: (used.user + used.system) / records };
}

const crypto = cryptography();
if (values.json) console.log(JSON.stringify(crypto));
else
  console.log(
    `cryptography of a record of ${ENTRIES_PER_RECORD} entries about ${crypto.subjectsPerRecord.toFixed(1)} persons (subjects, chain hash, leaf with entry commitments): ` +
      `${crypto.cpuUsPerRecord.toFixed(1)} µs CPU per record`,
  );
for (const persons of values.persons.split(',').map(Number)) {
  for (const variant of Object.keys(VARIANTS) as Array<keyof typeof VARIANTS>) {
    const result = await run(variant, persons);
    if (values.json) console.log(JSON.stringify(result));
    else
      console.log(
        `${String(persons).padStart(8)} persons, ${variant.padEnd(40)} ${result.recordsPerSecond.toFixed(0).padStart(7)} records/s = ${result.entriesPerSecond.toFixed(0).padStart(7)} entries/s, ` +
          `${result.cpuUsPerRecord.toFixed(1)} µs CPU per record (${result.systemCpuUsPerRecord.toFixed(1)} system), ${result.msPerCommit.toFixed(2)} ms per commit of ${batch}, ${result.bodyBytes.toFixed(0)}-byte bodies`,
      );
  }
}
